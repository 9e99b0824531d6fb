"""Matching under load: real threads, each on its own database connection, released together by a barrier.

On PostgreSQL the decision is made under the post's row lock, backed by CHECK accepted_count <= helpers_wanted
and the unique (post, responder); on SQLite writers queue for the database lock (transaction_mode IMMEDIATE).
Both databases run these tests; the row lock is what PostgreSQL proves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from home.factories import GridFactory
from neighbours import services
from neighbours.factories import community_with_staff, neighbour
from neighbours.models import Post, Response


def run_together(calls: list[Callable]) -> tuple[list, list[BaseException]]:
    """Each call on its own thread (and connection), all started at once; the results and the errors."""
    barrier = threading.Barrier(len(calls))
    results, errors, lock = [], [], threading.Lock()

    def work(call):
        try:
            barrier.wait(timeout=60)
            outcome = call()
        except Exception as error:  # noqa: BLE001  (collected and asserted on below)
            with lock:
                errors.append(error)
        else:
            with lock:
                results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


@pytest.fixture
def street(transactional_db):
    grid = GridFactory(community=community_with_staff(code="rush"), number=1)
    poster = neighbour(grid)
    helpers = [neighbour(grid) for _ in range(20)]
    return grid, poster, helpers


def post_of(grid, poster, **fields) -> Post:
    fields.setdefault("kind", "request")
    fields.setdefault("category", "errands")
    return services.create_post(author=poster, grid=grid, title="Carry groceries", text="Five floors", **fields)


def test_twenty_offers_at_once_then_twenty_acceptances_at_once_accept_one(street):
    grid, poster, helpers = street
    post = post_of(grid, poster)

    offered, errors = run_together(
        [lambda helper=helper: services.offer_help(post=Post.objects.get(pk=post.pk), responder=helper).pk for helper in helpers]
    )
    assert errors == [] and len(set(offered)) == 20

    accepted, refused = run_together(
        [lambda pk=pk: services.accept(response=Response.objects.get(pk=pk), actor=poster).pk for pk in offered]
    )
    assert len(accepted) == 1 and len(refused) == 19
    assert all(isinstance(error, services.NeighbourError) for error in refused)
    post.refresh_from_db()
    assert post.accepted_count == 1 and post.status == Post.Status.MATCHED
    assert Response.objects.filter(post=post, status=Response.Status.ACCEPTED).count() == 1


def test_twenty_neighbours_offering_and_being_accepted_at_once_give_one_match(street):
    grid, poster, helpers = street
    post = post_of(grid, poster)

    def offer_and_accept(helper):
        response = services.offer_help(post=Post.objects.get(pk=post.pk), responder=helper)
        return services.accept(response=response, actor=poster).pk

    accepted, refused = run_together([lambda helper=helper: offer_and_accept(helper) for helper in helpers])
    assert len(accepted) == 1 and len(refused) == 19
    assert all(isinstance(error, services.NeighbourError) for error in refused)
    assert Response.objects.filter(post=post, status=Response.Status.ACCEPTED).count() == 1


def test_an_item_claimed_twice_at_once_is_claimed_once(street):
    grid, poster, helpers = street
    post = post_of(grid, poster, kind="give", category="items")

    claimed, refused = run_together(
        [lambda helper=helper: services.claim(post=Post.objects.get(pk=post.pk), responder=helper).pk for helper in helpers[:2]]
    )
    assert len(claimed) == 1 and len(refused) == 1 and isinstance(refused[0], services.NeighbourError)

    claimed, refused = run_together(
        [lambda helper=helper: services.claim(post=Post.objects.get(pk=post.pk), responder=helper).pk for helper in helpers[2:]]
    )
    assert claimed == [] and len(refused) == 18
    post.refresh_from_db()
    assert post.accepted_count == 1 and Response.objects.filter(post=post, status=Response.Status.ACCEPTED).count() == 1


def test_a_double_tap_on_offer_stores_one_response(street):
    grid, poster, helpers = street
    post = post_of(grid, poster)
    helper = helpers[0]
    results, errors = run_together(
        [lambda: services.offer_help(post=Post.objects.get(pk=post.pk), responder=helper).pk for _ in range(5)]
    )
    assert errors == [] and len(set(results)) == 1
    assert Response.objects.filter(post=post).count() == 1
