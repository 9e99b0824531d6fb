"""The mailbox's and councils' periodic jobs are safe to run twice: the second run sends nothing, changes no row."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from deliberation.council import tasks as council_tasks
from deliberation.council.factories import CouncilSessionFactory
from deliberation.followup import services as followup
from deliberation.followup import tasks as followup_tasks
from deliberation.followup.models import FollowUpAction
from deliberation.followup.tests import followup_support
from deliberation.followup.tests.followup_support import decide
from deliberation.mailbox import tasks
from deliberation.mailbox.factories import LetterFactory, staff_member
from tests.twice import run_twice

pytestmark = pytest.mark.django_db

council = followup_support.council
staff = followup_support.staff
session = followup_support.session
topic = followup_support.topic
item = followup_support.item


def test_escalating_overdue_letters_twice_tells_the_heads_once(community, django_capture_on_commit_callbacks):
    staff_member(community, head=True, email="head@example.com")
    for _ in range(2):
        LetterFactory(community=community, received_at=timezone.now() - datetime.timedelta(days=30))
    mail.outbox.clear()

    assert run_twice(tasks.escalate_overdue_letters, on_commit=django_capture_on_commit_callbacks) == (2, 0, 0, [])
    assert [message.to for message in mail.outbox] == [["head@example.com"]] * 2


def test_escalating_overdue_actions_twice_tells_the_heads_once(item, staff, community, django_capture_on_commit_callbacks):
    staff_member(community, head=True, username="head-liuhe", email="head@example.com")
    decision = decide(item)
    action = followup.add_action(
        decision=decision,
        actor=staff,
        description="施划",
        party="property_management",
        due_on=timezone.localdate() + datetime.timedelta(days=7),
    )
    FollowUpAction.objects.filter(pk=action.pk).update(due_on=timezone.localdate() - datetime.timedelta(days=1))
    mail.outbox.clear()

    assert run_twice(followup_tasks.escalate_overdue_actions, on_commit=django_capture_on_commit_callbacks) == (1, 0, 0, [])
    assert [message.to for message in mail.outbox] == [["head@example.com"]]


def test_council_reminders_twice_remind_the_members_once(council, django_capture_on_commit_callbacks):
    CouncilSessionFactory(council=council, status="announced", starts_at=timezone.now() + datetime.timedelta(hours=20))
    mail.outbox.clear()

    assert run_twice(council_tasks.send_council_reminders, on_commit=django_capture_on_commit_callbacks) == (1, 0, 0, [])
    assert len(mail.outbox) == council.members.count() == 7
