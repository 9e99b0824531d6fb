"""The outbox: queued with the change, delivered by a worker with a lease, a timeout, retries and a failed state."""

import datetime
import socket
import threading
import time

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from events import factories
from events.models import Booking
from home.factories import ResidentProfileFactory, VerifiedUserFactory
from home.scope import for_user
from home.services import create_community
from outbox import services
from outbox.models import Message

SMTP = "django.core.mail.backends.smtp.EmailBackend"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture
def resident(community):
    user = VerifiedUserFactory()
    ResidentProfileFactory(user=user, community=community, birth_year=1980, preferred_language="en")
    user.refresh_from_db()
    return user


def queue(number: int = 1, **fields) -> Message:
    values = {
        "kind": "test.note",
        "address": f"person{number}@example.com",
        "subject": f"Note {number}",
        "body": "Hello",
        "language": "en",
        "idempotency_key": f"test.note:{number}",
    }
    return services.queue_message(**(values | fields))


def time_passes() -> None:
    """The backoff is over: every waiting message is due again."""
    Message.objects.filter(status=Message.Status.PENDING).update(next_attempt_at=timezone.now())


def test_a_message_queued_in_a_rolled_back_transaction_does_not_exist(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue()
        raise RuntimeError("the change failed")
    assert not Message.objects.exists()


def test_the_same_key_queues_one_message(db):
    first = queue(subject="First")
    again = queue(subject="Second")
    assert again.pk == first.pk and Message.objects.get().subject == "First"


def test_seeding_demo_content_queues_nothing(db):
    with services.muted():
        assert queue() is None
    assert not Message.objects.exists()


def test_a_booking_with_smtp_refusing_succeeds_and_is_delivered_once_mail_works(
    client, resident, site_pages, django_capture_on_commit_callbacks
):
    session = factories.SessionFactory(activity=factories.activity(), capacity=2)
    client.force_login(resident)
    with override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1", EMAIL_PORT=closed_port(), EMAIL_TIMEOUT=1):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/en/activities/sessions/{session.pk}/book/", {"participant": "me"})
    assert response.status_code == 302 and response["Location"] == "/en/me/bookings/"
    booking = Booking.objects.get()
    message = Message.objects.get(idempotency_key=f"events.booking_made:{booking.pk}")
    assert message.status == Message.Status.PENDING and message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error
    assert message.next_attempt_at > timezone.now()
    assert services.deliver_due() == 0  # not yet due: it waits for the backoff

    time_passes()  # the mail server is back (locmem)
    assert services.deliver_due() == 1
    assert services.deliver_due() == 0
    (sent,) = mail.outbox
    assert sent.to == [resident.email] and sent.subject.endswith(message.subject[-20:])
    assert sent.attachments[0][0] == f"linli-{booking.code}.ics"
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.sent_at is not None and message.last_error == ""


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_nothing_is_sent_inside_the_request(client, resident, site_pages, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from events.services import follow_up_task

    session = factories.SessionFactory(activity=factories.activity(), capacity=2)
    client.force_login(resident)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/en/activities/sessions/{session.pk}/book/", {"participant": "me"}).status_code == 302
    # The request decides the seat and asks a worker for the rest: the booking's follow-up queues the message.
    assert mail.outbox == [] and not Message.objects.exists()
    assert DBTaskResult.objects.filter(task_path="events.services.follow_up_task").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert follow_up_task.call() == 1  # as the worker runs it
    assert mail.outbox == []
    message = Message.objects.get()
    (task,) = DBTaskResult.objects.filter(task_path="outbox.services.deliver")
    assert task.args_kwargs["kwargs"] == {"message_ids": [message.pk]}


class HangingServer:
    """Accepts connections on loopback and never says a word, like a stuck mail server."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                conn, _address = self.socket.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.socket.close()
        for conn in self.accepted:
            conn.close()
        self.thread.join(timeout=2)


def test_a_hanging_mail_server_costs_one_timeout_per_run_and_the_messages_wait_for_the_next(db):
    for number in range(5):
        queue(number)
    server = HangingServer()
    try:
        with override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1", EMAIL_PORT=server.port, EMAIL_TIMEOUT=1):
            started = time.monotonic()
            assert services.deliver_due() == 0
            elapsed = time.monotonic() - started
    finally:
        server.close()
    assert elapsed < 2.5  # one EMAIL_TIMEOUT, not one per message
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.Status.PENDING, 1)}
    assert all("timed out" in error for error in Message.objects.values_list("last_error", flat=True))
    time_passes()
    assert services.deliver_due() == 5 and len(mail.outbox) == 5


def test_retries_back_off_then_the_message_is_failed_and_staff_can_resend_it(db, resident, community):
    message = queue(recipient=resident, address=resident.email)
    delays = []
    with override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1", EMAIL_PORT=closed_port(), EMAIL_TIMEOUT=1):
        for _attempt in range(services.MAX_ATTEMPTS):
            before = timezone.now()
            services.deliver_due()
            message.refresh_from_db()
            if message.status == Message.Status.PENDING:
                delays.append(round((message.next_attempt_at - before).total_seconds() / 60))
            time_passes()
    assert delays == [1, 2, 4, 8, 16, 32, 60]
    assert message.status == Message.Status.FAILED and message.attempts == services.MAX_ATTEMPTS
    assert "ConnectionRefusedError" in message.last_error
    assert services.deliver_due() == 0

    staff = VerifiedUserFactory()
    staff.groups.add(community.editors)
    other = create_community(name="江南社区", code="jiangnan", name_en="Jiangnan")
    stranger = VerifiedUserFactory()
    stranger.groups.add(other.editors)
    assert list(services.visible_messages(scope=for_user(stranger))) == []
    with pytest.raises(PermissionDenied):
        services.resend_message(message=message, actor=stranger)
    services.resend_message(message=message, actor=staff)
    assert services.deliver_due() == 1 and len(mail.outbox) == 1
    with pytest.raises(services.OutboxError):
        services.resend_message(message=message, actor=staff)  # sent: nothing to resend


def test_a_message_whose_worker_was_killed_mid_send_is_sent_once_more_after_its_lease(db):
    message = queue()
    assert services.claim_due(limit=10, worker="killed") == [message.pk]  # the worker dies before sending
    assert services.deliver_due() == 0  # the lease still holds
    Message.objects.update(lease_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert services.deliver_due() == 1
    assert services.deliver_due() == 0
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.claimed_by == ""


def test_a_worker_that_lost_its_lease_does_not_send(db):
    message = queue()
    services.claim_due(limit=10, worker="slow")
    Message.objects.update(lease_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert services.deliver_due() == 1  # another worker takes the message over and sends it
    assert services._deliver([message.pk], "slow") == 0  # the first one wakes up: no longer its message
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_deliver_every_message_exactly_once(site_pages):
    count = 200
    Message.objects.bulk_create(  # queued by earlier requests; no worker has run yet
        Message(
            kind="test.note",
            address=f"person{n}@example.com",
            subject="Note",
            body="Hello",
            language="en",
            idempotency_key=f"test.note:{n}",
        )
        for n in range(count)
    )
    barrier = threading.Barrier(2)
    sent: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            sent.append(services.deliver_due(limit=count))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(sent) == count
    assert sorted(message.to[0] for message in mail.outbox) == sorted(f"person{n}@example.com" for n in range(count))
    assert Message.objects.filter(status=Message.Status.SENT).count() == count


def test_the_worker_runs_every_minute():
    from plumbing.periodic import registered

    (deliver,) = [periodic for periodic in registered() if periodic.name == "outbox.services.deliver"]
    assert deliver.every == datetime.timedelta(minutes=1)


def test_staff_list_their_residents_messages_and_send_a_failed_one_again(client, resident, community):
    failed = queue(recipient=resident, address=resident.email)
    Message.objects.filter(pk=failed.pk).update(status=Message.Status.FAILED, last_error="ConnectionRefusedError")
    stranger_message = queue(2)  # to nobody of this community
    staff = VerifiedUserFactory()
    staff.groups.add(community.editors)
    client.force_login(staff)
    listing = client.get(reverse("outbox:index") + "?status=failed")
    assert listing.status_code == 200
    content = listing.content.decode()
    assert resident.email in content and stranger_message.address not in content
    resend = reverse("outbox_resend", args=[failed.pk])
    assert resend in content
    assert client.get(reverse("outbox_resend", args=[stranger_message.pk]), follow=True).status_code == 404
    assert client.get(resend).status_code == 200
    response = client.post(resend)
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status in (Message.Status.PENDING, Message.Status.SENT)


@override_settings(LINLI_OUTBOX_STALLED_MINUTES=15)
def test_the_readiness_check_reports_a_stalled_outbox(client, db):
    assert client.get("/healthz/outbox").json() == {"status": "ok", "oldest_pending_seconds": 0}
    message = queue()  # no worker has delivered it (its transaction is the test's, never committed)
    assert Message.objects.get(pk=message.pk).status == Message.Status.PENDING
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=14))
    assert client.get("/healthz/outbox").status_code == 200
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=16))
    response = client.get("/healthz/outbox")
    assert response.status_code == 503 and response.json()["status"] == "stalled"
    assert response.json()["oldest_pending_seconds"] >= 16 * 60
    assert client.get("/healthz").status_code == 200  # the portal itself still serves


def test_a_batch_renews_its_lease_and_sends_nothing_another_worker_took_over(db, monkeypatch):
    first, second, third = queue(1), queue(2), queue(3)
    assert services.claim_due(limit=10, worker="slow") == [first.pk, second.pk, third.pk]
    clock = [timezone.now()]
    monkeypatch.setattr(timezone, "now", lambda: clock[0])
    sent, taken = [], []

    class StallingChannel:
        """Stalls on the first message past the lease; meanwhile another worker takes the second one over."""

        def send(self, message):
            sent.append(message.pk)
            if message.pk == first.pk:
                clock[0] += services.LEASE + datetime.timedelta(seconds=1)
                taken.extend(services.claim_due(limit=1, worker="other", message_ids=[second.pk], now=clock[0]))

        def close(self):
            pass

    monkeypatch.setitem(services.BACKENDS, Message.Channel.EMAIL, StallingChannel)
    assert services._deliver([first.pk, second.pk, third.pk], "slow") == 2
    assert taken == [second.pk]
    assert sent == [first.pk, third.pk]  # the second is the other worker's now: not sent twice
    assert Message.objects.get(pk=second.pk).claimed_by == "other"
    assert Message.objects.get(pk=third.pk).status == Message.Status.SENT
