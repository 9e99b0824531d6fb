"""50 members voting at once on PostgreSQL: real threads, each on its own database connection.

Every vote on an item locks the item's row, then the member's, so votes are decided one at a time; the unique
constraints (one vote, one participation per member and item) back that up. Some members change their vote
(with their receipt on a secret ballot), some send the same vote twice at once (a double click on two devices).
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Count
from django.utils import translation

from deliberation.council import services
from deliberation.council.factories import council_with_members
from deliberation.council.models import Attendance, Ballot, Participation, Vote
from deliberation.council.tests.council_helpers import open_item, running_session, seats
from deliberation.mailbox.factories import community_with_staff
from events.tests.test_concurrency import run_concurrently

MEMBERS = 50
CHOICES = ["yes", "no", "abstain"]


def first_choice(number: int) -> str:
    return CHOICES[number % 3]


def setup(ballot: str):
    from home.services import ensure_site

    ensure_site()
    council = council_with_members(members=MEMBERS, community=community_with_staff(name="六和社区", code="liuhe"))
    members = seats(council)
    session, (item,) = running_session(council, present=members, ballot=ballot)
    open_item(session)
    return item, members


def expected(final: dict[int, str]) -> dict[str, int]:
    counted = Counter(final.values())
    return {choice: counted.get(choice, 0) for choice in CHOICES}


@pytest.mark.django_db(transaction=True)
def test_50_members_vote_at_once_on_an_open_ballot(postgres_only):
    item, members = setup("open")

    def vote(user, choice, then=None):
        def call():
            services.cast_vote(item=item, user=user, choice=choice)
            if then:
                services.cast_vote(item=item, user=user, choice=then)
            return user.pk

        return call

    # Members 0-9 change to yes; members 10-19 send their vote twice at once; the rest vote once.
    calls = [vote(m.user, first_choice(n), then="yes" if n < 10 else None) for n, m in enumerate(members)]
    calls += [vote(m.user, first_choice(n)) for n, m in enumerate(members) if 10 <= n < 20]

    results, errors = run_concurrently(calls, threads=MEMBERS)

    assert errors == []
    assert len(results) == 60
    final = {n: "yes" if n < 10 else first_choice(n) for n in range(MEMBERS)}
    votes = Vote.objects.filter(item=item)
    assert votes.count() == MEMBERS
    assert set(votes.values("member").annotate(n=Count("pk")).values_list("n", flat=True)) == {1}
    assert {v.member_id: v.choice for v in votes} == {m.pk: final[n] for n, m in enumerate(members)}
    assert votes.filter(changed_at__isnull=False).count() == 10 - len([n for n in range(10) if first_choice(n) == "yes"])
    result = services.close_voting(item=item, actor=members[0].user)
    assert {"yes": result.yes, "no": result.no, "abstain": result.abstain} == expected(final)
    assert (result.members, result.present) == (MEMBERS, Attendance.objects.count())


@pytest.mark.django_db(transaction=True)
def test_50_members_vote_at_once_on_a_secret_ballot(postgres_only):
    item, members = setup("secret")

    def vote(user, choice, then=None):
        def call():
            with translation.override("en"):  # each thread starts in the default language; the check reads English
                receipt = services.cast_vote(item=item, user=user, choice=choice)
                if then:
                    services.cast_vote(item=item, user=user, choice=then, receipt=receipt)
            return receipt

        return call

    calls = [vote(m.user, first_choice(n), then="yes" if n < 10 else None) for n, m in enumerate(members)]
    calls += [vote(m.user, first_choice(n)) for n, m in enumerate(members) if 10 <= n < 20]

    results, errors = run_concurrently(calls, threads=MEMBERS)

    # The second of two simultaneous first votes finds the participation and has no receipt: refused.
    assert len(errors) == 10
    assert all(isinstance(e, services.CouncilError) and "another device" in str(e) for e in errors)
    assert len(results) == MEMBERS and len(set(results)) == MEMBERS
    assert Participation.objects.filter(item=item).count() == MEMBERS
    assert Participation.objects.filter(item=item).values("member").distinct().count() == MEMBERS
    assert Ballot.objects.filter(item=item).count() == MEMBERS
    final = {n: "yes" if n < 10 else first_choice(n) for n in range(MEMBERS)}
    result = services.close_voting(item=item, actor=members[0].user)
    assert {"yes": result.yes, "no": result.no, "abstain": result.abstain} == expected(final)


@pytest.mark.django_db(transaction=True)
def test_results_closed_at_once_chain_without_gaps(postgres_only):
    """Ten items of one council (in ten sessions) closed at the same moment, each twice (chair and scheduler)."""
    from home.services import ensure_site

    ensure_site()
    council = council_with_members(members=5, community=community_with_staff(name="六和社区", code="liuhe"))
    members = seats(council)
    items = []
    for _number in range(10):
        session, (item,) = running_session(council, present=members[:3])
        items.append(open_item(session))
    chair = members[0].user
    calls = [lambda item=item: services.close_voting(item=item, actor=chair).sequence for item in items]
    calls += [lambda item=item: services.close_voting(item=item, actor=chair).sequence for item in items]

    results, errors = run_concurrently(calls, threads=20)

    assert sorted(results) == list(range(1, 11))
    assert len(errors) == 10 and all(isinstance(e, services.CouncilError) for e in errors)
    assert services.verify_results() == []


@pytest.mark.django_db(transaction=True)
def test_a_double_check_in_is_one_attendance(postgres_only):
    from home.services import ensure_site

    ensure_site()
    council = council_with_members(members=20, community=community_with_staff(name="六和社区", code="liuhe"))
    members = seats(council)
    session, _items = running_session(council, present=[], mode="hybrid")
    calls = [
        lambda member=member: services.check_in(session=session, user=member.user, method="online").pk
        for member in members
        for _twice in range(2)
    ]

    results, errors = run_concurrently(calls, threads=40)

    assert errors == []
    assert len(results) == 40 and len(set(results)) == 20
    assert Attendance.objects.filter(session=session).count() == 20


@pytest.mark.django_db(transaction=True)
def test_a_check_in_waits_for_the_end_of_the_session_and_is_refused(postgres_only):
    """While `end_session` holds the session's row, a check-in waits for it and then sees the session closed:
    no attendance lands after the final attendance was signed into the chain (`verify_results` would report
    it as added after the session ended)."""
    import threading
    import time

    from django.db import connection, transaction

    from deliberation.council.models import CouncilSession
    from home.services import ensure_site

    ensure_site()
    council = council_with_members(members=5, community=community_with_staff(name="六和社区", code="liuhe"))
    members = seats(council)
    session, _items = running_session(council, present=members[:1], mode="hybrid")
    locked, outcome = threading.Event(), {}

    def end_slowly():
        try:
            with transaction.atomic():
                CouncilSession.objects.select_for_update().get(pk=session.pk)  # as end_session does first
                locked.set()
                time.sleep(0.5)
                CouncilSession.objects.filter(pk=session.pk).update(status=CouncilSession.Status.CLOSED)
        finally:
            connection.close()

    def check_in():
        locked.wait(5)
        try:
            services.check_in(session=session, user=members[1].user, method="online")
            outcome["checked_in"] = True
        except services.CouncilError as error:
            outcome["refused"] = str(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=end_slowly), threading.Thread(target=check_in)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert "refused" in outcome and "checked_in" not in outcome
    assert not Attendance.objects.filter(session=session, member=members[1]).exists()
