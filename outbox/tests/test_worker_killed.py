"""A worker killed in the middle of a batch of 200 reminders: none is lost and at most one goes out twice.

The reminders are queued by the real `send_reminders`; a separate process delivers them over SMTP to a
sink on loopback (aiosmtpd) that takes a few milliseconds per message, and is killed with SIGKILL while
it is halfway through. Once its lease has run out, the next worker delivers the rest.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import os
import signal
import subprocess
import sys
import time

import pytest
from django.test import override_settings
from django.utils import timezone

from events import factories
from events import services as events_services
from home.factories import ResidentProfileFactory, VerifiedUserFactory
from home.tests.test_background import DATABASE_TASKS, REPO, manage_env, wait_for
from outbox import services
from outbox.models import Message
from outbox.tests.test_outbox import closed_port

REMINDERS = 200

DELIVER = """
import sys
sys.path.insert(0, "site")
import django
django.setup()
from django.conf import settings
settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", int(sys.argv[1]), 5
from outbox.services import deliver_due
print(deliver_due(limit=1000), flush=True)
"""


class Sink:
    """An SMTP server on 127.0.0.1 that counts each recipient and takes `delay` seconds per message."""

    def __init__(self, delay: float) -> None:
        from aiosmtpd.controller import Controller

        self.delay = delay
        self.received: collections.Counter[str] = collections.Counter()
        self.port = closed_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        await asyncio.sleep(self.delay)
        self.received.update(envelope.rcpt_tos)
        return "250 OK"

    def __enter__(self) -> Sink:
        self.controller.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.controller.stop()


def deliver(port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", DELIVER, str(port)],
        cwd=REPO,
        env=manage_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_during_200_reminders_loses_none_and_sends_at_most_one_twice(site_pages):
    pytest.importorskip("aiosmtpd")
    session = factories.SessionFactory(
        activity=factories.activity(), starts_at=timezone.now() + datetime.timedelta(hours=20), capacity=REMINDERS
    )
    residents = []
    with services.muted():  # their booking confirmations are not what this test is about
        for _ in range(REMINDERS):
            resident = VerifiedUserFactory()
            ResidentProfileFactory(user=resident, birth_year=1970)
            events_services.book_session(session=session, resident=resident, actor=resident)
            residents.append(resident)
    # The queued reminders wait for a worker (in the other tests the immediate backend delivers them at once).
    with override_settings(TASKS=DATABASE_TASKS):
        assert events_services.send_reminders() == REMINDERS
    assert Message.objects.filter(status=Message.Status.PENDING).count() == REMINDERS
    assert Message.objects.filter(kind__contains="reminder").count() == REMINDERS

    with Sink(delay=0.005) as sink:
        worker = deliver(sink.port)
        try:
            wait_for(
                lambda: sum(sink.received.values()) >= REMINDERS // 3 or worker.poll() is not None,
                seconds=120,
                what="a third to be sent",
            )
            assert worker.poll() is None, worker.communicate()[0]
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)
            worker.stdout.close()
        before_kill = sum(sink.received.values())
        assert before_kill < REMINDERS, "the worker finished before it was killed: the test proves nothing"
        assert Message.objects.filter(status=Message.Status.SENDING).exists()  # its batch, claimed, unfinished

        again = deliver(sink.port)
        output, _ = again.communicate(timeout=120)
        assert again.returncode == 0, output
        assert Message.objects.filter(status=Message.Status.SENT).count() < REMINDERS  # the lease still holds

        # The killed worker's lease runs out.
        Message.objects.filter(status=Message.Status.SENDING).update(lease_expires_at=timezone.now())
        again = deliver(sink.port)
        output, _ = again.communicate(timeout=120)
        assert again.returncode == 0, output
        deadline = time.monotonic() + 5
        while sum(sink.received.values()) < REMINDERS and time.monotonic() < deadline:
            time.sleep(0.05)

    addresses = {resident.email for resident in residents}
    assert set(sink.received) == addresses  # none lost
    twice = sum(count - 1 for count in sink.received.values())
    assert twice <= 1, f"{twice} reminders went out twice"
    assert all(count >= 1 for count in sink.received.values())
    assert Message.objects.filter(status=Message.Status.SENT).count() == REMINDERS
