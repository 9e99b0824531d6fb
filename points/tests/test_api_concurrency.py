"""No overspending through the API: threads, each with its own database connection, reserve rewards at once on
PostgreSQL (the services' row locks and constraints decide, as for the pages).

The proofs: one resident's taps never take more points than the balance holds (it never goes below zero);
many residents never take more gifts than the stock holds; and a retried request with the same
Idempotency-Key, however many times and however simultaneously it arrives, makes one reservation.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection
from django.test import Client

from api.testing import assert_problem, token_for
from home.factories import CommunityFactory
from points import services
from points.factories import RewardFactory, resident
from points.models import Account, LedgerEntry, Reservation, Reward

THREADS = 12


def rush(calls: list[dict]) -> list:
    """Each call ({"url", "token", "key"}) on its own thread and connection, all released together."""
    barrier = threading.Barrier(len(calls))
    responses, lock = [], threading.Lock()

    def work(call):
        phone = Client()
        headers = {"HTTP_X_SESSION_TOKEN": call["token"]}
        if call.get("key"):
            headers["HTTP_IDEMPOTENCY_KEY"] = call["key"]
        try:
            barrier.wait(timeout=60)
            response = phone.post(call["url"], **headers)
            with lock:
                responses.append(response)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(call,)) for call in calls]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert len(responses) == len(calls)
    return responses


def with_points(name: str, points: int, community):
    user = resident(community=community, display_name=name)
    services.award(resident=user, rule_code="attendance", source_key=f"rush:{name}", amount=points)
    return user


@pytest.mark.django_db(transaction=True)
def test_one_residents_simultaneous_taps_never_overspend_the_balance(postgres_only):
    community = CommunityFactory()
    member = with_points("tapper", 100, community)  # enough for 3 rewards of 30
    reward = RewardFactory(cost=30, stock=50)
    token = token_for(member)
    url = f"/api/v1/rewards/{reward.pk}/reservations/"

    responses = rush([{"url": url, "token": token, "key": str(uuid.uuid4())} for _ in range(THREADS)])

    made = [response for response in responses if response.status_code == 201]
    refused = [response for response in responses if response.status_code != 201]
    assert len(made) == 3 and len(refused) == THREADS - 3
    for response in refused:
        assert_problem(response, 409, "points_refused")
    account = Account.objects.get(resident=member)
    assert account.balance == 10
    assert Reward.objects.get(pk=reward.pk).stock == 47
    assert sorted(LedgerEntry.objects.filter(account=account).values_list("balance_after", flat=True)) == [10, 40, 70, 100]
    assert services.audit() == []


@pytest.mark.django_db(transaction=True)
def test_many_residents_never_take_more_than_the_stock(postgres_only):
    community = CommunityFactory()
    people = [with_points(f"rusher{number}", 50, community) for number in range(THREADS)]
    reward = RewardFactory(cost=20, stock=5)
    url = f"/api/v1/rewards/{reward.pk}/reservations/"

    responses = rush([{"url": url, "token": token_for(person)} for person in people])

    made = [response for response in responses if response.status_code == 201]
    refused = [response for response in responses if response.status_code != 201]
    assert len(made) == 5 and len(refused) == THREADS - 5
    for response in refused:
        assert_problem(response, 409, "points_refused")
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert Reservation.objects.filter(reward=reward).count() == 5
    assert sorted(Account.objects.filter(resident__in=people).values_list("balance", flat=True)) == [30] * 5 + [50] * (
        THREADS - 5
    )
    assert services.audit() == []


@pytest.mark.django_db(transaction=True)
def test_the_same_idempotency_key_sent_at_once_makes_one_reservation(postgres_only):
    member = with_points("retrier", 100, CommunityFactory())
    reward = RewardFactory(cost=30, stock=50)
    token, key = token_for(member), str(uuid.uuid4())
    url = f"/api/v1/rewards/{reward.pk}/reservations/"

    responses = rush([{"url": url, "token": token, "key": key} for _ in range(THREADS)])

    assert all(response.status_code in (200, 201) for response in responses), [r.content for r in responses]
    assert {response.json()["id"] for response in responses} == {Reservation.objects.get().pk}
    assert Account.objects.get(resident=member).balance == 70
    assert Reward.objects.get(pk=reward.pk).stock == 49
