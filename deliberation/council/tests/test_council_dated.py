"""A session recorded afterwards (the demo street's past session, a session held on paper): each step of the
services dated to when it happened with `now=` (follow-up actions with `today=`), never in the future."""

import datetime

import pytest
from django.utils import timezone, translation

from deliberation.council import services as voting
from deliberation.council.factories import council_with_members
from deliberation.council.models import AgendaItem, Attendance, CouncilSession
from deliberation.followup import services as followup
from deliberation.followup.models import Decision, FollowUpAction
from deliberation.mailbox.factories import community_with_staff, staff_member

pytestmark = pytest.mark.django_db


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):  # the refusals are matched in English
        yield


@pytest.fixture
def council(site_pages):
    return council_with_members(members=5, community=community_with_staff(name="六和社区", code="liuhe"))


def test_a_past_session_carries_the_times_of_its_steps_and_its_chain_verifies(council):
    staff = staff_member(council.community)
    members = [seat.user for seat in council.members.select_related("user").order_by("pk")]
    chair, secretary = members[0], members[1]
    today = timezone.localdate()
    day = today - datetime.timedelta(days=30)
    prepared = at(day - datetime.timedelta(days=10), 9)
    session = voting.create_session(
        council=council,
        actor=staff,
        title="第三季度居民议事会",
        starts_at=at(day, 19),
        ends_at=at(day, 21),
        mode=CouncilSession.Mode.IN_PERSON,
        now=prepared,
    )
    item = voting.add_item(
        session=session, actor=staff, title="加装电梯", motion="同意加装电梯。", rule=AgendaItem.Rule.SIMPLE, ballot="open"
    )
    voting.announce_session(session=session, actor=staff, now=prepared)
    voting.start_session(session=session, actor=chair, now=at(day, 19))
    for user in members:
        voting.check_in(session=session, user=user, method="secretary", actor=secretary, now=at(day, 18, 55))
    voting.open_voting(item=item, actor=chair, now=at(day, 19, 5))
    for user in members:
        voting.cast_vote(item=item, user=user, choice="yes")
    voting.close_voting(item=item, actor=chair, now=at(day, 19, 20))
    voting.end_session(session=session, actor=chair, now=at(day, 21))

    session.refresh_from_db()
    item.refresh_from_db()
    assert (session.announced_at, session.opened_at, session.closed_at) == (prepared, at(day, 19), at(day, 21))
    assert set(Attendance.objects.filter(session=session).values_list("checked_in_at", flat=True)) == {at(day, 18, 55)}
    assert item.opened_at == at(day, 19, 5) and item.result.closed_at == at(day, 19, 20)
    assert voting.verify_results() == []

    decision = Decision.objects.get(item=item)
    assert decision.status == Decision.Status.NOTICE and decision.notice_until < today
    took_effect = decision.notice_until + datetime.timedelta(days=1)
    assert followup.take_effect_due(today=took_effect, now=at(took_effect, 9)) == 1
    decision.refresh_from_db()
    assert decision.status == Decision.Status.IN_EFFECT and decision.effective_at == at(took_effect, 9)

    # Agreed at the session, due ten days ago: overdue, which an action added today could not be.
    action = followup.add_action(
        decision=decision,
        actor=staff,
        description="安装冲洗水龙头",
        party=FollowUpAction.Party.RESIDENTS_COMMITTEE,
        due_on=today - datetime.timedelta(days=10),
        today=day,
    )
    assert action.is_overdue()
    with pytest.raises(followup.FollowUpError, match="past"):
        followup.add_action(
            decision=decision,
            actor=staff,
            description="安装排水槽",
            party=FollowUpAction.Party.RESIDENTS_COMMITTEE,
            due_on=day - datetime.timedelta(days=1),
            today=day,
        )


def test_no_step_is_dated_in_the_future_or_a_start_before_its_own_time(council):
    staff = staff_member(council.community)
    chair = council.members.order_by("pk").first().user
    later = timezone.now() + datetime.timedelta(hours=1)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    fields = {"council": council, "actor": staff, "title": "议事会", "mode": CouncilSession.Mode.IN_PERSON}
    with pytest.raises(ValueError, match="not in the future"):
        voting.create_session(**fields, starts_at=at(tomorrow, 19), ends_at=at(tomorrow, 21), now=later)
    last_week = timezone.localdate() - datetime.timedelta(days=7)
    with pytest.raises(voting.CouncilError, match="start time has passed"):
        voting.create_session(**fields, starts_at=at(last_week, 19), ends_at=at(last_week, 21), now=at(last_week, 20))
    session = voting.create_session(**fields, starts_at=at(tomorrow, 19), ends_at=at(tomorrow, 21))
    voting.add_item(session=session, actor=staff, title="议题", motion="同意。", rule=AgendaItem.Rule.SIMPLE, ballot="open")
    with pytest.raises(ValueError, match="not in the future"):
        voting.announce_session(session=session, actor=staff, now=later)
    voting.announce_session(session=session, actor=staff)
    with pytest.raises(ValueError, match="not in the future"):
        voting.start_session(session=session, actor=chair, now=later)
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.ANNOUNCED and session.opened_at is None
