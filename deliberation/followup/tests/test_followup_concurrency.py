"""The follow-up's concurrency claims, proven on PostgreSQL with real threads and separate connections."""

import datetime

import pytest
from django.utils import timezone
from wagtail.models import ModelLogEntry

from deliberation.council.factories import AgendaItemFactory, council_with_members
from deliberation.followup import services as followup
from deliberation.followup.models import Decision, MinutesConfirmation, Objection
from deliberation.followup.tests.followup_support import decide, held_session, seats
from deliberation.mailbox.factories import community_with_staff, resident, staff_member
from deliberation.mailbox.tests.test_concurrency import run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def council(postgres_only, site_pages):
    return council_with_members(members=7, community=community_with_staff(code="liuhe"))


def test_one_resident_objecting_four_times_at_once_files_one_objection(council):
    decision = decide(AgendaItemFactory(session=held_session(council), position=1))
    person = resident(council.community)
    results, errors = run_together(4, lambda i: followup.file_objection(decision=decision, resident=person, text=f"不同意{i}"))
    assert len(results) == 1 and len(errors) == 3
    assert all(isinstance(error, followup.FollowUpError) for error in errors)
    assert Objection.objects.count() == 1


def test_members_confirming_at_once_each_count_once(council):
    session = held_session(council, present=5)
    AgendaItemFactory(session=session, position=1)
    followup.generate_minutes(session=session, actor=None)
    present = seats(council)[:5]
    # Every member present clicks twice at once.
    results, errors = run_together(10, lambda i: followup.confirm_minutes(session=session, user=present[i % 5].user))
    assert len(results) == 5 and len(errors) == 5
    assert MinutesConfirmation.objects.filter(session=session).count() == 5


def test_the_last_two_actions_completed_at_once_complete_the_decision_once(council):
    staff = staff_member(council.community)
    decision = decide(AgendaItemFactory(session=held_session(council), position=1))
    Decision.objects.filter(pk=decision.pk).update(status=Decision.Status.IN_EFFECT, effective_at=timezone.now())
    due = timezone.localdate() + datetime.timedelta(days=5)
    actions = [
        followup.add_action(decision=decision, actor=staff, description=f"行动{i}", party="street_office", due_on=due)
        for i in range(2)
    ]
    results, errors = run_together(2, lambda i: followup.report_progress(action=actions[i], actor=staff, progress=100))
    assert errors == [] and len(results) == 2
    decision.refresh_from_db()
    assert decision.status == Decision.Status.COMPLETED
    assert ModelLogEntry.objects.filter(action="followup.decision.complete").count() == 1
