"""No overbooking through the API: 20 threads, each with its own database connection, book the last 3 seats of a
session on PostgreSQL (the services' row locks and constraints decide, as for the pages).

A full session puts the next resident on the waiting list (the service's rule, the same as on the pages), so the
proof is: exactly 3 confirmed places, everyone else waiting in a strict order, and every second tap of the same
resident refused with the API's error shape (409), never a 500 and never a second place.
"""

from __future__ import annotations

import threading

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from api.testing import assert_problem, token_for
from events import factories, services
from events.models import Booking
from home.models import ResidentProfile

User = get_user_model()


def resident(username: str):
    user = User.objects.create(username=username, email=f"{username}@example.com")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    ResidentProfile.objects.create(user=user, birth_year=1980)
    return user


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_rush_the_last_three_seats_through_the_api(postgres_only):
    from home.services import ensure_site

    ensure_site()
    session = factories.SessionFactory(capacity=10)
    for number in range(7):  # 7 of 10 seats taken: 3 left
        booked = resident(f"early{number}")
        services.book_session(session=session, resident=booked, actor=booked)
    session.refresh_from_db()
    assert session.seats_left == 3

    people = []
    for number in range(20):
        people.append(token_for(resident(f"api-rush{number}")))
    # Each resident taps twice: 40 requests on 20 threads, all released together.
    calls = [token for token in people for _ in range(2)]
    chunks = [calls[i::20] for i in range(20)]
    barrier = threading.Barrier(20)
    responses, lock = [], threading.Lock()

    def work(tokens):
        phone = Client()
        try:
            barrier.wait(timeout=60)
            for token in tokens:
                response = phone.post(
                    f"/api/v1/sessions/{session.pk}/bookings/", "{}", content_type="application/json", HTTP_X_SESSION_TOKEN=token
                )
                with lock:
                    responses.append(response)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)

    assert len(responses) == 40
    made = [response for response in responses if response.status_code == 201]
    refused = [response for response in responses if response.status_code != 201]
    assert len(made) == 20 and len(refused) == 20
    for response in refused:
        assert_problem(response, 409, "booking_refused")
    statuses = sorted(response.json()["status"] for response in made)
    assert statuses == ["confirmed"] * 3 + ["waitlisted"] * 17
    session.refresh_from_db()
    assert session.seats_taken == 10
    assert Booking.objects.filter(session=session).holding_seat().count() == 10
    waiting = list(Booking.objects.filter(session=session).waiting())
    assert [booking.waiting_position() for booking in waiting] == list(range(1, 18))
