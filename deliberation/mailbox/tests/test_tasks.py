"""The mailbox's background tasks are registered with the scheduler and do their work."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from deliberation.mailbox import tasks
from deliberation.mailbox.factories import community_with_staff, resident, web_letter
from deliberation.mailbox.models import LetterEvent
from plumbing.periodic import registered

pytestmark = pytest.mark.django_db


def test_the_periodic_tasks_are_registered():
    periodic = {task.name: task.every for task in registered()}
    assert periodic["deliberation.mailbox.tasks.fetch_mailbox"] == datetime.timedelta(minutes=5)
    assert periodic["deliberation.mailbox.tasks.send_pending_letter_events"] == datetime.timedelta(minutes=10)
    assert periodic["deliberation.mailbox.tasks.escalate_overdue_letters"] == datetime.timedelta(hours=1)


def test_fetching_is_off_without_a_mailbox(settings):
    settings.LINLI_MAILBOX_IMAP = {"HOST": ""}
    assert tasks.fetch_mailbox.enqueue().return_value == "no mailbox configured"


def test_pending_timeline_mails_are_sent_by_the_task(site_pages, django_capture_on_commit_callbacks):
    community = community_with_staff(code="liuhe")
    letter = web_letter(writer=resident(community), community=community)  # no on_commit here: the mail was never sent
    LetterEvent.objects.filter(letter=letter).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_pending_letter_events.enqueue().return_value == 1
    assert len(mail.outbox) == 1
