"""No overbooking under load: real threads, each on its own database connection.

On PostgreSQL the capacity decision is made under the session's row lock (and the
resident's), backed by the CHECK seats_taken <= capacity and the partial unique index on
active bookings. PostgreSQL here allows 100 connections, so 500 attempts are made by 50
threads at once (10 each, all released together by a barrier). On SQLite, writers queue
for the database lock (transaction_mode IMMEDIATE with a timeout).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from events import factories, services
from events.models import Booking, Session
from home.models import ResidentProfile

User = get_user_model()


def residents(count: int) -> list:
    users = User.objects.bulk_create([User(username=f"rush{i}", email=f"rush{i}@example.com") for i in range(count)])
    EmailAddress.objects.bulk_create([EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users])
    ResidentProfile.objects.bulk_create([ResidentProfile(user=u, display_name=f"居民{u.pk}", birth_year=1980) for u in users])
    return list(User.objects.filter(pk__in=[u.pk for u in users]).select_related("profile").order_by("pk"))


def run_concurrently(calls: list[Callable], *, threads: int) -> tuple[list, list[BaseException]]:
    """Run the calls on `threads` threads (own connections), started together; return results and errors."""
    chunks = [calls[i::threads] for i in range(threads)]
    barrier = threading.Barrier(len(chunks))
    results, errors, lock = [], [], threading.Lock()

    def work(chunk):
        try:
            barrier.wait(timeout=60)
            for call in chunk:
                try:
                    outcome = call()
                except Exception as error:  # noqa: BLE001  (collected and asserted on below)
                    with lock:
                        errors.append(error)
                else:
                    with lock:
                        results.append(outcome)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    return results, errors


def book_as(session_pk: int, resident) -> Callable:
    def call():
        (booking,) = services.book_session(session=Session(pk=session_pk), resident=resident, actor=resident)
        return booking.pk

    return call


@pytest.mark.django_db(transaction=True)
def test_500_residents_rush_a_30_seat_session(postgres_only):
    from home.services import ensure_site

    ensure_site()
    session = factories.SessionFactory(capacity=30)
    people = residents(500)

    results, errors = run_concurrently([book_as(session.pk, person) for person in people], threads=50)

    assert errors == []
    assert len(results) == 500
    session.refresh_from_db()
    bookings = Booking.objects.filter(session=session)
    counts = dict(bookings.values_list("status").annotate(n=Count("pk")))
    assert counts == {"confirmed": 30, "waitlisted": 470}
    assert session.seats_taken == 30
    assert bookings.values("participant_key").distinct().count() == 500  # one booking per resident
    confirmed = list(bookings.filter(status="confirmed").values_list("pk", flat=True))
    waiting = list(bookings.waiting())
    # Seats went to the first 30 through the lock; the queue is a strict order: no ties, 1..470.
    assert max(confirmed) < min(b.pk for b in waiting)
    assert len({(b.queued_at, b.pk) for b in waiting}) == 470
    assert [b.pk for b in waiting] == sorted(b.pk for b in waiting)
    assert [waiting[0].waiting_position(), waiting[-1].waiting_position()] == [1, 470]


@pytest.mark.django_db(transaction=True)
def test_concurrent_cancellations_promote_each_waiting_person_once(postgres_only):
    from home.services import ensure_site

    ensure_site()
    session = factories.SessionFactory(capacity=30)
    people = residents(70)
    bookings = [services.book_session(session=session, resident=p, actor=p)[0] for p in people]
    confirmed, waiting = bookings[:30], bookings[30:]
    cancellers = [(b, p) for b, p in zip(confirmed[:20], people[:20], strict=True)]
    # Twice each: a double click on "cancel" must not free two seats.
    calls = [lambda b=b, p=p: services.cancel_booking(booking=b, actor=p) for b, p in cancellers for _ in range(2)]

    results, errors = run_concurrently(calls, threads=40)

    assert len(results) == 20
    assert len(errors) == 20 and all(isinstance(e, services.BookingError) for e in errors)
    session.refresh_from_db()
    assert session.seats_taken == 30
    assert Booking.objects.filter(session=session).holding_seat().count() == 30
    promoted = set(Booking.objects.filter(pk__in=[b.pk for b in waiting], status="confirmed").values_list("pk", flat=True))
    assert promoted == {b.pk for b in waiting[:20]}  # the first 20 in the queue, each once
    assert Booking.objects.filter(session=session, status="waitlisted").count() == 20


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_on_sqlite_never_lock_or_overbook():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite-specific case; PostgreSQL has its own tests above")
    from home.services import ensure_site

    ensure_site()
    session = factories.SessionFactory(capacity=5, starts_at=timezone.now() + timezone.timedelta(days=2))
    people = residents(20)

    results, errors = run_concurrently([book_as(session.pk, person) for person in people], threads=20)

    assert errors == []
    assert len(results) == 20
    session.refresh_from_db()
    assert session.seats_taken == 5
    assert Booking.objects.filter(session=session, status="confirmed").count() == 5
    assert Booking.objects.filter(session=session, status="waitlisted").count() == 15
