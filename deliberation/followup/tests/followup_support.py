"""Helpers and fixtures of the follow-up tests: councils with a session held, topics with writers and
supporters, and results stored directly through the ORM (the voting services compute them; here
nothing is computed, any digest will do, sequences are unique per council).

Test modules bind the fixtures they use by name (`council = followup_support.council`).
"""

import datetime
import secrets

import pytest
from django.utils import timezone

from deliberation.council.factories import AgendaItemFactory, CouncilSessionFactory, council_with_members
from deliberation.council.models import AgendaItem, Attendance, CouncilMember, CouncilSession, Result
from deliberation.followup import services as followup
from deliberation.followup.models import Decision
from deliberation.mailbox.factories import LetterFactory, TopicFactory, resident, staff_member
from deliberation.mailbox.models import Letter, Support, Topic


def seats(council) -> list[CouncilMember]:
    return list(council.members.select_related("user").order_by("pk"))


def held_session(council, *, present: int = 5, status=CouncilSession.Status.CLOSED, **fields) -> CouncilSession:
    """A session that took place an hour ago with the first `present` members checked in."""
    starts = timezone.now() - datetime.timedelta(hours=3)
    fields.setdefault("starts_at", starts)
    fields.setdefault("ends_at", starts + datetime.timedelta(hours=2))
    session = CouncilSessionFactory(council=council, status=status, **fields)
    for seat in seats(council)[:present]:
        Attendance.objects.create(session=session, member=seat, method=Attendance.Method.ONLINE)
    return session


def store_result(item: AgendaItem, *, outcome=Result.Outcome.PASSED, yes=4, no=1, abstain=0, closed_at=None) -> Result:
    council = item.session.council
    present = Attendance.objects.filter(session=item.session).count()
    sequence = Result.objects.filter(council=council).count() + 1
    item.status, item.closed_at = AgendaItem.Status.CLOSED, closed_at or timezone.now()
    item.save(update_fields=["status", "closed_at"])
    return Result.objects.create(
        item=item,
        council=council,
        sequence=sequence,
        rule=item.rule,
        ballot=item.ballot,
        members=council.members.count(),
        present=present,
        recused=0,
        quorum_needed=council.members.count() // 2 + 1,
        yes=yes,
        no=no,
        abstain=abstain,
        outcome=outcome,
        closed_at=item.closed_at,
        previous_digest="0" * 64,
        digest=secrets.token_hex(32),
    )


def decide(item: AgendaItem, *, actor=None, **result_fields) -> Decision | None:
    """Store a result and run what the voting services run in the same transaction."""
    result = store_result(item, **result_fields)
    return followup.result_stored(result=result, actor=actor)


def chair_of(council) -> CouncilMember:
    return council.members.get(role=CouncilMember.Role.CHAIR)


def secretary_of(council) -> CouncilMember:
    return council.members.get(role=CouncilMember.Role.SECRETARY)


@pytest.fixture
def council(community):
    return council_with_members(members=7, community=community, notice_days=5)


@pytest.fixture
def staff(community):
    return staff_member(community, username="staff-liuhe")


@pytest.fixture
def session(council):
    return held_session(council, present=5)


@pytest.fixture
def topic(community):
    return TopicFactory(community=community, status=Topic.Status.SCHEDULED)


@pytest.fixture
def people(community, topic):
    """A Chinese-reading writer (who also supports), an English-reading supporter, a writer without an account."""
    writer = resident(community, display_name="王小明")
    supporter = resident(community, display_name="Anna", preferred_language="en")
    LetterFactory(writer=writer, community=community, topic=topic, status=Letter.Status.MERGED)
    LetterFactory(
        writer=None,
        community=community,
        topic=topic,
        status=Letter.Status.MERGED,
        contact="guest@example.com",
        language="en",
        access_key="k" * 16,
    )
    Support.objects.create(topic=topic, resident=writer)
    Support.objects.create(topic=topic, resident=supporter)
    return writer, supporter


@pytest.fixture
def item(session, topic):
    return AgendaItemFactory(session=session, topic=topic, position=1)
