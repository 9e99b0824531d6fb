"""Votes through the API at once on PostgreSQL: real threads, each with its own database connection.

The API calls the portal's `cast_vote`, which locks the item's row and then the member's, and the unique
constraints (one vote, one participation per member and item) back that up: however many requests a member's
phone sends at once, and however many members vote together, each member ends with exactly one counted vote.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.test import Client

from api.testing import assert_problem, token_for
from deliberation.council import services
from deliberation.council.factories import council_with_members
from deliberation.council.models import AgendaItem, Ballot, Participation, Vote
from deliberation.council.tests.council_helpers import open_item, running_session, seats
from deliberation.mailbox.factories import community_with_staff
from events.tests.test_concurrency import run_concurrently

CHOICES = ["yes", "no", "abstain"]


def setup(*, members: int, ballot: str):
    from home.services import ensure_site

    ensure_site()
    council = council_with_members(members=members, community=community_with_staff(name="六和社区", code="liuhe"))
    everyone = seats(council)
    session, (item,) = running_session(council, present=everyone, ballot=ballot)
    return open_item(session), everyone


def vote_call(item: AgendaItem, token: str, choice: str, receipt: str = ""):
    def call():
        headers = {"HTTP_X_SESSION_TOKEN": token, "HTTP_ACCEPT_LANGUAGE": "en"}
        if receipt:
            headers["HTTP_X_BALLOT_RECEIPT"] = receipt
        response = Client().post(
            f"/api/v1/council/items/{item.pk}/vote/", json.dumps({"choice": choice}), content_type="application/json", **headers
        )
        return choice, response

    return call


@pytest.mark.django_db(transaction=True)
def test_one_members_many_votes_and_changes_at_once_are_one_vote_on_an_open_ballot(postgres_only):
    item, members = setup(members=5, ballot="open")
    token = token_for(members[2].user)
    calls = [vote_call(item, token, CHOICES[n % 3]) for n in range(30)]

    results, errors = run_concurrently(calls, threads=15)

    assert errors == []
    assert len(results) == 30
    assert all(response.status_code == 200 for _choice, response in results), [r.content for _c, r in results]
    votes = list(Vote.objects.filter(item=item))
    assert len(votes) == 1 and votes[0].member_id == members[2].pk
    mine = Client().get(f"/api/v1/council/items/{item.pk}/vote/", HTTP_X_SESSION_TOKEN=token).json()
    assert (mine["voted"], mine["choice"]) == (True, votes[0].choice)
    result = services.close_voting(item=item, actor=members[0].user)
    assert result.yes + result.no + result.abstain == 1


@pytest.mark.django_db(transaction=True)
def test_one_members_many_votes_and_changes_at_once_are_one_ballot_on_a_secret_ballot(postgres_only):
    item, members = setup(members=5, ballot="secret")
    token = token_for(members[2].user)

    # Ten first votes at once (ten devices, or a retrying phone): one is counted, it alone holds the receipt.
    results, errors = run_concurrently([vote_call(item, token, CHOICES[n % 3]) for n in range(10)], threads=10)

    assert errors == []
    counted = [(choice, response) for choice, response in results if response.status_code == 200]
    assert len(counted) == 1, [response.content for _choice, response in results]
    for _choice, response in results:
        if response.status_code != 200:
            assert "another device" in assert_problem(response, 409, "council_refused")["message"]
    receipt = counted[0][1].json()["receipt"]
    assert Participation.objects.filter(item=item).count() == 1 and Ballot.objects.filter(item=item).count() == 1

    # Twenty changes at once with the receipt: all taken one at a time, the ballot is still one.
    results, errors = run_concurrently([vote_call(item, token, CHOICES[n % 3], receipt) for n in range(20)], threads=10)

    assert errors == []
    assert all(response.status_code == 200 for _choice, response in results)
    assert Participation.objects.filter(item=item).count() == 1 and Ballot.objects.filter(item=item).count() == 1
    mine = Client().get(f"/api/v1/council/items/{item.pk}/vote/", HTTP_X_SESSION_TOKEN=token, HTTP_X_BALLOT_RECEIPT=receipt)
    result = services.close_voting(item=item, actor=members[0].user)
    assert {"yes": result.yes, "no": result.no, "abstain": result.abstain}[mine.json()["choice"]] == 1
    assert result.yes + result.no + result.abstain == 1


@pytest.mark.parametrize("ballot", ["open", "secret"])
@pytest.mark.django_db(transaction=True)
def test_many_members_voting_at_once_all_count(postgres_only, ballot):
    item, members = setup(members=30, ballot=ballot)
    tokens = [token_for(member.user) for member in members]
    # Every member votes; the first ten send their vote twice at once (a double tap).
    calls = [vote_call(item, token, CHOICES[n % 3]) for n, token in enumerate(tokens)]
    calls += [vote_call(item, token, CHOICES[n % 3]) for n, token in enumerate(tokens[:10])]

    results, errors = run_concurrently(calls, threads=20)

    assert errors == []
    assert len(results) == 40
    answered = Counter(response.status_code for _choice, response in results)
    if ballot == "open":
        assert answered == {200: 40}  # a repeated open vote is the same vote
        assert Vote.objects.filter(item=item).values("member").distinct().count() == 30
        assert Vote.objects.filter(item=item).count() == 30
    else:
        # The second of two simultaneous first votes finds the participation and holds no receipt: refused.
        assert answered == {200: 30, 409: 10}
        assert Participation.objects.filter(item=item).count() == 30 and Ballot.objects.filter(item=item).count() == 30
    result = services.close_voting(item=item, actor=members[0].user)
    expected = Counter(CHOICES[n % 3] for n in range(30))
    assert {"yes": result.yes, "no": result.no, "abstain": result.abstain} == dict(expected)
    assert (result.members, result.present) == (30, 30)
