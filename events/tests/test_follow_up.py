"""A booking's follow-up (audit entry, message) is a worker's, and never lost: the seat commits first, then the
booking queues a sweep (services.queue_follow_up: one task for a burst of bookings), and the sweep
(services.follow_up_bookings, also run every minute) does each booking's follow-up once, however often and by
however many workers it runs. A booking whose task was lost stays marked `follow_up_pending` until a sweep."""

from __future__ import annotations

import datetime
import logging
import threading

import pytest
from django.core.cache import cache
from django.db import connections
from django.test import override_settings
from django.utils import timezone
from wagtail.models import ModelLogEntry

from events import factories, notifications, services, tasks
from events.models import Booking, Session
from outbox.models import Message
from tests.twice import run_twice

from .test_concurrency import residents, run_concurrently

LATER = datetime.timedelta(minutes=1)  # past services.FOLLOW_UP_AFTER: the minute sweep, not the booking's task
QUEUE_ONLY = override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}})


class Killed(Exception):
    """The worker process dies while it writes the follow-up."""


@pytest.fixture
def task_lost(monkeypatch):
    """Book with the follow-up's task lost (a queue that dropped it, a worker killed before it ran)."""

    def book(session, resident):
        with monkeypatch.context() as patch:
            patch.setattr(services, "queue_follow_up", lambda: None)
            services.book_session(session=session, resident=resident, actor=resident)
        return list(Booking.objects.filter(resident=resident).order_by("pk"))

    return book


def entries(booking: Booking) -> int:
    return ModelLogEntry.objects.filter(action="events.booking.book", object_id=str(booking.pk)).count()


def messages(booking: Booking) -> int:
    return Message.objects.filter(
        kind="events.booking_made", idempotency_key__startswith=f"events.booking_made:{booking.pk}"
    ).count()


def test_the_sweep_follows_up_a_booking_whose_task_was_lost_once(site_pages, make_resident, task_lost):
    session = factories.SessionFactory(capacity=5)
    (booking,) = task_lost(session, make_resident())
    assert booking.status == Booking.Status.CONFIRMED  # the seat stands
    assert booking.follow_up_pending and entries(booking) == 0 and messages(booking) == 0

    assert services.follow_up_bookings(now=timezone.now() + LATER) == 1

    booking.refresh_from_db()
    assert not booking.follow_up_pending
    assert entries(booking) == 1 and messages(booking) == 1
    assert ModelLogEntry.objects.get(action="events.booking.book").data == {"status": "confirmed", "late": True}
    assert services.follow_up_bookings(now=timezone.now() + LATER) == 0
    assert entries(booking) == 1 and messages(booking) == 1


def test_a_booking_queues_its_follow_up_and_the_task_does_it_at_once(site_pages, make_resident):
    person = make_resident()
    (booking,) = services.book_session(session=factories.SessionFactory(capacity=5), resident=person, actor=person)
    # The tests' task backend runs the task as it is queued: what a worker does a moment later.
    booking.refresh_from_db()
    assert not booking.follow_up_pending
    assert entries(booking) == 1 and messages(booking) == 1
    assert ModelLogEntry.objects.get(action="events.booking.book").data == {"status": "confirmed"}  # not late
    assert cache.get(services.FOLLOW_UP_QUEUED) is None  # the task cleared its mark


@QUEUE_ONLY
def test_a_burst_of_bookings_queues_one_sweep_until_it_starts(site_pages, make_resident):
    from django_tasks import default_task_backend

    session = factories.SessionFactory(capacity=3)
    people = [make_resident() for _ in range(5)]
    for person in people[:4]:
        services.book_session(session=session, resident=person, actor=person)

    def sweeps():
        return [result for result in default_task_backend.results if result.task.func is tasks.follow_up_bookings.func]

    assert len(sweeps()) == 1  # four bookings, one task
    assert Booking.objects.filter(follow_up_pending=True).count() == 4

    tasks.follow_up_bookings.call()  # the worker runs it: it takes every booking decided by then
    assert not Booking.objects.filter(follow_up_pending=True).exists()
    assert ModelLogEntry.objects.filter(action="events.booking.book").count() == 4

    services.book_session(session=session, resident=people[4], actor=people[4])
    assert len(sweeps()) == 2  # decided after the sweep started: a sweep of its own
    default_task_backend.clear()


def test_a_booking_stands_when_its_follow_up_cannot_be_queued(site_pages, make_resident, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise ConnectionError("the cache is down")

    monkeypatch.setattr(cache, "add", down)
    person = make_resident()
    with caplog.at_level(logging.ERROR, logger="events.services"):
        (booking,) = services.book_session(session=factories.SessionFactory(capacity=5), resident=person, actor=person)
    assert booking.status == Booking.Status.CONFIRMED
    assert "could not queue the follow-up" in caplog.text
    monkeypatch.undo()
    assert services.follow_up_bookings(now=timezone.now() + LATER) == 1  # the minute sweep
    assert entries(booking) == 1 and messages(booking) == 1


def test_a_worker_killed_mid_follow_up_leaves_it_for_the_next_sweep(site_pages, make_resident, task_lost, monkeypatch):
    first, second = make_resident(), make_resident()
    session = factories.SessionFactory(capacity=5)
    (one,) = task_lost(session, first)
    (two,) = task_lost(session, second)
    real = notifications.booking_made

    def booking_made(bookings):
        if bookings[0].pk == one.pk:
            raise Killed
        real(bookings)

    monkeypatch.setattr(notifications, "booking_made", booking_made)
    assert services.follow_up_bookings(now=timezone.now() + LATER) == 1  # one failed, the other is not held up
    assert [entries(one), messages(one), entries(two), messages(two)] == [0, 0, 1, 1]
    assert Booking.objects.get(pk=one.pk).follow_up_pending  # its transaction rolled back whole

    monkeypatch.undo()
    assert services.follow_up_bookings(now=timezone.now() + LATER) == 1
    assert [entries(one), messages(one), entries(two), messages(two)] == [1, 1, 1, 1]


def test_the_periodic_task_run_twice_follows_up_once(site_pages, make_resident, task_lost, django_capture_on_commit_callbacks):
    session = factories.SessionFactory(capacity=1)
    first, second = make_resident(), make_resident()
    (confirmed,) = task_lost(session, first)
    (waiting,) = task_lost(session, second)
    Booking.objects.update(created_at=timezone.now() - LATER)

    assert run_twice(tasks.follow_up_bookings, on_commit=django_capture_on_commit_callbacks) == (2, 0, 0, [])
    assert [entries(confirmed), messages(confirmed), entries(waiting), messages(waiting)] == [1, 1, 1, 1]


def test_a_course_booked_as_a_whole_is_followed_up_once_for_the_session_chosen(site_pages, make_resident, task_lost):
    course = factories.activity(title="书法课", slug="shufa", booking_unit="series")
    sessions = [factories.SessionFactory(activity=course, starts_at=factories.in_days(day), capacity=3) for day in (3, 10, 17)]
    group = task_lost(sessions[1], make_resident())
    assert [booking.follow_up_pending for booking in group] == [False, True, False]  # the session chosen

    assert services.follow_up_bookings(now=timezone.now() + LATER) == 1
    assert ModelLogEntry.objects.filter(action="events.booking.book").count() == 1
    assert entries(group[1]) == 1
    assert Message.objects.filter(kind="events.booking_made").count() == 1
    assert messages(group[0]) == 1  # the message's key is the group's first booking, as on the normal path


def test_a_booking_cancelled_before_the_sweep_gets_its_entry_but_no_booked_message(site_pages, make_resident, task_lost):
    person = make_resident()
    (booking,) = task_lost(factories.SessionFactory(capacity=5), person)
    services.cancel_booking(booking=booking, actor=person)

    assert services.follow_up_bookings(now=timezone.now() + LATER) == 1
    assert entries(booking) == 1 and messages(booking) == 0


def test_the_normal_path_and_a_walk_in_leave_nothing_pending(site_pages, make_resident, staff):
    session = factories.SessionFactory(capacity=1)
    (confirmed,) = services.book_session(session=session, resident=(first := make_resident()), actor=first)
    (waiting,) = services.book_session(session=session, resident=(second := make_resident()), actor=second)
    services.book_walk_in(session=session, actor=staff, name="张阿姨", phone="13800000000")

    assert not Booking.objects.filter(follow_up_pending=True).exists()
    assert services.follow_up_bookings(now=timezone.now() + LATER) == 0
    assert [entries(confirmed), messages(confirmed), entries(waiting), messages(waiting)] == [1, 1, 1, 1]


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_follow_up_each_booking_once(postgres_only, monkeypatch):
    """Two workers' sweeps on their own connections, started together, over the same pending bookings: each
    booking's follow-up is done by one of them (the other skips its locked row or finds it done)."""
    from home.services import ensure_site

    ensure_site()
    session = factories.SessionFactory(capacity=10)
    people = residents(20)
    monkeypatch.setattr(services, "queue_follow_up", lambda: None)  # the tasks were lost
    for person in people:
        services.book_session(session=Session(pk=session.pk), resident=person, actor=person)
    monkeypatch.undo()
    assert Booking.objects.filter(follow_up_pending=True).count() == 20

    later = timezone.now() + LATER
    results, errors = run_concurrently([lambda: services.follow_up_bookings(now=later)] * 4, threads=4)

    assert errors == []
    assert sum(results) == 20
    assert not Booking.objects.filter(follow_up_pending=True).exists()
    assert ModelLogEntry.objects.filter(action="events.booking.book").count() == 20
    assert Message.objects.filter(kind="events.booking_made").count() == 20
    assert sorted(Booking.objects.values_list("status", flat=True)) == ["confirmed"] * 10 + ["waitlisted"] * 10


@pytest.mark.django_db(transaction=True)
def test_the_sweep_never_holds_the_sessions_lock(postgres_only, monkeypatch):
    """While the sweep writes a booking's follow-up, another connection can lock the session at once."""
    from home.services import ensure_site

    ensure_site()
    session = factories.SessionFactory(capacity=5)
    (person,) = residents(1)
    monkeypatch.setattr(services, "queue_follow_up", lambda: None)  # the task was lost
    services.book_session(session=Session(pk=session.pk), resident=person, actor=person)
    monkeypatch.undo()
    seen, real = {}, notifications.booking_made

    def booking_made(bookings):
        def other_connection():
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:
                    cursor.execute("BEGIN")
                    cursor.execute("SELECT seats_taken FROM events_session WHERE id = %s FOR UPDATE NOWAIT", [session.pk])
                    seen["seats"] = cursor.fetchone()[0]
                    cursor.execute("ROLLBACK")
            except Exception as error:  # noqa: BLE001  (a lock still held: asserted below)
                seen["error"] = error
            finally:
                other.close()

        thread = threading.Thread(target=other_connection)
        thread.start()
        thread.join(timeout=30)
        real(bookings)

    monkeypatch.setattr(notifications, "booking_made", booking_made)

    assert services.follow_up_bookings(now=timezone.now() + LATER) == 1
    assert "error" not in seen
    assert seen["seats"] == 1
