"""The bookings' periodic jobs are safe to run twice: the second run sends nothing and changes no row.

The scheduler may enqueue a job late and a worker may run it again after a crash
(plumbing/periodic.py), so each job records what it did before it is done.
"""

import datetime

from django.core import mail
from django.utils import timezone

from events import factories, services, tasks
from events.models import ActivityPage, Booking, Session
from tests.twice import run_twice


def book(session, resident):
    return services.book_session(session=session, resident=resident, actor=resident)


def test_reminders_run_twice_remind_once(site_pages, make_resident, django_capture_on_commit_callbacks):
    tomorrow = factories.SessionFactory(starts_at=timezone.now() + datetime.timedelta(hours=20), capacity=5)
    for _ in range(3):
        book(tomorrow, make_resident())
    mail.outbox.clear()

    assert run_twice(tasks.send_booking_reminders, on_commit=django_capture_on_commit_callbacks) == (3, 0, 0, [])
    assert len(mail.outbox) == 3


def test_due_draws_run_twice_draw_once(site_pages, make_resident, django_capture_on_commit_callbacks):
    lottery = factories.activity(
        title="x", slug="x", allocation="draw", booking_closes_at=timezone.now() + datetime.timedelta(hours=1)
    )
    session = factories.SessionFactory(activity=lottery, capacity=1)
    for _ in range(3):
        book(session, make_resident())
    ActivityPage.objects.filter(pk=lottery.pk).update(booking_closes_at=timezone.now() - datetime.timedelta(minutes=1))
    mail.outbox.clear()

    assert run_twice(tasks.run_due_draws, on_commit=django_capture_on_commit_callbacks) == (1, 0, 0, [])
    assert len(mail.outbox) == 3  # one seat, two on the waiting list
    assert Booking.objects.filter(session=session, status=Booking.Status.CONFIRMED).count() == 1


def test_closing_ended_sessions_twice_records_no_shows_once(site_pages, make_resident, django_capture_on_commit_callbacks):
    session = factories.SessionFactory(starts_at=factories.in_days(1), capacity=5)
    book(session, make_resident())
    book(session, make_resident())
    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=3), ends_at=timezone.now() - datetime.timedelta(hours=1)
    )

    assert run_twice(tasks.close_ended_sessions, on_commit=django_capture_on_commit_callbacks) == (2, 0, 0, [])
    assert Booking.objects.filter(session=session, status=Booking.Status.NO_SHOW).count() == 2


def test_stuck_booking_requests_run_twice_are_decided_once(site_pages, make_resident, django_capture_on_commit_callbacks):
    from events.models import BookingRequest

    session = factories.SessionFactory(capacity=1)
    for person in (make_resident(), make_resident()):
        BookingRequest.objects.create(session=session, resident=person, language="en")
    BookingRequest.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=1))
    mail.outbox.clear()

    first, second, sent, changed = run_twice(tasks.decide_booking_requests, on_commit=django_capture_on_commit_callbacks)

    assert (first, second, sent, changed) == (2, 0, 0, [])
    assert list(Booking.objects.filter(session=session).values_list("status", flat=True).order_by("queued_at")) == [
        "confirmed",
        "waitlisted",
    ]
