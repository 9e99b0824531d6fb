"""Booking rules, the waiting list, cancellations, check-in, draws, the no-show policy."""

import datetime
import uuid

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from events import factories, services
from events.calendar import booking_calendar
from events.models import Booking, BookingPolicy, Session
from events.services import BookingError


def book(session, resident, **kwargs):
    return services.book_session(session=session, resident=resident, actor=resident, **kwargs)


def test_a_free_seat_is_confirmed_and_mailed_with_a_calendar_file(session, resident, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        (booking,) = book(session, resident)
    session.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert session.seats_taken == 1
    assert len(mail.outbox) == 1
    assert booking.display_code in mail.outbox[0].body
    assert mail.outbox[0].attachments[0][0] == f"linli-{booking.code}.ics"


def test_the_calendar_file_links_to_the_activity_at_the_portal_s_public_address(session, resident, settings):
    settings.PORTAL_BASE_URL = "https://linli.example.cn:8443"
    (booking,) = book(session, resident)

    ics = booking_calendar([booking]).decode().replace("\r\n ", "")  # unfold long lines

    assert f"URL:https://linli.example.cn:8443{session.activity.url}" in ics
    assert "127.0.0.1" not in ics


def test_a_full_session_puts_people_on_the_waiting_list_in_order(session, make_resident):
    people = [make_resident() for _ in range(4)]
    statuses = [book(session, person)[0].status for person in people]
    assert statuses == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    waiting = list(Booking.objects.filter(session=session).waiting())
    assert [b.resident for b in waiting] == people[2:]
    assert [b.waiting_position() for b in waiting] == [1, 2]


def test_cancelling_promotes_the_first_waiting_and_tells_them(session, make_resident, django_capture_on_commit_callbacks):
    first, second, third = (make_resident() for _ in range(3))
    (mine,) = book(session, first)
    book(session, second)
    (waiting,) = book(session, third)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_booking(booking=mine, actor=first)
    waiting.refresh_from_db()
    session.refresh_from_db()
    assert waiting.status == Booking.Status.CONFIRMED
    assert session.seats_taken == 2
    assert sorted(message.to[0] for message in mail.outbox) == sorted([first.email, third.email])
    promoted = next(m for m in mail.outbox if m.to == [third.email])
    assert waiting.display_code in promoted.body


def test_a_cancellation_after_the_deadline_counts_as_late(site_pages, resident):
    session = factories.SessionFactory(starts_at=timezone.now() + datetime.timedelta(hours=5), capacity=3)
    (booking,) = book(session, resident)
    (cancelled,) = services.cancel_booking(booking=booking, actor=resident)
    assert cancelled.late_cancellation is True


def test_cancelling_twice_or_after_the_start_is_refused(session, resident):
    (booking,) = book(session, resident)
    services.cancel_booking(booking=booking, actor=resident)
    with pytest.raises(BookingError, match="already cancelled"):
        services.cancel_booking(booking=booking, actor=resident)


def test_someone_else_cannot_cancel_my_booking(session, resident, make_resident):
    (booking,) = book(session, resident)
    with pytest.raises(PermissionDenied):
        services.cancel_booking(booking=booking, actor=make_resident())
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": Session.Status.CANCELLED}, "cancelled"),
        ({"starts_at_days": -1}, "already started"),
    ],
)
def test_closed_sessions_refuse_and_change_nothing(session, resident, change, message):
    if "status" in change:
        session.status = change["status"]
    else:
        session.starts_at = timezone.now() - datetime.timedelta(days=1)
        session.ends_at = session.starts_at + datetime.timedelta(hours=1)
    session.save()
    with pytest.raises(BookingError, match=message):
        book(session, resident)
    assert not Booking.objects.exists()


def test_the_booking_window(site_pages, resident):
    later = factories.activity(title="later", slug="later", booking_opens_at=timezone.now() + datetime.timedelta(days=1))
    closed = factories.activity(title="closed", slug="closed", booking_closes_at=timezone.now() - datetime.timedelta(hours=1))
    with pytest.raises(BookingError, match="opens on"):
        book(factories.SessionFactory(activity=later), resident)
    with pytest.raises(BookingError, match="closed"):
        book(factories.SessionFactory(activity=closed), resident)
    assert not Booking.objects.exists()


def test_an_unverified_resident_cannot_book(session, make_resident):
    with pytest.raises(BookingError, match="verify"):
        book(session, make_resident(verified=False))


def test_one_booking_per_participant_and_session(session, resident):
    book(session, resident)
    with pytest.raises(BookingError, match="already has a place"):
        book(session, resident)
    assert Booking.objects.count() == 1


def test_a_replayed_form_makes_one_booking_and_one_mail(session, resident, django_capture_on_commit_callbacks):
    token = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        first = book(session, resident, request_token=token)
        again = book(session, resident, request_token=token)
    assert [b.pk for b in first] == [b.pk for b in again]
    assert Booking.objects.count() == 1
    assert len(mail.outbox) == 1


def test_no_overlapping_sessions_for_the_same_participant(site_pages, resident):
    one = factories.SessionFactory(starts_at=factories.in_days(4, hour=9))
    other_activity = factories.activity(title="太极", slug="taiji")
    overlapping = factories.SessionFactory(activity=other_activity, starts_at=factories.in_days(4, hour=10))
    book(one, resident)
    with pytest.raises(BookingError, match="already booked for"):
        book(overlapping, resident)


def test_age_band_applies_to_the_participant_and_staff_can_override(site_pages, resident, staff):
    children_only = factories.activity(title="少儿编程", slug="code", age_band="7-12")
    session = factories.SessionFactory(activity=children_only, capacity=5)
    age = timezone.localtime(session.starts_at).year - resident.profile.birth_year  # 40, or 41 if it is next year
    with pytest.raises(BookingError, match=f"is {age} this year"):
        book(session, resident)
    child = factories.HouseholdMemberFactory(resident=resident)
    (booking,) = book(session, resident, member=child)
    assert booking.participant_name == child.name
    assert booking.participant_key == f"m{child.pk}"
    (overridden,) = services.book_session(session=session, resident=resident, actor=staff, age_override=True)
    assert overridden.age_override is True
    with pytest.raises(PermissionDenied):
        book(factories.SessionFactory(activity=children_only), resident, age_override=True)


def test_a_child_under_14_needs_the_guardians_consent(site_pages, resident):
    session = factories.SessionFactory()
    child = factories.HouseholdMemberFactory(resident=resident, guardian_consent_at=None)
    with pytest.raises(BookingError, match="guardian"):
        book(session, resident, member=child)
    (booking,) = book(session, resident, member=child, guardian_consent=True)
    assert booking.guardian_consent_at is not None


def test_someone_elses_household_member_is_refused(session, resident, make_resident):
    child = factories.HouseholdMemberFactory(resident=make_resident())
    with pytest.raises(BookingError, match="not in your household"):
        book(session, resident, member=child)


def test_the_household_limit_per_activity(site_pages, resident):
    session = factories.SessionFactory(activity=factories.activity(household_limit=2), capacity=10)
    book(session, resident)
    book(session, resident, member=factories.HouseholdMemberFactory(resident=resident, name="小红"))
    with pytest.raises(BookingError, match="the most allowed"):
        book(session, resident, member=factories.HouseholdMemberFactory(resident=resident, name="小刚"))


def test_community_restriction(site_pages, community, other_community, make_resident):
    session = factories.SessionFactory(activity=factories.activity(community=community))
    with pytest.raises(BookingError, match="for residents of"):
        book(session, make_resident(community_=other_community))
    assert book(session, make_resident())[0].status == Booking.Status.CONFIRMED


def test_staff_of_another_community_cannot_book_on_behalf(site_pages, community, resident, other_staff, staff):
    session = factories.SessionFactory(activity=factories.activity(community=community))
    with pytest.raises(PermissionDenied):
        services.book_session(session=session, resident=resident, actor=other_staff)
    assert services.book_session(session=session, resident=resident, actor=staff)[0].created_by == staff


def test_walk_in_booking_by_staff(session, staff):
    booking = services.book_walk_in(session=session, actor=staff, name="李大爷", phone="138 1234 5678")
    assert booking.status == Booking.Status.CONFIRMED and booking.resident is None
    with pytest.raises(BookingError, match="already has a place"):
        services.book_walk_in(session=session, actor=staff, name="李大爷", phone="13812345678")
    with pytest.raises(BookingError, match="valid phone"):
        services.book_walk_in(session=session, actor=staff, name="张阿姨", phone="call me")


def test_a_course_booked_as_a_whole_takes_a_seat_in_every_session(site_pages, make_resident):
    course = factories.activity(title="书法课", slug="shufa", booking_unit="series")
    sessions = [factories.SessionFactory(activity=course, starts_at=factories.in_days(day), capacity=1) for day in (3, 10, 17)]
    first, second = make_resident(), make_resident()
    mine = book(sessions[1], first)
    assert {b.session_id for b in mine} == {s.pk for s in sessions}
    assert {b.status for b in mine} == {"confirmed"}
    waiting = book(sessions[0], second)
    assert {b.status for b in waiting} == {"waitlisted"}
    services.cancel_booking(booking=mine[0], actor=first)
    assert set(Booking.objects.filter(group=waiting[0].group).values_list("status", flat=True)) == {"confirmed"}
    assert [s.seats_taken for s in Session.objects.filter(pk__in=[s.pk for s in sessions])] == [1, 1, 1]


def test_staff_move_someone_from_the_waiting_list_only_onto_a_free_seat(session, make_resident, staff):
    people = [make_resident() for _ in range(3)]
    bookings = [book(session, person)[0] for person in people]
    with pytest.raises(BookingError, match="no free seat"):
        services.promote_from_waitlist(booking=bookings[2], actor=staff)
    services.change_capacity(session=session, capacity=3, actor=staff)  # the extra seat goes to the queue
    bookings[2].refresh_from_db()
    assert bookings[2].status == Booking.Status.CONFIRMED
    with pytest.raises(BookingError, match="already taken"):
        services.change_capacity(session=session, capacity=2, actor=staff)


def test_cancelling_a_session_tells_everyone(session, make_resident, staff, django_capture_on_commit_callbacks):
    people = [make_resident() for _ in range(3)]
    for person in people:
        book(session, person)
    mail.outbox.clear()
    with pytest.raises(BookingError, match="reason"):
        services.cancel_session(session=session, actor=staff, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_session(session=session, actor=staff, reason="台风预警")
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert all("台风预警" in m.body for m in mail.outbox)
    session.refresh_from_db()
    assert session.seats_taken == 0 and session.is_cancelled
    assert set(Booking.objects.values_list("status", flat=True)) == {"cancelled"}


def test_check_in_at_the_door(site_pages, community, make_resident, staff, other_staff):
    session = factories.SessionFactory(
        activity=factories.activity(community=community), starts_at=timezone.now() + datetime.timedelta(minutes=30), capacity=2
    )
    other = factories.SessionFactory(
        starts_at=timezone.now() + datetime.timedelta(minutes=30), activity=factories.activity(title="b", slug="b")
    )
    first, second, third = make_resident(), make_resident(), make_resident()
    (ticket,) = book(session, first)
    (cancelled,) = book(session, second)
    services.cancel_booking(booking=cancelled, actor=second)
    (foreign,) = book(other, third)

    result = services.check_in(session=session, code=f"linli:{ticket.display_code.lower()}", actor=staff)
    assert result.booking.status == Booking.Status.ATTENDED and not result.repeated
    assert services.check_in(session=session, code=ticket.code, actor=staff).repeated
    with pytest.raises(BookingError, match="was cancelled"):
        services.check_in(session=session, code=cancelled.code, actor=staff)
    with pytest.raises(BookingError, match="another session"):
        services.check_in(session=session, code=foreign.code, actor=staff)
    with pytest.raises(BookingError, match="No ticket"):
        services.check_in(session=session, code="XXXX-XXXX", actor=staff)
    with pytest.raises(PermissionDenied):
        services.check_in(session=session, code=ticket.code, actor=other_staff)
    services.undo_check_in(booking=result.booking, actor=staff)
    result.booking.refresh_from_db()
    assert result.booking.status == Booking.Status.CONFIRMED


def test_unmarked_bookings_become_no_shows_when_the_session_ends(site_pages, make_resident, staff):
    session = factories.SessionFactory(starts_at=timezone.now() + datetime.timedelta(minutes=10), capacity=1)
    came, missed_waiting = make_resident(), make_resident()
    (ticket,) = book(session, came)
    (waiting,) = book(session, missed_waiting)
    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=2), ends_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert services.close_ended_sessions() == 1
    ticket.refresh_from_db()
    waiting.refresh_from_db()
    assert ticket.status == Booking.Status.NO_SHOW
    assert waiting.status == Booking.Status.CANCELLED
    assert services.close_ended_sessions() == 0


def test_no_shows_suspend_new_bookings(site_pages, resident):
    policy = BookingPolicy.load()
    policy.no_show_limit, policy.period_days, policy.suspension_days = 2, 30, 14
    policy.save()
    for day in (5, 3):
        past = factories.SessionFactory(
            activity=factories.activity(title=f"p{day}", slug=f"p{day}"),
            starts_at=timezone.now() - datetime.timedelta(days=day, hours=2),
            ends_at=timezone.now() - datetime.timedelta(days=day),
        )
        Booking.objects.create(
            session=past, resident=resident, participant_key=f"u{resident.pk}", participant_name="x", status="no_show"
        )
    suspension = services.suspension_of(resident)
    assert suspension is not None
    assert suspension.until.date() == (timezone.now() - datetime.timedelta(days=3) + datetime.timedelta(days=14)).date()
    with pytest.raises(BookingError, match="suspended until"):
        book(factories.SessionFactory(), resident)


def test_only_offences_within_the_period_count_towards_a_suspension(site_pages, resident):
    policy = BookingPolicy.load()
    policy.no_show_limit, policy.period_days, policy.suspension_days = 2, 30, 14
    policy.save()
    now = timezone.now()
    for day, slug in ((60, "old"), (2, "recent")):  # a no-show long ago, one two days ago
        past = factories.SessionFactory(
            activity=factories.activity(title=slug, slug=slug),
            starts_at=now - datetime.timedelta(days=day, hours=2),
            ends_at=now - datetime.timedelta(days=day),
        )
        Booking.objects.create(
            session=past, resident=resident, participant_key=f"u{resident.pk}", participant_name="x", status="no_show"
        )
    assert services.suspension_of(resident) is None  # the old one is outside the 30 + 14 days
    late = factories.SessionFactory(activity=factories.activity(title="late", slug="late"))
    Booking.objects.create(
        session=late,
        resident=resident,
        participant_key=f"u{resident.pk}",
        participant_name="x",
        status="cancelled",
        late_cancellation=True,
        cancelled_at=now - datetime.timedelta(days=1),
    )
    suspension = services.suspension_of(resident)  # a late cancellation yesterday: two within 30 days
    assert suspension is not None
    assert suspension.until.date() == (now - datetime.timedelta(days=1) + datetime.timedelta(days=14)).date()


def test_the_draw_is_reproducible_from_its_published_seed(site_pages, make_resident):
    lottery = factories.activity(
        title="陶艺课", slug="pottery", allocation="draw", booking_closes_at=timezone.now() + datetime.timedelta(days=1)
    )
    session = factories.SessionFactory(activity=lottery, capacity=3, starts_at=factories.in_days(5))
    applicants = [make_resident() for _ in range(7)]
    bookings = [book(session, person)[0] for person in applicants]
    assert {b.status for b in bookings} == {"applied"}
    session.refresh_from_db()
    assert session.seats_taken == 0
    draw = services.run_draw(session=session, seed="published-seed")
    assert draw.order == services.draw_order("published-seed", draw.entrants, first_timer_priority=False)
    assert sorted(draw.order) == sorted(b.pk for b in bookings)
    by_number = {b.pk: b for b in Booking.objects.filter(session=session)}
    assert [by_number[n].status for n in draw.order] == ["confirmed"] * 3 + ["waitlisted"] * 4
    assert [by_number[n].draw_rank for n in draw.order] == list(range(1, 8))
    waiting = list(Booking.objects.filter(session=session).waiting())
    assert [b.pk for b in waiting] == draw.order[3:]
    assert services.draw_order("another seed", draw.entrants, first_timer_priority=False) != draw.order
    with pytest.raises(BookingError, match="already run"):
        services.run_draw(session=session)


def test_the_draw_can_favour_first_timers(site_pages, make_resident):
    lottery = factories.activity(
        title="插花",
        slug="flowers",
        allocation="draw",
        first_timer_priority=True,
        booking_closes_at=timezone.now() + datetime.timedelta(days=1),
    )
    veteran = make_resident()
    past = factories.SessionFactory(
        activity=lottery,
        starts_at=timezone.now() - datetime.timedelta(days=9),
        ends_at=timezone.now() - datetime.timedelta(days=9) + datetime.timedelta(hours=1),
    )
    Booking.objects.create(
        session=past, resident=veteran, participant_key=f"u{veteran.pk}", participant_name="v", status="attended"
    )
    session = factories.SessionFactory(activity=lottery, capacity=1, starts_at=factories.in_days(5))
    (old,) = book(session, veteran)
    (new,) = book(session, make_resident())
    draw = services.run_draw(session=session, seed="any")
    assert draw.order == [new.pk, old.pk]


def test_due_draws_run_when_applications_close(site_pages, make_resident):
    lottery = factories.activity(
        title="x", slug="x", allocation="draw", booking_closes_at=timezone.now() + datetime.timedelta(hours=1)
    )
    session = factories.SessionFactory(activity=lottery, capacity=1)
    book(session, make_resident())
    assert services.run_due_draws() == 0
    ActivityClose = type(lottery)
    ActivityClose.objects.filter(pk=lottery.pk).update(booking_closes_at=timezone.now() - datetime.timedelta(minutes=1))
    assert services.run_due_draws() == 1
    session.refresh_from_db()
    assert session.drawn_at is not None and session.seats_taken == 1


def test_reminders_go_out_once_the_day_before(site_pages, make_resident, django_capture_on_commit_callbacks):
    tomorrow = factories.SessionFactory(starts_at=timezone.now() + datetime.timedelta(hours=20))
    next_week = factories.SessionFactory(activity=factories.activity(title="n", slug="n"), starts_at=factories.in_days(7))
    person = make_resident()
    book(tomorrow, person)
    book(next_week, person)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_reminders() == 1
        assert services.send_reminders() == 0
    assert [m.to for m in mail.outbox] == [[person.email]]
    assert "明天" in mail.outbox[0].subject or "tomorrow" in mail.outbox[0].subject


def test_a_weekly_series_flags_and_skips_public_holidays():
    planned = services.plan_series(
        first_day=datetime.date(2026, 9, 28),
        last_day=datetime.date(2026, 10, 12),
        weekdays={3},
        start=datetime.time(14),
        end=datetime.time(16),
        skip_holidays=False,
    )
    assert [p.starts_at.date() for p in planned] == [datetime.date(2026, 10, 1), datetime.date(2026, 10, 8)]
    assert planned[0].holiday == "国庆节"
    skipped = services.plan_series(
        first_day=datetime.date(2026, 9, 28),
        last_day=datetime.date(2026, 10, 12),
        weekdays={3},
        start=datetime.time(14),
        end=datetime.time(16),
    )
    assert [p.starts_at.date() for p in skipped] == [datetime.date(2026, 10, 8)]  # National Day left out
    saturday = services.plan_series(
        first_day=datetime.date(2026, 10, 10),
        last_day=datetime.date(2026, 10, 10),
        weekdays={5},
        start=datetime.time(9),
        end=datetime.time(10),
    )
    assert saturday[0].makeup_workday is True
    with pytest.raises(BookingError):
        services.plan_series(
            first_day=datetime.date(2026, 10, 2),
            last_day=datetime.date(2026, 10, 1),
            weekdays={1},
            start=datetime.time(9),
            end=datetime.time(10),
        )


def test_a_walk_in_for_a_course_gets_every_session_and_a_draw_stays_a_draw(site_pages, staff):
    course = factories.activity(title="国画课", slug="guohua", booking_unit="series")
    sessions = [factories.SessionFactory(activity=course, starts_at=factories.in_days(day)) for day in (2, 9)]
    booking = services.book_walk_in(session=sessions[0], actor=staff, name="李大爷", phone="13812345678")
    assert set(Booking.objects.filter(group=booking.group).values_list("session_id", flat=True)) == {s.pk for s in sessions}
    lottery = factories.activity(
        title="陶笛", slug="ocarina", allocation="draw", booking_closes_at=timezone.now() + datetime.timedelta(days=1)
    )
    entered = services.book_walk_in(
        session=factories.SessionFactory(activity=lottery), actor=staff, name="张阿姨", phone="13900000000"
    )
    assert entered.status == Booking.Status.APPLIED


def test_only_staff_add_sessions(site_pages, resident, staff):
    street_wide = factories.activity(title="x", slug="x")
    planned = services.plan_series(
        first_day=factories.in_days(3).date(),
        last_day=factories.in_days(3).date(),
        weekdays=set(range(7)),
        start=datetime.time(9),
        end=datetime.time(10),
        skip_holidays=False,  # one date, whether or not it is a public holiday
    )
    with pytest.raises(PermissionDenied):
        services.create_sessions(activity=street_wide, planned=planned, capacity=5, actor=resident)
    assert len(services.create_sessions(activity=street_wide, planned=planned, capacity=5, actor=staff)) == len(planned)


def test_suspensions_of_many_residents_match_each_ones_own(site_pages, make_resident):
    """The suspensions the booking requests read for a whole batch are each resident's suspension_of; a household's
    two no-shows at one session count once, as for one resident."""
    policy = BookingPolicy.load()
    policy.no_show_limit, policy.period_days, policy.suspension_days = 2, 30, 14
    policy.save()
    twice, once_with_child, clean = make_resident(), make_resident(), make_resident()
    for day in (5, 3):
        past = factories.SessionFactory(
            activity=factories.activity(title=f"p{day}", slug=f"p{day}"),
            starts_at=timezone.now() - datetime.timedelta(days=day, hours=2),
            ends_at=timezone.now() - datetime.timedelta(days=day),
        )
        Booking.objects.create(
            session=past, resident=twice, participant_key=f"u{twice.pk}", participant_name="x", status="no_show"
        )
    for key in (f"u{once_with_child.pk}", "m999"):
        Booking.objects.create(
            session=past, resident=once_with_child, participant_key=key, participant_name="x", status="no_show"
        )

    together = services.suspensions_of([twice.pk, once_with_child.pk, clean.pk])

    assert set(together) == {twice.pk}
    assert together[twice.pk] == services.suspension_of(twice)
    assert services.suspension_of(once_with_child) is None and services.suspension_of(clean) is None
