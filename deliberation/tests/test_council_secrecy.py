"""Secret ballots: nothing in the database leads from a member to what they chose.

`Participation` says who voted, `Ballot` says what was chosen; they share only the item. A ballot has no member,
no user, no participation, no time and a random key, and the receipt that lets its voter change it is stored
only as a hash.
"""

import pytest
from django.apps import apps
from django.db import connection, models
from django.utils import translation
from wagtail.models import ModelLogEntry

from deliberation.factories import community_with_staff
from deliberation.models import AgendaItem, Ballot, Participation, Vote
from deliberation.services import council as services
from deliberation.tests.council_helpers import new_council, open_item, running_session

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def voted(site_pages):
    """A secret vote of nine members (some changed with their receipt, one recorded by the secretary)."""
    council, seats = new_council(community_with_staff(name="六和社区", code="liuhe"), members=11)
    session, (item,) = running_session(council, present=seats[:10], ballot="secret")
    open_item(session)
    choices = ["yes", "no", "abstain", "yes", "yes", "no", "yes", "abstain"]
    receipts = [
        services.cast_vote(item=item, user=seat.user, choice=choice) for seat, choice in zip(seats, choices, strict=False)
    ]
    services.cast_vote(item=item, user=seats[1].user, choice="yes", receipt=receipts[1])
    services.record_vote(item=item, member=seats[8], choice="no", actor=seats[1].user)
    return item, seats, receipts


def test_the_ballot_table_holds_exactly_id_item_choice_and_receipt_hash():
    with connection.cursor() as cursor:
        columns = {column.name for column in connection.introspection.get_table_description(cursor, Ballot._meta.db_table)}
    assert columns == {"id", "item_id", "choice", "receipt_hash"}


def test_a_ballot_has_no_member_no_time_and_a_random_key():
    fields = Ballot._meta.get_fields()
    relations = {field.name: field.related_model for field in fields if field.is_relation}
    assert relations == {"item": AgendaItem}
    assert not [field for field in fields if isinstance(field, models.DateField | models.TimeField)]
    assert isinstance(Ballot._meta.pk, models.UUIDField) and Ballot._meta.pk.default.__name__ == "uuid4"
    # Nothing points at a ballot either: no table can be joined to it but through the item.
    pointing = [
        f"{model.__name__}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields(include_hidden=True)
        if field.is_relation and field.related_model is Ballot and field.concrete
    ]
    assert pointing == []


def test_participation_and_ballot_rows_share_nothing_but_the_item(voted):
    item, _seats, receipts = voted
    participations = list(Participation.objects.filter(item=item).values())
    ballots = list(Ballot.objects.filter(item=item).values())
    assert len(participations) == len(ballots) == 9
    seen_in_participations = {str(v) for row in participations for k, v in row.items() if k != "item_id" and v is not None}
    seen_in_ballots = {str(v) for row in ballots for k, v in row.items() if k != "item_id"}
    assert seen_in_participations & seen_in_ballots == set()
    # The receipts themselves are nowhere in the database, only their hashes.
    assert not set(receipts) & {row["receipt_hash"] for row in ballots}
    assert not Vote.objects.filter(item=item).exists()


def test_the_counts_are_right_but_no_choice_is_anyone_s(voted):
    item, seats, _receipts = voted
    assert sorted(Ballot.objects.filter(item=item).values_list("choice", flat=True)) == sorted(
        ["yes", "yes", "abstain", "yes", "yes", "no", "yes", "abstain", "no"]
    )
    for seat in seats[:9]:
        assert services.my_choice(item=item, user=seat.user) is None
        assert services.has_voted(item=item, user=seat.user)


def test_the_audit_log_never_records_a_secret_choice(voted):
    item, _seats, _receipts = voted
    entries = list(ModelLogEntry.objects.values_list("action", "data"))
    assert ("deliberation.vote.record" in [action for action, _data in entries]) is True
    for _action, data in entries:
        assert "choice" not in (data or {}) and "receipt" not in str(data or {})


def test_changing_a_secret_vote_leaves_participation_as_it_was(voted):
    item, seats, receipts = voted
    before = list(Participation.objects.order_by("pk").values())
    services.cast_vote(item=item, user=seats[0].user, choice="no", receipt=receipts[0])
    assert list(Participation.objects.order_by("pk").values()) == before


def cast_in_order(count: int):
    """`count` members vote in turn on a secret item; returns the item and the receipt hashes in voting order."""
    council, seats = new_council(community_with_staff(name="六和社区", code="liuhe"), members=count)
    session, (item,) = running_session(council, present=seats, ballot="secret")
    open_item(session)
    receipts = [services.cast_vote(item=item, user=seat.user, choice="yes") for seat in seats]
    return item, [services._receipt_hash(receipt) for receipt in receipts]


def test_the_storage_order_of_ballots_is_not_the_voting_order(site_pages):
    """SQLite's rowid and PostgreSQL's ctid follow insertion order: the ballots are rewritten in random order
    at every vote (the chance that 12 shuffled ballots come out in voting order is 1 in 479 million)."""
    item, in_voting_order = cast_in_order(12)
    physical = "ctid" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT receipt_hash FROM deliberation_ballot WHERE item_id = %s ORDER BY {physical}", [item.pk])  # noqa: S608
        stored_order = [row[0] for row in cursor.fetchall()]
    assert sorted(stored_order) == sorted(in_voting_order)
    assert stored_order != in_voting_order


@pytest.mark.django_db(transaction=True)
def test_no_ballot_shares_its_transaction_stamp_with_an_earlier_participation(postgres_only):
    """PostgreSQL stamps each row with the transaction that wrote it (xmin): a ballot written alone would share it
    with its voter's participation. All of an item's ballots are rewritten at each vote, so they all carry the
    last vote's stamp, which tells nothing."""
    from home.services import ensure_site

    ensure_site()
    item, _hashes = cast_in_order(8)
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT xmin::text FROM deliberation_ballot WHERE item_id = %s", [item.pk])
        ballot_stamps = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT xmin::text FROM deliberation_participation WHERE item_id = %s ORDER BY id", [item.pk])
        participation_stamps = [row[0] for row in cursor.fetchall()]
    assert len(ballot_stamps) == 1
    assert len(set(participation_stamps)) == 8
    assert set(participation_stamps[:-1]) & ballot_stamps == set()
