"""The booking path kept short: what a booking costs, what runs while the session's row is locked, and that the
shortened path keeps its guarantees (no overbooking, the waiting list in the order of arrival) under load.

In a rush every booking of a session waits for the one before it at the session's row lock, so the lock covers
the seat decision alone: a locking read of the session, one conditional UPDATE of its seats when it has some, one
INSERT (services._place), and the count of those waiting (who go first, and the newcomer's place among them). The
rules are checked before it; the audit entry and the message are a worker's, after it.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from wagtail.models import ModelLogEntry

from events import factories, notifications, services
from events.models import Booking, Session
from outbox.models import Message

from .test_concurrency import residents, run_concurrently

# Statements of services.book_session in a test, where each transaction is a savepoint (2 of the statements), from
# the session row the view passes (with its activity): the rules (the resident's profile and e-mail address: 2, their
# no-shows and late cancellations: 1; the booking policy and the page's view restrictions are kept per publish
# generation), the resident's row lock, the household's bookings, the seat decision (a locking read, the count of
# those waiting, which gives a newcomer's place in the queue, the seat's UPDATE when there is one, the INSERT, which
# marks the booking's follow-up pending). The follow-up (the UPDATE that clears the mark, the audit entry, the
# message: 10 more) is a worker's, queued without a query. PostgreSQL adds one: the decision's transaction commits
# without waiting for the disk (SET LOCAL). Before the follow-up went to a worker: 26 and 25; before the path was
# shortened: 34 and 33.
CONFIRMED, WAITING = 11, 10
# The page books a first-come session through a request decided with the others waiting (services.request_booking):
# the Django session and the user (the session row and its activity are kept per generation); the request's
# INSERT (in a savepoint here: 3; alone outside a transaction); the decision's transaction (2: a savepoint here), the
# pending requests with their residents, the residents' row locks, the session's, the e-mail addresses, the
# suspensions, the households' bookings, those waiting, the seat's UPDATE, the INSERT, the requests' UPDATE; then one
# look for requests still pending. PostgreSQL adds the try of the advisory lock. Alone, a request costs more than
# book_session's path (14 for the page); in a rush, most requests only add their INSERT and one try of the lock, and
# one transaction decides up to 200 of them.
PAGE = 18
QUEUE_ONLY = override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}})
UNDER_THE_LOCK = {"confirmed": ["SELECT", "SELECT", "UPDATE", "INSERT"], "waitlisted": ["SELECT", "SELECT", "INSERT"]}


def statements(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


def locked_part(sqls: list[str]) -> list[str]:
    """The statements from the session's locking read to the end of the decision's transaction (in a test, the
    test's transaction holds it: the end of its savepoint)."""
    start = next(
        index
        for index, sql in enumerate(sqls)
        if sql.startswith('SELECT "events_session"."id"') and 'ORDER BY "events_session"."id"' in sql
    )
    end = next(index for index, sql in enumerate(sqls) if index > start and sql.startswith("RELEASE SAVEPOINT"))
    return [sql.split()[0] for sql in sqls[start:end]]


@pytest.fixture
def two_seats(site_pages):
    return factories.SessionFactory(activity=factories.activity(), capacity=2)


@QUEUE_ONLY
def test_a_booking_costs_few_statements_and_holds_the_session_locked_for_the_decision_alone(two_seats, make_resident):
    extra = 1 if connection.vendor == "postgresql" else 0
    first = make_resident()
    services.book_session(session=two_seats, resident=first, actor=first)  # the booking policy's row, content types
    for expected, status in ((CONFIRMED, "confirmed"), (WAITING, "waitlisted")):
        person = type(first).objects.get(pk=make_resident().pk)  # as the middleware reads the user
        session = Session.objects.select_related("activity").get(pk=two_seats.pk)  # and the view the session
        with CaptureQueriesContext(connection) as captured:
            (booking,) = services.book_session(session=session, resident=person, actor=person)
        assert booking.status == status
        sqls = statements(captured)
        assert locked_part(sqls) == UNDER_THE_LOCK[status]
        assert len(sqls) == expected + extra, "\n".join(sql[:90] for sql in sqls)
    assert ModelLogEntry.objects.filter(action="events.booking.book").count() == 0  # the worker's, yet to run
    services.follow_up_bookings()
    assert ModelLogEntry.objects.filter(action="events.booking.book").count() == 3
    assert Message.objects.filter(kind="events.booking_made").count() == 3


@QUEUE_ONLY
def test_booking_through_the_page_costs_few_queries(client, two_seats, make_resident, django_assert_num_queries):
    first = make_resident()
    client.force_login(first)  # the booking policy's row, content types; the activity and the policy kept
    client.post(f"/zh-hans/activities/sessions/{two_seats.pk}/book/", {"participant": "me"})
    person = make_resident()
    client.force_login(person)
    with django_assert_num_queries(PAGE + (1 if connection.vendor == "postgresql" else 0)):
        response = client.post(f"/zh-hans/activities/sessions/{two_seats.pk}/book/", {"participant": "me"})
    assert response.status_code == 302
    assert Booking.objects.get(session=two_seats, resident=person).status == "confirmed"


@pytest.mark.django_db(transaction=True)
def test_the_audit_entry_and_message_are_written_after_the_seat_decision_released_the_session(postgres_only, monkeypatch):
    """While the booking's follow-up runs, another connection can lock the session at once: the decision has
    committed, and the next booking does not wait for the audit entry and the message."""
    from home.services import ensure_site

    ensure_site()
    session = factories.SessionFactory(capacity=5)
    (person,) = residents(1)
    seen = {}
    real = notifications.booking_made

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

    (booking,) = services.book_session(session=Session(pk=session.pk), resident=person, actor=person)

    assert "error" not in seen
    assert seen["seats"] == 1  # the seat, committed before the follow-up
    assert booking.status == "confirmed"
    assert ModelLogEntry.objects.filter(action="events.booking.book", object_id=str(booking.pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_forty_residents_rush_five_seats_in_the_order_they_arrive(postgres_only):
    """Threads on their own connections: no overbooking, and the waiting list in the order of arrival, which is
    the order in which bookings reached the seat decision under the session's lock. The booking keeps that
    moment (queued_at); its id comes from the database's sequence in the same locked step, a second record of
    the same order: the two agree, the seats went to the first five, and no two arrived at once."""
    from home.services import ensure_site

    ensure_site()
    session = factories.SessionFactory(capacity=5)
    people = residents(40)

    def book_as(person):
        return lambda: services.book_session(session=Session(pk=session.pk), resident=person, actor=person)[0].pk

    results, errors = run_concurrently([book_as(person) for person in people], threads=10)

    assert errors == [] and len(results) == 40
    session.refresh_from_db()
    bookings = list(Booking.objects.filter(session=session).order_by("pk"))
    assert [b.status for b in bookings].count("confirmed") == session.seats_taken == 5
    assert [b.status for b in bookings[:5]] == ["confirmed"] * 5  # the first five to arrive
    assert {b.status for b in bookings[5:]} == {"waitlisted"}
    waiting = list(Booking.objects.filter(session=session).waiting())
    assert [b.pk for b in waiting] == [b.pk for b in bookings[5:]]  # as shown: by queued_at, the arrival order
    assert len({b.queued_at for b in bookings}) == 40
    assert [b.queued_at for b in bookings] == sorted(b.queued_at for b in bookings)
    assert [waiting[0].waiting_position(), waiting[-1].waiting_position()] == [1, 35]
    assert Message.objects.filter(kind="events.booking_made").count() == 40
    assert ModelLogEntry.objects.filter(action="events.booking.book").count() == 40
