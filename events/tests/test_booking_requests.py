"""Booking requests: a first-come session's bookings from its page are decided in the order they arrived, many at once.

A rush of residents is answered at once, each resident's request decided with the others waiting for the session in
one transaction of a few queries (services.decide_booking_requests), with book_session's rules, and refusals written
in the language of the resident's page. On PostgreSQL one process decides a session's requests at a time, and none is
left pending: proven with real threads on their own connections.
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from events import factories, services
from events.models import Booking, BookingPolicy, BookingRequest, HouseholdMember, Session

from .test_booking_path import QUEUE_ONLY
from .test_concurrency import residents, run_concurrently


def pending(session: Session, people, **fields) -> list[BookingRequest]:
    """Requests that arrived and are not decided yet (as when another process was deciding when they came)."""
    return [
        BookingRequest.objects.create(session=session, resident=person, language="en", request_token=uuid.uuid4(), **fields)
        for person in people
    ]


def decided(requests: list[BookingRequest]) -> list[BookingRequest]:
    return list(BookingRequest.objects.filter(pk__in=[sent.pk for sent in requests]).order_by("pk"))


def test_a_request_alone_is_decided_before_the_answer(site_pages, make_resident):
    session = factories.SessionFactory(capacity=1)
    first, second = make_resident(), make_resident()

    booked = services.request_booking(session=session, resident=first)
    queued = services.request_booking(session=session, resident=second)

    assert booked.decided_at is not None and booked.booking.status == Booking.Status.CONFIRMED
    assert queued.booking.status == Booking.Status.WAITLISTED and queued.booking.waiting_position() == 1
    session.refresh_from_db()
    assert session.seats_taken == 1
    assert booked.booking.follow_up_pending  # the audit entry and the message are the worker's, as for book_session


@QUEUE_ONLY  # the follow-up (audit entries, messages) is the worker's, not counted here
def test_pending_requests_are_decided_in_the_order_they_arrived_in_a_few_queries(site_pages, make_resident):
    session = factories.SessionFactory(capacity=2)
    requests = pending(session, [make_resident() for _ in range(6)])
    more = factories.SessionFactory(capacity=2, starts_at=session.starts_at + datetime.timedelta(days=1))
    pending(more, [make_resident() for _ in range(30)])
    services.booking_policy()  # its row made on first use

    with CaptureQueriesContext(connection) as six:
        services.decide_booking_requests(session_id=session.pk)
    with CaptureQueriesContext(connection) as thirty:
        services.decide_booking_requests(session_id=more.pk)

    assert len(six.captured_queries) == len(thirty.captured_queries) <= 20  # the same few, however many wait
    bookings = [sent.booking for sent in decided(requests)]
    assert [booking.status for booking in bookings] == ["confirmed"] * 2 + ["waitlisted"] * 4
    assert [booking.waiting_position() for booking in bookings[2:]] == [1, 2, 3, 4]
    assert [booking.queued_at for booking in bookings] == sorted({booking.queued_at for booking in bookings})
    assert [booking.pk for booking in bookings] == sorted(booking.pk for booking in bookings)
    assert not BookingRequest.objects.filter(decided_at=None).exists()
    assert Booking.objects.filter(session=more, status="confirmed").count() == 2


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_refusals_follow_book_sessions_rules_in_the_language_of_the_page(site_pages, make_resident, language):
    session = factories.SessionFactory(capacity=5, activity=factories.activity(household_limit=1))
    unverified, twice, household, suspended = (make_resident() for _ in range(4))
    EmailAddress.objects.filter(user=unverified).update(verified=False)
    child = HouseholdMember.objects.create(resident=household, name="小明", birth_year=1990, relation="child")
    policy = BookingPolicy.load()
    policy.no_show_limit = 1
    policy.save()
    past = factories.SessionFactory(
        starts_at=timezone.now() - datetime.timedelta(days=2, hours=2), ends_at=timezone.now() - datetime.timedelta(days=2)
    )
    Booking.objects.create(
        session=past, resident=suspended, participant_key=f"u{suspended.pk}", participant_name="x", status="no_show"
    )
    requests = pending(session, [unverified, twice, twice, household, suspended])
    requests.append(pending(session, [household], member=child)[0])
    BookingRequest.objects.update(language=language)

    services.decide_booking_requests(session_id=session.pk)

    outcome = decided(requests)
    made = [sent for sent in outcome if sent.booking is not None]
    assert [sent.resident_id for sent in made] == [twice.pk, household.pk]
    with translation.override(language):
        expected = [
            str(services.VERIFY_FIRST),
            "",
            services._("%(name)s already has a place or application for this session.")
            % {"name": made[0].booking.participant_name},
            "",
        ]
    assert [sent.refusal for sent in outcome[:4]] == expected
    suspended_says, household_says = outcome[4].refusal, outcome[5].refusal
    assert ("suspended" if language == "en" else "暂停") in suspended_says
    assert ("household" if language == "en" else "您家") in household_says
    assert Booking.objects.filter(session=session).count() == 2


def test_a_form_sent_twice_makes_one_request_and_one_booking(site_pages, make_resident):
    session = factories.SessionFactory(capacity=5)
    person, other = make_resident(), make_resident()
    token = uuid.uuid4()

    first = services.request_booking(session=session, resident=person, request_token=token)
    again = services.request_booking(session=session, resident=person, request_token=token)

    assert again.pk == first.pk and again.booking.pk == first.booking.pk
    assert Booking.objects.filter(session=session).count() == 1
    with pytest.raises(services.BookingError, match="already used"):
        services.request_booking(session=session, resident=other, request_token=token)


def test_a_batch_that_breaks_a_constraint_is_decided_one_by_one(site_pages, make_resident, monkeypatch):
    """Should a participant's booking appear that the rules did not see (the database refuses it), the batch is
    decided again one request at a time: the others are booked, the one refused says why."""
    session = factories.SessionFactory(capacity=5)
    person, other = make_resident(), make_resident()
    requests = pending(session, [person, person, other])
    monkeypatch.setattr(services, "_check_household_rows", lambda *args, **kwargs: None)  # blind to the duplicate

    services.decide_booking_requests(session_id=session.pk)

    outcome = decided(requests)
    assert [sent.booking is not None for sent in outcome] == [True, False, True]
    assert "already has a place" in outcome[1].refusal
    assert Booking.objects.filter(session=session).count() == 2


def test_requests_left_pending_are_decided_by_the_sweep_or_the_residents_page(site_pages, make_resident, client):
    session = factories.SessionFactory(capacity=5)
    person, other = make_resident(), make_resident()
    stuck = pending(session, [person, other])
    BookingRequest.objects.update(created_at=timezone.now() - datetime.timedelta(seconds=30))
    old = pending(session, [make_resident()])[0]
    BookingRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=8))

    client.force_login(person)
    client.get(reverse("events:my_bookings"))  # the process deciding them died: the resident's page decides them
    assert all(sent.booking is not None for sent in decided(stuck))

    more = pending(session, [make_resident()])
    BookingRequest.objects.filter(pk=more[0].pk).update(created_at=timezone.now() - datetime.timedelta(seconds=30))
    assert services.decide_waiting_requests.call() == 1
    assert more[0].pk not in {sent.pk for sent in BookingRequest.objects.filter(decided_at=None)}
    assert not BookingRequest.objects.filter(pk=old.pk).exists()  # a week old: deleted, its booking stays
    assert Booking.objects.filter(session=session).count() == 4


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_page_shows_requests_still_in_the_queue_and_refusals(client, site_pages, make_resident, language):
    session = factories.SessionFactory(capacity=5)
    person = make_resident()
    waiting = pending(session, [person])[0]
    refused = pending(factories.SessionFactory(capacity=5), [person])[0]
    BookingRequest.objects.filter(pk=refused.pk).update(decided_at=timezone.now(), refusal="本场次已取消。")
    client.force_login(person)

    with translation.override(language):
        page = client.get(reverse("events:my_bookings"))

    html = page.content.decode()
    assert page.status_code == 200
    assert session.activity.title in html and "本场次已取消。" in html
    with translation.override(language):
        assert services._("In the queue: decided in the order it arrived. This page shows the answer in a moment.") in html
        assert services._("Not booked") in html
    assert waiting.decided_at is None


@pytest.mark.django_db(transaction=True)
def test_500_requests_at_once_are_all_decided_in_the_order_they_arrived(postgres_only):
    """50 threads on their own connections send 500 requests for a 30-seat session: each is decided (none left
    pending, whoever was deciding when it came), the seats go to the first 30 to arrive, and the waiting list is the
    order of arrival, without ties."""
    from home.services import ensure_site

    ensure_site()
    session = factories.SessionFactory(capacity=30)
    people = residents(500)

    def send(person):
        return lambda: (
            services.request_booking(session=Session.objects.select_related("activity").get(pk=session.pk), resident=person).pk
        )

    results, errors = run_concurrently([send(person) for person in people], threads=50)

    assert errors == []
    assert len(results) == 500
    assert not BookingRequest.objects.filter(session=session, decided_at=None).exists()
    session.refresh_from_db()
    assert session.seats_taken == 30
    bookings = Booking.objects.filter(session=session)
    assert dict(bookings.values_list("status").annotate(n=Count("pk"))) == {"confirmed": 30, "waitlisted": 470}
    # Arrival is the moment a request was recorded (committed): the decisions follow it, and the bookings' ids and
    # their times in the queue both follow the decisions, without ties; the seats went to the first 30.
    decisions = list(bookings.order_by("queued_at").values_list("pk", "status"))
    assert [pk for pk, _status in decisions] == sorted(pk for pk, _status in decisions)
    assert [status for _pk, status in decisions] == ["confirmed"] * 30 + ["waitlisted"] * 470
    assert bookings.values("queued_at").distinct().count() == 500
    tokens = set(BookingRequest.objects.filter(session=session).values_list("request_token", flat=True))
    assert set(bookings.values_list("request_token", flat=True)) == tokens  # each request made its own booking
    waiting = list(bookings.waiting())
    assert [waiting[0].waiting_position(), waiting[-1].waiting_position()] == [1, 470]


@pytest.mark.django_db(transaction=True)
def test_a_request_arriving_while_another_process_decides_is_decided_by_that_process(postgres_only, monkeypatch):
    """The request that finds the decision taken answers at once, still pending; the process deciding looks for
    pending requests after its commit and decides it too: none is left waiting for the next sweep."""
    import threading

    from home.services import ensure_site

    ensure_site()
    session = factories.SessionFactory(capacity=5)
    first, late = residents(2)
    real = services._decide
    answered = {}

    def decide_while_another_arrives(session_id, requests):
        real(session_id, requests)
        if "late" not in answered:

            def arrive():
                try:
                    answered["late"] = services.request_booking(
                        session=Session.objects.select_related("activity").get(pk=session.pk), resident=late
                    )
                finally:
                    connection.close()

            other = threading.Thread(target=arrive)  # its own connection: the lock is taken, it does not wait
            other.start()
            other.join(30)

    monkeypatch.setattr(services, "_decide", decide_while_another_arrives)

    mine = services.request_booking(session=Session.objects.select_related("activity").get(pk=session.pk), resident=first)

    assert mine.booking is not None
    assert answered["late"].decided_at is None  # answered before its decision
    assert BookingRequest.objects.get(pk=answered["late"].pk).booking.status == Booking.Status.CONFIRMED
