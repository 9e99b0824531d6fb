"""The council's rules: sessions and agenda, roll call, quorum, recusals, voting, results, their mail and audit."""

import datetime

import icalendar
import pytest
from django.core import mail
from django.utils import timezone, translation
from wagtail.models import ModelLogEntry

from deliberation.council import services
from deliberation.council.factories import AgendaItemFactory, CouncilSessionFactory
from deliberation.council.models import (
    AgendaItem,
    Attendance,
    Ballot,
    Choice,
    CouncilSession,
    Participation,
    Recusal,
    Result,
    Vote,
    outcome_of,
)
from deliberation.council.services import CouncilError, NotAllowed
from deliberation.council.tests.council_helpers import (
    close_directly,
    new_council,
    open_item,
    running_session,
    sealed_choices,
    staff_of,
    stored_ballots,
)
from deliberation.mailbox.factories import TopicFactory, community_with_staff, resident, web_letter
from deliberation.mailbox.models import LetterEvent, Support, Topic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Error messages in English, as the assertions are; mail still goes out in each member's language."""
    with translation.override("en"):
        yield


@pytest.fixture
def council_seats(community):
    return new_council(community, members=7)


@pytest.fixture
def council(council_seats):
    return council_seats[0]


@pytest.fixture
def seats(council_seats):
    return council_seats[1]


@pytest.fixture
def chair(seats):
    return seats[0].user


@pytest.fixture
def secretary(seats):
    return seats[1].user


@pytest.fixture
def staff(council):
    return staff_of(council, username="staff-liuhe")


@pytest.fixture
def other_council(site_pages):
    return new_council(community_with_staff(name="望江社区", code="wangjiang"), members=3)


def draft(council, **fields):
    fields.setdefault("status", CouncilSession.Status.DRAFT)
    return CouncilSessionFactory(council=council, **fields)


def actions(instance) -> list[str]:
    return list(ModelLogEntry.objects.for_instance(instance).order_by("pk").values_list("action", flat=True))


def shortlisted_topic(community, staff, writer, title="增加小区停车位"):
    topic = TopicFactory(community=community, status=Topic.Status.SHORTLISTED, title=title)
    from deliberation.mailbox import services as mailbox

    mailbox.merge_letter(letter=web_letter(writer=writer, community=community), topic=topic, actor=staff)
    return topic


def attachments(message) -> list[icalendar.Calendar]:
    return [icalendar.Calendar.from_ical(content) for _name, content, _type in message.attachments]


# --- Roles ------------------------------------------------------------------------------------


def test_roles_follow_seats_terms_and_staff(council, seats, staff, other_council):
    session = draft(council)
    chair, secretary, member = seats[0].user, seats[1].user, seats[2].user
    assert services.member_of(council=council, user=member) == seats[2]
    assert services.member_of(council=council, user=other_council[1][0].user) is None
    assert services.member_of(council=council, user=staff) is None
    assert services.is_council_staff(staff, council) and not services.is_council_staff(chair, council)
    assert [services.can_chair(u, session) for u in (chair, secretary, member, staff)] == [True, False, False, True]
    assert [services.can_clerk(u, session) for u in (chair, secretary, member, staff)] == [True, True, False, True]
    seats[2].term_end = timezone.localdate() - datetime.timedelta(days=1)
    seats[2].save()
    assert services.member_of(council=council, user=member) is None
    assert services.member_of(council=council, user=member, on=timezone.localdate() - datetime.timedelta(days=2)) == seats[2]


# --- Sessions and agenda -------------------------------------------------------------------------


def soon(hours: int = 24 * 7):
    starts = timezone.now() + datetime.timedelta(hours=hours)
    return starts, starts + datetime.timedelta(hours=2)


def test_staff_create_a_draft_session_with_a_door_key(council, staff, chair):
    starts, ends = soon()
    session = services.create_session(
        council=council, actor=staff, title=" 三季度议事会 ", starts_at=starts, ends_at=ends, mode="hybrid", place="二楼"
    )
    assert session.status == CouncilSession.Status.DRAFT
    assert session.title == "三季度议事会" and len(session.door_key) >= 20
    assert session.created_by == staff
    assert actions(session) == ["council.session.create"]
    other = services.create_session(council=council, actor=staff, title="x", starts_at=starts, ends_at=ends, mode="online")
    assert other.door_key != session.door_key


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": " "}, "Give the session a title."),
        ({"ends_at": "start"}, "The session must end after it starts."),
        ({"mode": "phone"}, "Choose how the session meets"),
    ],
)
def test_a_bad_session_is_refused(council, staff, fields, message):
    starts, ends = soon()
    values = {"title": "议事会", "starts_at": starts, "ends_at": ends, "mode": "hybrid", **fields}
    if values["ends_at"] == "start":
        values["ends_at"] = starts
    with pytest.raises(CouncilError, match=message):
        services.create_session(council=council, actor=staff, **values)
    assert not CouncilSession.objects.exists()


def test_only_staff_create_sessions(council, chair):
    starts, ends = soon()
    with pytest.raises(NotAllowed):
        services.create_session(council=council, actor=chair, title="x", starts_at=starts, ends_at=ends, mode="hybrid")
    assert not CouncilSession.objects.exists()


def test_agenda_items_append_move_and_go(council, staff):
    session = draft(council)
    first, second, third = (
        services.add_item(session=session, actor=staff, title=t, motion="动议", rule="simple", ballot="open")
        for t in ("一", "二", "三")
    )
    assert [first.position, second.position, third.position] == [1, 2, 3]
    services.move_item(item=third, actor=staff, position=1)
    assert list(session.items.order_by("position").values_list("title", flat=True)) == ["三", "一", "二"]
    with pytest.raises(CouncilError, match="from 1 to 3"):
        services.move_item(item=third, actor=staff, position=4)
    services.remove_item(item=first, actor=staff)
    assert list(session.items.order_by("position").values_list("title", "position")) == [("三", 1), ("二", 2)]
    services.update_item(item=second, actor=staff, title="二（修改）", rule="two_thirds", ballot="secret")
    second.refresh_from_db()
    assert (second.title, second.rule, second.ballot) == ("二（修改）", "two_thirds", "secret")
    assert actions(session).count("council.agenda.edit") == 6


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": ""}, "Give the item a title."),
        ({"motion": "  "}, "Write the motion"),
        ({"rule": "unanimous"}, "Choose a voting rule."),
        ({"ballot": "raised_hands"}, "Choose an open or a secret ballot."),
    ],
)
def test_a_bad_item_is_refused(council, staff, fields, message):
    session = draft(council)
    values = {"title": "议题", "motion": "动议", "rule": "simple", "ballot": "open", **fields}
    with pytest.raises(CouncilError, match=message):
        services.add_item(session=session, actor=staff, **values)
    assert not session.items.exists()


def test_an_item_about_a_topic_needs_a_shortlisted_topic_of_the_community(council, community, staff, other_council):
    session = draft(council)
    item = {"title": "停车", "motion": "动议", "rule": "simple", "ballot": "open"}
    with pytest.raises(CouncilError, match="another community"):
        services.add_item(
            session=session, actor=staff, topic=TopicFactory(community=other_council[0].community, status="shortlisted"), **item
        )
    with pytest.raises(CouncilError, match="Only a shortlisted topic"):
        services.add_item(session=session, actor=staff, topic=TopicFactory(community=community, status="open"), **item)
    assert not session.items.exists()
    topic = TopicFactory(community=community, status="shortlisted")
    assert services.add_item(session=session, actor=staff, topic=topic, **item).topic == topic


def test_the_agenda_is_fixed_once_the_session_started(council, staff):
    session, (item,) = running_session(council, present=[])
    with pytest.raises(CouncilError, match="can no longer be changed"):
        services.add_item(session=session, actor=staff, title="x", motion="y", rule="simple", ballot="open")
    for change in (
        lambda: services.update_item(item=item, actor=staff, title="z"),
        lambda: services.move_item(item=item, actor=staff, position=1),
        lambda: services.remove_item(item=item, actor=staff),
        lambda: services.update_session(session=session, actor=staff, title="z"),
    ):
        with pytest.raises(CouncilError):
            change()
    assert session.items.get().title == item.title


def test_only_staff_edit_the_agenda(council, chair):
    session = draft(council)
    item = AgendaItemFactory(session=session, position=1)
    with pytest.raises(NotAllowed):
        services.add_item(session=session, actor=chair, title="x", motion="y", rule="simple", ballot="open")
    with pytest.raises(NotAllowed):
        services.remove_item(item=item, actor=chair)
    assert session.items.count() == 1


def test_announcing_invites_members_with_a_calendar_in_their_language(
    council, seats, staff, community, django_capture_on_commit_callbacks
):
    english = seats[3].user.profile
    english.preferred_language = "en"
    english.save()
    session = draft(council)
    with pytest.raises(CouncilError, match="at least one item"):
        services.announce_session(session=session, actor=staff)
    AgendaItemFactory(session=session, position=1)
    with pytest.raises(NotAllowed):
        services.announce_session(session=session, actor=seats[0].user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.announce_session(session=session, actor=staff)
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.ANNOUNCED and session.announced_at
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.user.email for s in seats)
    by_address = {m.to[0]: m for m in mail.outbox}
    assert by_address[english.user.email].subject.endswith("Invitation to the council session: Third-quarter council session")
    assert "/en/me/council/sessions/" in by_address[english.user.email].body
    chinese = by_address[seats[2].user.email]
    assert "第三季度居民议事会" in chinese.subject and "/zh-hans/me/council/sessions/" in chinese.body
    (calendar,) = attachments(chinese)
    assert calendar["method"] == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"council-session-{session.pk}@linli"
    assert event.decoded("dtstart") == session.starts_at.replace(microsecond=0)
    assert str(event["attendee"]) == f"mailto:{seats[2].user.email}"
    assert str(event["organizer"]).startswith("mailto:noreply@")
    assert len(event.walk("VALARM")) == 1
    assert mail.outbox[0].attachments[0][2] == "text/calendar; method=REQUEST"
    assert actions(session) == ["council.session.announce"]
    with pytest.raises(CouncilError, match="Only a draft session"):
        services.announce_session(session=session, actor=staff)


def test_announcing_schedules_the_topics_and_tells_writers_and_supporters_once(
    council, seats, staff, community, django_capture_on_commit_callbacks
):
    writer = resident(community, user__username="writer")
    supporter = resident(community, user__username="supporter", preferred_language="en")
    first = shortlisted_topic(community, staff, writer)
    second = shortlisted_topic(community, staff, writer, title="加装电梯")
    Support.objects.create(topic=first, resident=supporter)
    Support.objects.create(topic=first, resident=writer)  # writes and supports: still one message
    session = draft(council)
    AgendaItemFactory(session=session, position=1, topic=first)
    AgendaItemFactory(session=session, position=2, topic=second)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.announce_session(session=session, actor=staff)
    for topic in (first, second):
        topic.refresh_from_db()
        assert topic.status == Topic.Status.SCHEDULED
    steps = LetterEvent.objects.filter(kind=LetterEvent.Kind.TOPIC_STATUS, topic_status=Topic.Status.SCHEDULED)
    assert steps.count() == 2  # the writer's letters each get their timeline step (mailed by the mailbox)
    to_writer = [m for m in mail.outbox if m.to == [writer.email] and not m.subject.startswith("您的来信")]
    assert len(to_writer) == 1, [m.subject for m in mail.outbox if m.to == [writer.email]]
    to_supporter = [m for m in mail.outbox if m.to == [supporter.email]]
    assert len(to_supporter) == 1
    assert to_supporter[0].subject.endswith("Your concern is on the council's agenda: Third-quarter council session")
    assert first.title in to_supporter[0].body and second.title not in to_supporter[0].body
    assert first.title in to_writer[0].body and second.title in to_writer[0].body
    assert "/zh-hans/council/sessions/" in to_writer[0].body


def test_a_changed_time_is_mailed_again_once_announced(council, seats, staff, django_capture_on_commit_callbacks):
    session = draft(council)
    AgendaItemFactory(session=session, position=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_session(session=session, actor=staff, title_en="Autumn session")
    assert mail.outbox == []
    services.announce_session(session=session, actor=staff)
    mail.outbox.clear()
    later = session.starts_at + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_session(session=session, actor=staff, title="秋季议事会")
    assert mail.outbox == []  # a new title alone is not worth a message
    with django_capture_on_commit_callbacks(execute=True):
        services.update_session(session=session, actor=staff, starts_at=later, ends_at=later + datetime.timedelta(hours=1))
    assert len(mail.outbox) == len(seats)
    (calendar,) = attachments(mail.outbox[0])
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"council-session-{session.pk}@linli"
    assert event.decoded("dtstart") == later.replace(microsecond=0)
    with pytest.raises(CouncilError, match="must end after it starts"):
        services.update_session(session=session, actor=staff, ends_at=later)
    session.refresh_from_db()
    assert session.ends_at == later + datetime.timedelta(hours=1)


def test_members_are_reminded_the_day_before_once(council, seats, staff, django_capture_on_commit_callbacks):
    tomorrow = CouncilSessionFactory(council=council, status="announced", starts_at=timezone.now() + datetime.timedelta(hours=20))
    CouncilSessionFactory(council=council, status="announced", starts_at=timezone.now() + datetime.timedelta(days=3))
    CouncilSessionFactory(council=council, status="draft", starts_at=timezone.now() + datetime.timedelta(hours=20))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_session_reminders() == 1
        assert services.send_session_reminders() == 0
    assert len(mail.outbox) == len(seats)
    assert "Tomorrow" in mail.outbox[0].subject or "明天" in mail.outbox[0].subject
    tomorrow.refresh_from_db()
    assert tomorrow.reminded_at is not None
    AgendaItemFactory(session=tomorrow, position=1)
    later = tomorrow.starts_at + datetime.timedelta(hours=2)
    services.update_session(session=tomorrow, actor=staff, starts_at=later, ends_at=later + datetime.timedelta(hours=2))
    tomorrow.refresh_from_db()
    assert tomorrow.reminded_at is None  # moved: reminded again the day before the new time
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_session_reminders() == 1
    assert len(mail.outbox) == len(seats)


def test_cancelling_tells_members_and_puts_topics_back(council, seats, community, staff, django_capture_on_commit_callbacks):
    topic = shortlisted_topic(community, staff, resident(community, user__username="writer"))
    session = draft(council)
    AgendaItemFactory(session=session, position=1, topic=topic)
    services.announce_session(session=session, actor=staff)
    with pytest.raises(CouncilError, match="Give the reason"):
        services.cancel_session(session=session, actor=staff, reason=" ")
    with pytest.raises(NotAllowed):
        services.cancel_session(session=session, actor=seats[0].user, reason="台风")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_session(session=session, actor=staff, reason="台风")
    session.refresh_from_db()
    topic.refresh_from_db()
    assert session.status == CouncilSession.Status.CANCELLED
    assert topic.status == Topic.Status.SHORTLISTED
    to_members = [m for m in mail.outbox if m.attachments]
    assert len(to_members) == len(seats)
    assert "台风" in to_members[0].body
    (calendar,) = attachments(to_members[0])
    assert calendar["method"] == "CANCEL" and calendar.walk("VEVENT")[0]["status"] == "CANCELLED"
    assert actions(session)[-1] == "council.session.cancel"


def test_the_chair_or_staff_start_an_announced_session(council, seats, staff):
    session = CouncilSessionFactory(council=council, status="announced")
    with pytest.raises(NotAllowed):
        services.start_session(session=session, actor=seats[1].user)
    services.start_session(session=session, actor=seats[0].user)
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.IN_SESSION and session.opened_at
    with pytest.raises(CouncilError, match="Only an announced session"):
        services.start_session(session=session, actor=staff)
    assert actions(session) == ["council.session.start"]


# --- Roll call ------------------------------------------------------------------------------------


def test_check_in_at_the_door_needs_the_right_key_and_is_idempotent(council, seats):
    session, _items = running_session(council, present=[])
    member = seats[3].user
    for forged in ("forged", "", "签到码", session.door_key.upper()):  # not ASCII: refused, no TypeError
        with pytest.raises(CouncilError, match="expired or is not this session's"):
            services.check_in(session=session, user=member, method="qr", door_key=forged)
    assert not Attendance.objects.exists()
    first = services.check_in(session=session, user=member, method="qr", door_key=session.door_key)
    again = services.check_in(session=session, user=member, method="online")
    assert again.pk == first.pk and again.method == "qr"
    assert Attendance.objects.count() == 1
    assert actions(session) == ["council.attendance"]


def test_starting_the_session_changes_the_door_key(council, seats):
    session = CouncilSessionFactory(
        council=council, status="announced", starts_at=timezone.now() + datetime.timedelta(minutes=30)
    )
    before = session.door_key
    assert services.check_in(session=session, user=seats[2].user, method="qr", door_key=before)  # arriving early
    services.start_session(session=session, actor=seats[0].user)
    session.refresh_from_db()
    assert session.door_rotation == 1 and session.door_key != before
    with pytest.raises(CouncilError, match="expired"):
        services.check_in(session=session, user=seats[3].user, method="qr", door_key=before)
    assert services.check_in(session=session, user=seats[3].user, method="qr", door_key=session.door_key)
    assert Attendance.objects.filter(session=session).count() == 2


def test_a_door_key_works_only_on_the_session_day(council, seats):
    """A session the chair never ended: its code (a photo of the door) no longer checks anyone in days later."""
    starts = timezone.now() - datetime.timedelta(days=3)
    session = CouncilSessionFactory(council=council, status="in_session", starts_at=starts, opened_at=starts)
    day = timezone.localdate(session.starts_at).isoformat()
    with pytest.raises(CouncilError, match=f"expired: it works only on the day of the session \\({day}\\)"):
        services.check_in(session=session, user=seats[3].user, method="qr", door_key=session.door_key)
    assert not Attendance.objects.exists()


def test_a_door_key_before_the_session_day_is_not_valid_yet(council):
    # What the door page says to a member who opens the link days early (check-in itself opens an hour before).
    session = CouncilSessionFactory(council=council, status="announced", starts_at=timezone.now() + datetime.timedelta(days=3))
    day = timezone.localdate(session.starts_at).isoformat()
    with pytest.raises(CouncilError, match=f"not valid yet: it works only on the day of the session \\({day}\\)"):
        services.check_door_key(session=session, door_key=session.door_key, now=timezone.now())


def test_a_door_key_belongs_to_one_session_and_its_day(council):
    session, other = CouncilSessionFactory(council=council), CouncilSessionFactory(council=council)
    key = session.door_key
    assert len(key) == 22 and key != other.door_key and key == CouncilSession.objects.get(pk=session.pk).door_key
    session.starts_at += datetime.timedelta(days=1)  # moved to another day: the code printed for the first is void
    assert session.door_key != key


def test_online_check_in_only_in_session_and_not_in_person(council, seats):
    session, _items = running_session(council, present=[], mode="in_person")
    with pytest.raises(CouncilError, match="meets in person"):
        services.check_in(session=session, user=seats[3].user, method="online")
    upcoming = CouncilSessionFactory(council=council, status="announced", mode="online")
    with pytest.raises(CouncilError, match="Online check-in opens when the chair starts"):
        services.check_in(session=upcoming, user=seats[3].user, method="online")
    with pytest.raises(CouncilError, match="meets online"):
        services.check_in(session=upcoming, user=seats[3].user, method="qr", door_key=upcoming.door_key)
    assert not Attendance.objects.exists()


def test_door_check_in_opens_an_hour_before_the_start(council, seats):
    session = CouncilSessionFactory(council=council, status="announced", starts_at=timezone.now() + datetime.timedelta(hours=3))
    with pytest.raises(CouncilError, match="opens an hour before"):
        services.check_in(session=session, user=seats[3].user, method="qr", door_key=session.door_key)
    session.starts_at = timezone.now() + datetime.timedelta(minutes=30)
    session.save()
    assert services.check_in(session=session, user=seats[3].user, method="qr", door_key=session.door_key)
    closed = CouncilSessionFactory(council=council, status="closed", starts_at=timezone.now() - datetime.timedelta(hours=1))
    with pytest.raises(CouncilError):
        services.check_in(session=closed, user=seats[3].user, method="qr", door_key=closed.door_key)


def test_only_current_members_of_this_council_check_in(council, seats, other_council, community, staff):
    session, _items = running_session(council, present=[])
    former = seats[4]  # their term ended the day before the session (which may have begun before midnight)
    former.term_end = services.session_day(session) - datetime.timedelta(days=1)
    former.save()
    for outsider in (resident(community, user__username="neighbour"), other_council[1][0].user, former.user, staff):
        with pytest.raises(NotAllowed, match="Only current members"):
            services.check_in(session=session, user=outsider, method="online")
    assert not Attendance.objects.exists()


def test_the_secretary_marks_members_present(council, seats, community):
    session, _items = running_session(council, present=[])
    secretary, member = seats[1].user, seats[5].user
    with pytest.raises(NotAllowed):
        services.check_in(session=session, user=member, method="secretary", actor=seats[4].user)
    with pytest.raises(CouncilError, match="not a current member"):
        services.check_in(session=session, user=resident(community), method="secretary", actor=secretary)
    attendance = services.check_in(session=session, user=member, method="secretary", actor=secretary)
    assert (attendance.member, attendance.method, attendance.recorded_by) == (seats[5], "secretary", secretary)


def test_quorum_counts_current_members_and_leaves_out_the_recused(council, seats, community):
    session, (item,) = running_session(council, present=seats[:4])
    assert services.session_quorum(session=session) == services.Quorum(members=7, recused=0, present=4, needed=4, met=True)
    Recusal.objects.create(item=item, member=seats[0])  # present and recused: counts neither way
    Recusal.objects.create(item=item, member=seats[6])
    assert services.quorum(item=item) == services.Quorum(members=5, recused=2, present=3, needed=3, met=True)
    council.quorum = council.Quorum.TWO_THIRDS
    council.save()
    assert services.quorum(item=item) == services.Quorum(members=5, recused=2, present=3, needed=4, met=False)
    assert services.session_quorum(session=session).needed == 5


# --- Opening a vote ------------------------------------------------------------------------------


def test_only_the_chair_or_staff_open_a_vote(council, seats, staff):
    session, (item,) = running_session(council, present=seats[:5])
    for not_chair in (seats[1].user, seats[2].user):
        with pytest.raises(NotAllowed):
            services.open_voting(item=item, actor=not_chair)
    item.refresh_from_db()
    assert item.status == AgendaItem.Status.PENDING
    closes = timezone.now() + datetime.timedelta(minutes=10)
    services.open_voting(item=item, actor=seats[0].user, closes_at=closes)
    item.refresh_from_db()
    assert (item.status, item.opened_by, item.closes_at) == (AgendaItem.Status.OPEN, seats[0].user, closes)
    assert actions(item) == ["council.vote.open"]


def test_voting_does_not_open_without_quorum(council, seats):
    session, (item,) = running_session(council, present=seats[:3])
    with pytest.raises(CouncilError, match="No quorum: 3 of 7 members are present, 4 are needed."):
        services.open_voting(item=item, actor=seats[0].user)
    item.refresh_from_db()
    assert item.status == AgendaItem.Status.PENDING


def test_one_item_at_a_time_in_a_running_session(council, seats):
    session, (first, second) = running_session(council, present=seats[:5], items=2)
    chair = seats[0].user
    with pytest.raises(CouncilError, match="must be in the future"):
        services.open_voting(item=first, actor=chair, closes_at=timezone.now() - datetime.timedelta(seconds=1))
    services.open_voting(item=first, actor=chair)
    with pytest.raises(CouncilError, match="one item is voted on at a time"):
        services.open_voting(item=second, actor=chair)
    with pytest.raises(CouncilError, match="already been opened"):
        services.open_voting(item=first, actor=chair)
    upcoming = CouncilSessionFactory(council=council, status="announced")
    with pytest.raises(CouncilError, match="only while the session is in progress"):
        services.open_voting(item=AgendaItemFactory(session=upcoming, position=1), actor=chair)


# --- Casting votes ---------------------------------------------------------------------------------


def test_an_open_vote_is_cast_and_changed_in_place(council, seats):
    session, (item,) = running_session(council, present=seats[:5])
    open_item(session)
    member = seats[2].user
    assert services.my_choice(item=item, user=member) is None and not services.has_voted(item=item, user=member)
    assert services.cast_vote(item=item, user=member, choice="yes") == ""
    assert services.my_choice(item=item, user=member) == "yes" and services.has_voted(item=item, user=member)
    vote = Vote.objects.get()
    assert vote.changed_at is None and vote.member == seats[2]
    services.cast_vote(item=item, user=member, choice="no")
    vote.refresh_from_db()
    assert (vote.choice, Vote.objects.count()) == ("no", 1) and vote.changed_at is not None


def refused_vote(item, user, choice="yes", error=CouncilError, match=None, receipt=""):
    before = (Vote.objects.count(), Participation.objects.count(), stored_ballots())
    with pytest.raises(error, match=match):
        services.cast_vote(item=item, user=user, choice=choice, receipt=receipt)
    assert before == (Vote.objects.count(), Participation.objects.count(), stored_ballots())


@pytest.mark.parametrize("ballot", ["open", "secret"])
def test_votes_are_refused_with_a_clear_message_and_change_nothing(council, seats, other_council, community, staff, ballot):
    session, (item, later) = running_session(council, present=seats[:6], items=2, ballot=ballot)
    refused_vote(item, seats[2].user, match="Voting on this item is not open.")  # pending
    open_item(session)
    refused_vote(item, seats[2].user, choice="maybe", match="Choose in favour, against or abstain.")
    refused_vote(item, resident(community), error=NotAllowed, match="Only current members")
    refused_vote(item, other_council[1][0].user, error=NotAllowed, match="Only current members")
    refused_vote(item, staff, error=NotAllowed, match="Only current members")
    refused_vote(item, seats[6].user, match="Check in to the session before voting.")
    Recusal.objects.create(item=item, member=seats[5])
    refused_vote(item, seats[5].user, match="conflict of interest")
    refused_vote(later, seats[2].user, match="not open")
    item.closes_at = timezone.now() - datetime.timedelta(seconds=1)
    item.save()
    refused_vote(item, seats[2].user, match="not open")
    item.closes_at = None
    close_directly(item)
    refused_vote(item, seats[2].user, match="not open")


def test_a_secret_vote_changes_only_with_its_receipt(council, seats):
    session, (item,) = running_session(council, present=seats[:5], ballot="secret")
    open_item(session)
    member = seats[2].user
    receipt = services.cast_vote(item=item, user=member, choice="yes")
    assert len(receipt) >= 32
    ballot = Ballot.objects.get()
    assert ballot.choice == "" and receipt.encode() not in bytes(ballot.sealed) and sealed_choices(item) == ["yes"]
    assert services.my_choice(item=item, user=member) is None and services.has_voted(item=item, user=member)
    assert services.my_secret_choice(item=item, receipt=receipt) == "yes"
    assert services.cast_vote(item=item, user=member, choice="no", receipt=receipt) == receipt
    assert sealed_choices(item) == ["no"] and services.my_secret_choice(item=item, receipt=receipt) == "no"
    assert not Ballot.objects.filter(pk=ballot.pk).exists()  # written again under a new key
    refused_vote(item, member, choice="abstain", match="already voted by secret ballot on another device")
    refused_vote(item, member, choice="abstain", receipt="guessed", match="another device")
    other = services.cast_vote(item=item, user=seats[3].user, choice="yes")
    # A receipt is no use on another item, nor to another member who has not voted (they get their own ballot).
    assert (Participation.objects.count(), Ballot.objects.count()) == (2, 2)
    assert other != receipt


def test_the_secretary_records_votes_of_members_in_the_room(council, seats, staff):
    session, (item, secret) = running_session(council, present=seats[:5], items=2)
    secret.ballot = "secret"
    secret.save()
    open_item(session)
    secretary = seats[1].user
    with pytest.raises(NotAllowed):
        services.record_vote(item=item, member=seats[3], choice="yes", actor=seats[4].user)
    with pytest.raises(CouncilError, match="Check in"):
        services.record_vote(item=item, member=seats[6], choice="yes", actor=secretary)
    services.record_vote(item=item, member=seats[3], choice="yes", actor=secretary)
    vote = Vote.objects.get()
    assert (vote.member, vote.choice, vote.recorded_by) == (seats[3], "yes", secretary)
    services.record_vote(item=item, member=seats[3], choice="no", actor=secretary)  # corrected by the secretary
    services.cast_vote(item=item, user=seats[3].user, choice="abstain")  # the member then votes themselves
    vote.refresh_from_db()
    assert (vote.choice, vote.recorded_by) == ("abstain", None)
    with pytest.raises(CouncilError, match="already voted on their own device"):
        services.record_vote(item=item, member=seats[3], choice="yes", actor=secretary)
    vote.refresh_from_db()
    assert vote.choice == "abstain"
    assert actions(item) == ["council.vote.record", "council.vote.record"]
    item.status = AgendaItem.Status.CLOSED
    item.save()
    open_item(session, position=2)
    services.record_vote(item=secret, member=seats[4], choice="abstain", actor=staff)
    assert Participation.objects.get().recorded_by == staff
    assert sealed_choices(secret) == ["abstain"]
    with pytest.raises(CouncilError, match="already voted by secret ballot"):
        services.record_vote(item=secret, member=seats[4], choice="yes", actor=staff)


def test_no_recorded_votes_in_an_online_session(council, seats):
    session, (item,) = running_session(council, present=seats[:5], mode="online")
    open_item(session)
    with pytest.raises(CouncilError, match="online session"):
        services.record_vote(item=item, member=seats[3], choice="yes", actor=seats[1].user)
    assert not Vote.objects.exists()


def test_a_member_of_another_council_cannot_be_recorded(council, seats, other_council):
    session, (item,) = running_session(council, present=seats[:5])
    open_item(session)
    with pytest.raises(CouncilError, match="not a current member"):
        services.record_vote(item=item, member=other_council[1][1], choice="yes", actor=seats[1].user)
    assert not Vote.objects.exists()


# --- Recusals --------------------------------------------------------------------------------------


def test_a_member_declares_a_recusal_before_voting(council, seats):
    session, (item,) = running_session(council, present=seats[:5])
    recusal = services.declare_recusal(item=item, user=seats[3].user, reason="  我家车位在此 ")
    assert (recusal.member, recusal.reason, recusal.recorded_by) == (seats[3], "我家车位在此", None)
    with pytest.raises(CouncilError, match="already been declared"):
        services.declare_recusal(item=item, user=seats[3].user)
    assert actions(item) == ["council.recusal"]


@pytest.mark.parametrize("ballot", ["open", "secret"])
def test_a_recusal_after_the_member_voted_is_refused_and_the_vote_stays(council, seats, ballot):
    session, (item,) = running_session(council, present=seats[:5], ballot=ballot)
    open_item(session)
    services.cast_vote(item=item, user=seats[3].user, choice="yes")
    services.record_vote(item=item, member=seats[4], choice="no", actor=seats[1].user)
    with pytest.raises(CouncilError, match="already voted on this item"):
        services.declare_recusal(item=item, user=seats[3].user)
    with pytest.raises(CouncilError, match="already voted on this item"):
        services.record_recusal(item=item, member=seats[4], actor=seats[1].user, reason="亲属")
    assert not Recusal.objects.exists()
    votes = Vote if ballot == "open" else Participation
    assert votes.objects.filter(item=item).count() == 2
    assert "council.recusal" not in actions(item)


def test_the_secretary_records_a_recusal_for_a_member_in_the_room(council, seats, staff):
    session, (item, second) = running_session(council, present=seats[:5], items=2)
    secretary = seats[1].user
    recusal = services.record_recusal(item=item, member=seats[3], actor=secretary, reason="承包方是我家亲戚")
    assert (recusal.member, recusal.reason, recusal.recorded_by) == (seats[3], "承包方是我家亲戚", secretary)
    entry = ModelLogEntry.objects.for_instance(item).get(action="council.recusal")
    assert (entry.user, entry.data) == (secretary, {"member": seats[3].pk, "recorded_by": secretary.pk})
    assert services.quorum(item=item).recused == 1
    with pytest.raises(CouncilError, match="Give the reason"):
        services.record_recusal(item=second, member=seats[4], actor=staff, reason="  ")
    services.record_recusal(item=second, member=seats[4], actor=staff, reason="亲属")  # the chair or staff too
    # A plain member may not record one for someone else; nor may anyone for a member who is not in the room.
    with pytest.raises(NotAllowed):
        services.record_recusal(item=second, member=seats[2], actor=seats[3].user, reason="亲属")
    with pytest.raises(CouncilError, match="Mark the member present first"):
        services.record_recusal(item=second, member=seats[6], actor=secretary, reason="亲属")
    assert Recusal.objects.count() == 2


def test_no_recorded_recusal_in_an_online_session(council, seats):
    session, (item,) = running_session(council, present=seats[:5], mode=CouncilSession.Mode.ONLINE)
    with pytest.raises(CouncilError, match="on their own device"):
        services.record_recusal(item=item, member=seats[3], actor=seats[1].user, reason="亲属")
    services.declare_recusal(item=item, user=seats[3].user)
    assert Recusal.objects.count() == 1


def test_a_recusal_is_withdrawn_by_the_member_or_the_secretary_before_voting_opens(council, seats):
    session, (item,) = running_session(council, present=seats[:5])
    own = services.declare_recusal(item=item, user=seats[3].user)
    recorded = services.record_recusal(item=item, member=seats[4], actor=seats[1].user, reason="亲属")
    with pytest.raises(NotAllowed):
        services.withdraw_recusal(recusal=own, actor=seats[2].user)  # another member
    services.withdraw_recusal(recusal=own, actor=seats[3].user)
    services.withdraw_recusal(recusal=recorded, actor=seats[1].user)
    assert not Recusal.objects.exists()
    assert actions(item) == ["council.recusal"] * 2 + ["council.recusal.withdraw"] * 2
    # Withdrawn, the member votes again: in the quorum, and their vote counts.
    assert services.quorum(item=item).recused == 0
    again = services.declare_recusal(item=item, user=seats[3].user)
    open_item(session)
    with pytest.raises(CouncilError, match="has opened"):
        services.withdraw_recusal(recusal=again, actor=seats[3].user)
    assert Recusal.objects.filter(pk=again.pk).exists()


def test_votes_cast_counts_present_members_who_voted_never_how(council, seats):
    session, (item,) = running_session(council, present=seats[:5])
    services.declare_recusal(item=item, user=seats[4].user)
    open_item(session)
    assert services.votes_cast(item=item) == (0, 4)
    services.cast_vote(item=item, user=seats[2].user, choice="yes")
    services.cast_vote(item=item, user=seats[3].user, choice="no")
    services.cast_vote(item=item, user=seats[3].user, choice="yes")  # a change is not a second vote
    assert services.votes_cast(item=item) == (2, 4)
    Attendance.objects.create(session=session, member=seats[5], method=Attendance.Method.ONLINE)
    assert services.votes_cast(item=item) == (2, 5)


def test_votes_cast_on_a_secret_ballot(council, seats):
    session, (item,) = running_session(council, present=seats[:5], ballot="secret")
    open_item(session)
    services.cast_vote(item=item, user=seats[2].user, choice="yes")
    services.record_vote(item=item, member=seats[3], choice="no", actor=seats[1].user)
    assert services.votes_cast(item=item) == (2, 5)


def test_no_recusal_after_a_secret_vote_or_the_close(council, seats, community):
    session, (item,) = running_session(council, present=seats[:5], ballot="secret")
    open_item(session)
    services.cast_vote(item=item, user=seats[3].user, choice="yes")
    with pytest.raises(CouncilError, match="already voted on this item"):
        services.declare_recusal(item=item, user=seats[3].user)
    with pytest.raises(NotAllowed):
        services.declare_recusal(item=item, user=resident(community))
    close_directly(item)
    with pytest.raises(CouncilError, match="Voting on this item is over"):
        services.declare_recusal(item=item, user=seats[4].user)
    assert not Recusal.objects.exists() and Ballot.objects.count() == 1


# --- Rules and results -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "yes", "no", "members", "outcome"),
    [
        # Simple majority of votes cast: abstentions count for nothing, a tie fails.
        ("simple", 3, 2, 7, "passed"),
        ("simple", 2, 2, 7, "failed"),
        ("simple", 1, 0, 7, "passed"),
        ("simple", 0, 0, 7, "failed"),
        # Absolute majority of members (after recusals): more than half must say yes.
        ("absolute", 4, 0, 7, "passed"),
        ("absolute", 3, 0, 7, "failed"),
        ("absolute", 3, 3, 6, "failed"),
        ("absolute", 4, 2, 6, "passed"),
        # Two-thirds of members, rounded up: 5 of 7, 4 of 6, 2 of 3.
        ("two_thirds", 5, 2, 7, "passed"),
        ("two_thirds", 4, 0, 7, "failed"),
        ("two_thirds", 4, 0, 6, "passed"),
        ("two_thirds", 2, 1, 3, "passed"),
        ("two_thirds", 0, 0, 0, "failed"),
    ],
)
def test_the_voting_rules(rule, yes, no, members, outcome):
    assert outcome_of(rule=rule, yes=yes, no=no, members=members, quorum_met=True) == outcome
    assert outcome_of(rule=rule, yes=yes, no=no, members=members, quorum_met=False) == "no_quorum"


def vote_all(item, seats_and_choices):
    for seat, choice in seats_and_choices:
        services.cast_vote(item=item, user=seat.user, choice=choice)


@pytest.mark.parametrize(
    ("rule", "choices", "outcome"),
    [
        ("simple", ["yes", "yes", "no", "abstain", "abstain"], "passed"),  # 2:1, abstentions ignored
        ("simple", ["yes", "no", "abstain", "abstain", "abstain"], "failed"),  # tie
        ("absolute", ["yes", "yes", "yes", "abstain", "abstain"], "failed"),  # 3 of 7 is not more than half
        ("absolute", ["yes", "yes", "yes", "yes", "no"], "passed"),
        ("two_thirds", ["yes", "yes", "yes", "yes", "abstain"], "failed"),  # 4 < 5 of 7
        ("two_thirds", ["yes", "yes", "yes", "yes", "yes"], "passed"),
    ],
)
def test_closing_counts_applies_the_rule_and_stores_the_result(council, seats, rule, choices, outcome):
    session, (item,) = running_session(council, present=seats[:5], rule=rule)
    chair = seats[0].user
    services.open_voting(item=item, actor=chair)
    vote_all(item, zip(seats, choices, strict=False))
    result = services.close_voting(item=item, actor=chair)
    counted = {c: choices.count(c) for c in Choice.values}
    assert (result.yes, result.no, result.abstain) == (counted["yes"], counted["no"], counted["abstain"])
    assert (result.members, result.present, result.recused, result.quorum_needed) == (7, 5, 0, 4)
    assert (result.outcome, result.rule, result.ballot, result.sequence) == (outcome, rule, "open", 1)
    assert result.previous_digest == "0" * 64 and result.digest == services.result_digest(result)
    assert result.closed_by == chair
    item.refresh_from_db()
    assert (item.status, item.closed_by) == (AgendaItem.Status.CLOSED, chair)
    assert actions(item) == ["council.vote.open", "council.vote.close"]
    assert actions(result) == ["council.result.store"]


def test_recused_members_count_neither_as_members_nor_present(council, seats):
    session, (item,) = running_session(council, present=seats[:5], rule="absolute")
    services.declare_recusal(item=item, user=seats[4].user)
    services.declare_recusal(item=item, user=seats[6].user)
    services.open_voting(item=item, actor=seats[0].user)
    vote_all(item, [(seats[0], "yes"), (seats[1], "yes"), (seats[2], "yes"), (seats[3], "no")])
    result = services.close_voting(item=item, actor=seats[0].user)
    assert (result.members, result.present, result.recused, result.quorum_needed) == (5, 4, 2, 3)
    assert result.outcome == "passed"  # 3 of 5 members


def test_a_secret_ballot_is_counted_from_the_ballots(council, seats):
    session, (item,) = running_session(council, present=seats[:5], ballot="secret")
    open_item(session)
    receipts = [services.cast_vote(item=item, user=s.user, choice="no") for s in seats[:4]]
    services.cast_vote(item=item, user=seats[0].user, choice="yes", receipt=receipts[0])
    result = services.close_voting(item=item, actor=seats[0].user)
    assert (result.yes, result.no, result.abstain, result.ballot, result.outcome) == (1, 3, 0, "secret", "failed")


def test_no_quorum_at_the_close_means_no_result_either_way(council, seats):
    session, (item,) = running_session(council, present=seats[:4])
    services.open_voting(item=item, actor=seats[0].user)
    vote_all(item, [(s, "yes") for s in seats[:4]])
    Attendance.objects.filter(session=session, member=seats[3]).delete()  # a member left the room
    result = services.close_voting(item=item, actor=seats[0].user)
    assert (result.outcome, result.yes, result.present, result.quorum_needed) == ("no_quorum", 4, 3, 4)


def test_results_chain_per_council(council, seats, other_council):
    session, items = running_session(council, present=seats[:5], items=3)
    elsewhere, (their_item,) = running_session(other_council[0], present=other_council[1])
    results = []
    for item in items:
        open_item(session, position=item.position)
        results.append(services.close_voting(item=item, actor=seats[0].user))
    open_item(elsewhere)
    theirs = services.close_voting(item=their_item, actor=other_council[1][0].user)
    assert [r.sequence for r in results] == [1, 2, 3] and theirs.sequence == 1
    assert [r.previous_digest for r in results] == ["0" * 64, results[0].digest, results[1].digest]
    assert theirs.previous_digest == "0" * 64
    assert services.verify_results() == []


def test_closing_is_for_the_chair_or_after_the_closing_time(council, seats, staff):
    session, (item, timed) = running_session(council, present=seats[:5], items=2)
    open_item(session)
    with pytest.raises(NotAllowed):
        services.close_voting(item=item, actor=seats[1].user)
    with pytest.raises(CouncilError, match="no closing time"):
        services.close_voting(item=item)
    assert not Result.objects.exists()
    services.close_voting(item=item, actor=staff)
    with pytest.raises(CouncilError, match="not open"):
        services.close_voting(item=item, actor=staff)
    closes = timezone.now() + datetime.timedelta(minutes=5)
    open_item(session, position=2, closes_at=closes)
    assert services.close_due_items() == 0
    with pytest.raises(CouncilError, match="no closing time"):
        services.close_voting(item=timed)
    assert services.close_due_items(now=closes) == 1
    timed.refresh_from_db()
    assert timed.status == AgendaItem.Status.CLOSED and timed.closed_by is None
    assert timed.result.closed_at == closes and timed.result.sequence == 2
    assert services.close_due_items(now=closes) == 0


def test_a_stored_result_cannot_be_saved_again_or_deleted(council, seats):
    session, (item,) = running_session(council, present=seats[:5])
    open_item(session)
    result = services.close_voting(item=item, actor=seats[0].user)
    result.yes = 99
    with pytest.raises(ValueError, match="cannot be changed"):
        result.save()
    with pytest.raises(ValueError, match="cannot be deleted"):
        result.delete()
    assert Result.objects.get().yes == 0


# --- Ending a session ------------------------------------------------------------------------------


def test_ending_after_the_vote_is_closed_awards_attendance_points(council, seats, staff):
    from points.models import LedgerEntry

    session, (item,) = running_session(council, present=seats[:4])
    open_item(session)
    with pytest.raises(NotAllowed):
        services.end_session(session=session, actor=seats[1].user)
    with pytest.raises(CouncilError, match="still open"):
        services.end_session(session=session, actor=seats[0].user)
    services.close_voting(item=item, actor=seats[0].user)
    services.end_session(session=session, actor=seats[0].user)
    session.refresh_from_db()
    item.refresh_from_db()
    assert session.status == CouncilSession.Status.CLOSED and session.closed_at
    assert item.status == AgendaItem.Status.CLOSED and item.result.outcome == "failed"
    earned = LedgerEntry.objects.filter(source_key__startswith="deliberation.attendance:")
    assert sorted(earned.values_list("account__resident", flat=True)) == sorted(s.user.pk for s in seats[:4])
    assert set(earned.values_list("amount", flat=True)) == {5}
    assert "council.session.close" in actions(session)
    with pytest.raises(CouncilError, match="Only a session in progress"):
        services.end_session(session=session, actor=staff)


def test_ending_without_an_active_points_rule_still_ends(council, seats):
    from points.models import EarningRule, LedgerEntry
    from points.services import ensure_builtin_rules

    ensure_builtin_rules()
    EarningRule.objects.filter(code="council_attendance").update(active=False)
    session, _items = running_session(council, present=seats[:4])
    services.end_session(session=session, actor=seats[0].user)
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.CLOSED
    assert not LedgerEntry.objects.exists()


def test_ending_calls_the_minutes_and_closing_calls_the_follow_up(council, seats, monkeypatch):
    from deliberation.followup import services as followup

    calls = []
    monkeypatch.setattr(followup, "result_stored", lambda *, result, actor: calls.append(("result", result.pk, actor)))
    monkeypatch.setattr(followup, "generate_minutes", lambda *, session, actor: calls.append(("minutes", session.pk, actor)))
    session, (item,) = running_session(council, present=seats[:4])
    open_item(session)
    with pytest.raises(services.CouncilError, match="still open"):
        services.end_session(session=session, actor=seats[0].user)  # a vote is never closed by ending
    assert calls == []
    services.close_voting(item=item, actor=seats[0].user)
    services.end_session(session=session, actor=seats[0].user)
    assert calls == [("result", item.result.pk, seats[0].user), ("minutes", session.pk, seats[0].user)]


def test_agenda_changes_after_the_announcement_schedule_and_unschedule_topics(
    council, community, staff, django_capture_on_commit_callbacks
):
    writer = resident(community, user__username="writer")
    topic = shortlisted_topic(community, staff, writer)
    session = draft(council)
    AgendaItemFactory(session=session, position=1)
    services.announce_session(session=session, actor=staff)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        item = services.add_item(
            session=session, actor=staff, title="停车", motion="动议", rule="simple", ballot="open", topic=topic
        )
    topic.refresh_from_db()
    assert topic.status == Topic.Status.SCHEDULED
    assert [m.to for m in mail.outbox if "议事会" in m.subject and not m.subject.startswith("您的来信")] == [[writer.email]]
    # The same topic on a second announced session stays scheduled when it leaves the first one.
    other = draft(council)
    AgendaItemFactory(session=other, position=1, topic=topic)
    services.announce_session(session=other, actor=staff)
    services.remove_item(item=item, actor=staff)
    topic.refresh_from_db()
    assert topic.status == Topic.Status.SCHEDULED
    services.cancel_session(session=other, actor=staff, reason="改期")
    topic.refresh_from_db()
    assert topic.status == Topic.Status.SHORTLISTED


def test_the_council_tasks_are_periodic_and_do_their_work(council, seats):
    from deliberation.council import tasks
    from plumbing.periodic import registered

    periodic = {task.name: task.every for task in registered()}
    assert periodic["deliberation.council.tasks.send_council_reminders"] == datetime.timedelta(minutes=15)
    assert periodic["deliberation.council.tasks.close_due_council_votes"] == datetime.timedelta(minutes=1)
    session, (item,) = running_session(council, present=seats[:5])
    open_item(session, closes_at=timezone.now() - datetime.timedelta(seconds=1))
    assert tasks.close_due_council_votes.enqueue().return_value == 1
    item.refresh_from_db()
    assert item.status == AgendaItem.Status.CLOSED
    CouncilSessionFactory(council=council, status="announced", starts_at=timezone.now() + datetime.timedelta(hours=3))
    assert tasks.send_council_reminders.enqueue().return_value == 1


def test_changing_an_items_topic_after_the_announcement_moves_the_schedule(
    council, community, staff, django_capture_on_commit_callbacks
):
    writer = resident(community, user__username="writer")
    first, second = shortlisted_topic(community, staff, writer), shortlisted_topic(community, staff, writer, title="加装电梯")
    session = draft(council)
    item = AgendaItemFactory(session=session, position=1, topic=first)
    services.announce_session(session=session, actor=staff)
    with pytest.raises(CouncilError, match="another community|Only a shortlisted topic"):
        services.update_item(item=item, actor=staff, topic=TopicFactory(community=community, status="open"))
    with django_capture_on_commit_callbacks(execute=True):
        services.update_item(item=item, actor=staff, topic=second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Topic.Status.SHORTLISTED, Topic.Status.SCHEDULED)


def test_unknown_fields_and_methods_are_refused(council, seats, staff):
    session, (item,) = running_session(council, present=[])
    with pytest.raises(TypeError):
        services.update_session(session=draft(council), actor=staff, status="closed")
    with pytest.raises(TypeError):
        services.update_item(item=item, actor=staff, status="open")
    with pytest.raises(CouncilError, match="Unknown way of checking in"):
        services.check_in(session=session, user=seats[2].user, method="telepathy")
    assert not Attendance.objects.exists()


def test_a_change_seen_by_visitors_renews_the_page_cache_when_it_commits(council, seats, django_capture_on_commit_callbacks):
    """The scheduler closes votes with no view around it: the service itself renews anonymous visitors' pages."""
    from plumbing.middleware import generation

    session, (item,) = running_session(council, present=seats[:5])
    closes = timezone.now() + datetime.timedelta(minutes=5)
    open_item(session, closes_at=closes)
    before = generation.current()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.close_due_items(now=closes) == 1
    assert callbacks and generation.current() != before
    before = generation.current()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(CouncilError):
        services.close_voting(item=item, actor=seats[0].user)  # refused: nothing changed, nothing renewed
    assert generation.current() == before
