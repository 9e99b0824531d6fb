"""The events audit trail: every change a person makes to a session or a booking is one entry in Wagtail's
audit log with its actor, and staff read a session's history (and each booking's) on the roster."""

import datetime

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from wagtail.models import ModelLogEntry, PageLogEntry
from wagtail.users.models import UserProfile

from events import audit, factories, services
from events.models import Booking, Session
from home.scope import NotStaff

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(community):
    return factories.activity(title="六和剪纸课", slug="liuhe-paper-cutting", community=community)


@pytest.fixture
def session(activity):
    """Starting within the hour, so that the door's check-in is open."""
    starts = timezone.now() + datetime.timedelta(minutes=30)
    return factories.SessionFactory(activity=activity, capacity=2, starts_at=starts, ends_at=starts + datetime.timedelta(hours=2))


def book(session, resident) -> Booking:
    return services.book_session(session=session, resident=resident, actor=resident)[0]


class Recorded:
    """The audit entries written inside the `with` block."""

    def __enter__(self):
        self.after = ModelLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        return self

    def __exit__(self, *exc):
        self.entries = list(ModelLogEntry.objects.filter(pk__gt=self.after).select_related("user").order_by("pk"))

    @property
    def only(self) -> ModelLogEntry:
        assert len(self.entries) == 1, [entry.action for entry in self.entries]
        return self.entries[0]


def is_about(entry: ModelLogEntry, instance) -> bool:
    return entry.content_type.model_class() is type(instance) and entry.object_id == str(instance.pk)


def test_every_action_is_registered_with_a_label_in_both_languages():
    from wagtail.log_actions import registry

    for action, (label, message) in audit.ACTIONS.items():
        assert registry.action_exists(action)
        with translation.override("zh-hans"):
            chinese = (str(label), str(message))
        assert chinese[0] != str(label) and chinese[1] != str(message), action
    with pytest.raises(ValueError):
        audit.record(Session(pk=1), "events.unknown", actor=None, title="x")


def test_a_residents_own_booking_and_cancellation_are_recorded_as_theirs(session, resident):
    with Recorded() as booked:
        booking = book(session, resident)
    entry = booked.only
    assert (entry.action, entry.user, entry.data["status"]) == ("events.booking.book", resident, "confirmed")
    assert is_about(entry, booking) and "六和剪纸课" in entry.label and resident.profile.display_name not in entry.label

    with Recorded() as cancelled:
        services.cancel_booking(booking=booking, actor=resident)
    entry = cancelled.only
    assert (entry.action, entry.user) == ("events.booking.cancel", resident) and is_about(entry, booking)


def test_staff_booking_for_a_resident_and_a_walk_in_are_recorded_with_the_staff_member(session, staff, resident):
    with Recorded() as for_resident:
        booking = services.book_session(session=session, resident=resident, actor=staff)[0]
    assert (for_resident.only.action, for_resident.only.user) == ("events.booking.book_for_resident", staff)
    assert is_about(for_resident.only, booking)

    with Recorded() as walk_in:
        booking = services.book_walk_in(session=session, actor=staff, name="王阿姨", phone="13800000000")
    assert (walk_in.only.action, walk_in.only.user) == ("events.booking.walk_in", staff)
    assert is_about(walk_in.only, booking)


def test_a_staff_cancellation_that_moves_someone_up_is_one_entry(session, staff, make_resident):
    first, second, waiting = (book(session, make_resident()) for _ in range(3))
    assert waiting.status == Booking.Status.WAITLISTED
    with Recorded() as cancelled:
        services.cancel_booking(booking=first, actor=staff)
    entry = cancelled.only
    assert (entry.action, entry.user, entry.data["promoted"]) == ("events.booking.cancel", staff, [waiting.pk])
    assert entry.data["late"] is False


def test_promoting_changing_seats_cancelling_and_emailing_are_recorded(
    session, staff, make_resident, django_capture_on_commit_callbacks
):
    people = [make_resident() for _ in range(3)]
    bookings = [book(session, person) for person in people]
    Session.objects.filter(pk=session.pk).update(capacity=3)  # as if a seat were added outside the service
    with Recorded() as promoted:
        services.promote_from_waitlist(booking=bookings[2], actor=staff)
    assert (promoted.only.action, promoted.only.user) == ("events.booking.promote", staff)
    assert is_about(promoted.only, bookings[2])

    session.refresh_from_db()
    with Recorded() as seats:
        services.change_capacity(session=session, capacity=5, actor=staff)
    assert (seats.only.action, seats.only.user) == ("events.session.capacity", staff)
    assert (seats.only.data["before"], seats.only.data["after"]) == (3, 5) and is_about(seats.only, session)

    with django_capture_on_commit_callbacks(execute=True), Recorded() as mailed:
        services.email_participants(session=session, actor=staff, subject="改地点", message="改在二楼。")
    assert (mailed.only.action, mailed.only.user, mailed.only.data["recipients"]) == ("events.session.email", staff, 3)

    with django_capture_on_commit_callbacks(execute=True), Recorded() as cancelled:
        services.cancel_session(session=session, actor=staff, reason="停电")
    assert (cancelled.only.action, cancelled.only.user, cancelled.only.data["reason"]) == ("events.session.cancel", staff, "停电")


def test_check_in_and_its_undoing_are_recorded_and_a_repeated_scan_is_not(session, staff, resident):
    booking = book(session, resident)
    with Recorded() as checked:
        services.check_in(session=session, code=booking.code, actor=staff)
    assert (checked.only.action, checked.only.user) == ("events.booking.check_in", staff) and is_about(checked.only, booking)
    with Recorded() as again:
        assert services.check_in(session=session, code=booking.code, actor=staff).repeated
    assert again.entries == []
    with Recorded() as undone:
        services.undo_check_in(booking=booking, actor=staff)
    assert (undone.only.action, undone.only.user) == ("events.booking.undo_check_in", staff)


def test_a_draw_is_recorded_with_who_ran_it_or_as_the_systems(community, staff, make_resident):
    lottery = factories.activity(title="热门烘焙课", slug="baking", community=community, allocation="draw")
    by_staff, by_schedule = (
        factories.SessionFactory(activity=lottery, capacity=1),
        factories.SessionFactory(activity=lottery, capacity=1, starts_at=factories.in_days(5)),
    )
    book(by_staff, make_resident())
    with Recorded() as drawn:
        draw = services.run_draw(session=by_staff, actor=staff)
    assert (drawn.only.action, drawn.only.user, drawn.only.data["seed"]) == ("events.session.draw", staff, draw.seed)
    with Recorded() as scheduled:
        services.run_draw(session=by_schedule)
    assert (scheduled.only.action, scheduled.only.user) == ("events.session.draw", None)


def test_adding_sessions_is_recorded_on_the_activitys_page(activity, staff):
    before = PageLogEntry.objects.filter(action="events.sessions.add").count()
    with Recorded() as added:
        sessions = services.add_series(
            activity=activity,
            actor=staff,
            first_day=timezone.localdate() + datetime.timedelta(days=7),
            last_day=timezone.localdate() + datetime.timedelta(days=20),
            weekdays={0, 1, 2, 3, 4, 5, 6},
            start=datetime.time(9),
            end=datetime.time(10),
            capacity=5,
            skip_holidays=False,
        )
    assert added.entries == []  # the page's own log holds it
    (entry,) = PageLogEntry.objects.filter(action="events.sessions.add")[before:]
    assert (entry.page_id, entry.user, entry.data["sessions"]) == (activity.pk, staff, [each.pk for each in sessions])


def test_a_refused_action_leaves_no_entry(session, staff, other_staff, resident):
    booking = book(session, resident)
    with Recorded() as refused, pytest.raises(services.BookingError), transaction.atomic():
        services.change_capacity(session=session, capacity=0, actor=staff)
    assert refused.entries == []
    with Recorded() as not_staff, pytest.raises(NotStaff, match="another community"):
        services.cancel_booking(booking=booking, actor=other_staff)
    assert not_staff.entries == []


@pytest.mark.parametrize(
    ("language", "seats", "booked", "checked_in"),
    [
        ("en", "Changed the number of seats", "Booked a place", "Checked a participant in"),
        ("zh-hans", "修改了名额数", "预约了名额", "为参加者签到"),
    ],
)
def test_the_roster_shows_the_sessions_history_newest_first_in_both_languages(
    client, session, staff, make_resident, language, seats, booked, checked_in
):
    zhang = make_resident(display_name="张三")
    booking = book(session, zhang)
    services.change_capacity(session=session, capacity=4, actor=staff)
    services.check_in(session=session, code=booking.code, actor=staff)
    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = language
    profile.save()
    client.force_login(staff)

    response = client.get(reverse("events_admin:roster", args=[session.pk]))
    assert response.status_code == 200
    history = response.context["history"]
    assert [entry.action for entry in history] == ["events.booking.check_in", "events.session.capacity", "events.booking.book"]
    assert [entry.user for entry in history] == [staff, staff, zhang]
    assert [entry.booking for entry in history] == [booking, None, booking]
    page = response.content.decode()
    section = page[page.index('id="session-history"') :]
    assert section.index(checked_in) < section.index(seats) < section.index(booked)
    assert "2 → 4" in section and "张三" in section and staff.get_username() in section
    (row,) = [b for group in response.context["groups"] for b in group.bookings]
    assert [entry.action for entry in row.history] == ["events.booking.check_in", "events.booking.book"]
