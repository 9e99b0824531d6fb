"""The keyed chain of a council (votes, ballots, attendance, recusals, results, published minutes): what
`verify_results` finds after a change in SQL, a chain recomputed without the key, the append-only export and
`--against`, and the public page's warning."""

from __future__ import annotations

import hashlib
import hmac
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import translation

from deliberation.council import chain, services
from deliberation.council.models import AgendaItem, Attendance, Ballot, ChainLink, Recusal, Result, Vote
from deliberation.council.tests.council_helpers import new_council, open_item, running_session
from deliberation.followup import services as followup
from deliberation.followup.models import MinutesPage
from deliberation.mailbox.factories import community_with_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def held(site_pages):
    """A council of 6; a session with 4 present: an open ballot (3 yes, 1 no), a secret ballot (2 yes, 1 no,
    1 abstain), an item with one recusal (3 yes); ended, minutes confirmed and published. Six links."""
    council, seats = new_council(community_with_staff(name="六和社区", code="liuhe"), members=6)
    session, items = running_session(council, present=seats[:4], items=3)
    chair = seats[0].user
    first, second, third = items
    open_item(session, position=1)
    for seat, choice in zip(seats[:4], ["yes", "yes", "yes", "no"], strict=True):
        services.cast_vote(item=first, user=seat.user, choice=choice)
    services.close_voting(item=first, actor=chair)
    open_item(session, position=2, ballot=AgendaItem.Ballot.SECRET)
    for seat, choice in zip(seats[:4], ["yes", "yes", "no", "abstain"], strict=True):
        services.cast_vote(item=second, user=seat.user, choice=choice)
    services.close_voting(item=second, actor=chair)
    services.declare_recusal(item=third, user=seats[3].user, reason="我家就在这栋楼")
    open_item(session, position=3)
    for seat in seats[:3]:
        services.cast_vote(item=third, user=seat.user, choice="yes")
    services.close_voting(item=third, actor=chair)
    services.end_session(session=session, actor=chair)
    for seat in seats[:3]:
        followup.confirm_minutes(session=session, user=seat.user)
    followup.publish_minutes(session=session, actor=chair)
    return {"council": council, "seats": seats, "session": session, "items": items}


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def unlocked():
    """On PostgreSQL the triggers on results and chain links are switched off, as the database's owner could;
    the test's transaction (DDL included) is rolled back afterwards."""
    if connection.vendor == "postgresql":
        sql("SET CONSTRAINTS ALL IMMEDIATE")
        sql("ALTER TABLE deliberation_result DISABLE TRIGGER deliberation_result_immutable")
        sql("ALTER TABLE deliberation_chainlink DISABLE TRIGGER deliberation_chainlink_immutable")
        sql("SET CONSTRAINTS ALL DEFERRED")


def name(seat) -> str:
    return f"{seat.user.profile.display_name} (#{seat.pk})"


def where(held, position: int | None = None) -> str:
    session = held["session"]
    text = f"Session “{session.title}” (#{session.pk})"
    if position is not None:
        item = held["items"][position - 1]
        text += f", item “{item.title}” (#{item.pk})"
    return text


def verify(**kwargs) -> list[str]:
    return services.verify_results(**kwargs)


def test_each_close_the_end_and_the_publication_append_a_signed_link(held):
    links = list(ChainLink.objects.filter(council=held["council"]).order_by("sequence"))
    assert [(link.sequence, link.kind) for link in links] == [
        (1, "item"),
        (2, "item"),
        (3, "item"),
        (4, "session"),
        (5, "minutes"),
    ]
    assert links[0].previous_mac == "0" * 64 and all(b.previous_mac == a.mac for a, b in zip(links, links[1:], strict=False))
    first, second, third = (link.payload for link in links[:3])
    assert [vote["choice"] for vote in first["votes"]] == ["yes", "yes", "yes", "no"] and first["ballots"] == []
    assert sorted(ballot["choice"] for ballot in second["ballots"]) == ["abstain", "no", "yes", "yes"] and second["votes"] == []
    assert third["recusals"] == [{"member": held["seats"][3].pk, "reason": "我家就在这栋楼"}]
    assert len(first["attendance"]) == 4 and first["result"]["yes"] == 3
    assert sorted(links[4].payload["minutes"]) == ["en", "zh-hans"] and len(links[4].payload["confirmations"]) == 3
    assert verify() == []
    out = StringIO()
    call_command("verify_results", stdout=out)
    assert out.getvalue() == "OK: 3 result(s) and 5 chain link(s) verified.\n"


def test_the_mac_is_hmac_sha256_with_the_key_from_the_settings(held, settings):
    link = ChainLink.objects.filter(council=held["council"]).first()
    message = chain.canonical(chain.link_fields(link)).encode()
    assert link.mac == hmac.new(settings.COUNCIL_CHAIN_KEY.encode(), message, hashlib.sha256).hexdigest()
    settings.COUNCIL_CHAIN_KEY = "another key, as on a server whose key was lost or replaced"
    assert all("does not carry a valid signature" in problem for problem in verify())
    assert len(verify()) == 5


def test_a_vote_changed_after_close_is_found(held, unlocked):
    voter = held["seats"][3]
    sql("UPDATE deliberation_vote SET choice = 'yes' WHERE member_id = %s AND item_id = %s", [voter.pk, held["items"][0].pk])
    assert verify() == [f"{where(held, 1)}: the vote of {name(voter)} was changed after voting closed."]


def test_a_vote_added_or_removed_after_close_is_found(held, unlocked):
    Vote.objects.filter(item=held["items"][0], member=held["seats"][0]).delete()
    Vote.objects.create(item=held["items"][0], member=held["seats"][4], choice="yes")
    assert verify() == [
        f"{where(held, 1)}: the vote of {name(held['seats'][0])} was removed after voting closed.",
        f"{where(held, 1)}: a vote of {name(held['seats'][4])} was added after voting closed.",
    ]


def test_a_secret_ballot_changed_after_close_is_found(held, unlocked):
    ballot = Ballot.objects.filter(item=held["items"][1], choice="no").get()
    sql(
        "UPDATE deliberation_ballot SET choice = 'yes' WHERE id = %s",
        [ballot.pk.hex if connection.vendor == "sqlite" else ballot.pk],
    )
    assert verify() == [f"{where(held, 2)}: a secret ballot was changed after voting closed."]


def test_an_attendance_deleted_after_the_session_is_found(held, unlocked):
    absent = held["seats"][1]
    sql("DELETE FROM deliberation_attendance WHERE session_id = %s AND member_id = %s", [held["session"].pk, absent.pk])
    # Every link that saw it says the same: reported once.
    assert verify() == [f"{where(held)}: the attendance of {name(absent)} was removed after it was signed."]


def test_an_attendance_added_after_the_session_is_found(held, unlocked):
    late = held["seats"][5]
    Attendance.objects.create(session=held["session"], member=late, method=Attendance.Method.SECRETARY)
    assert verify() == [f"{where(held)}: an attendance of {name(late)} was added after the session ended."]


def test_a_recusal_changed_or_removed_after_close_is_found(held, unlocked):
    recused = held["seats"][3]
    sql("UPDATE deliberation_recusal SET reason = '' WHERE member_id = %s", [recused.pk])
    assert verify() == [f"{where(held, 3)}: the recusal of {name(recused)} was changed after voting closed."]
    Recusal.objects.filter(member=recused).delete()
    assert verify() == [f"{where(held, 3)}: the recusal of {name(recused)} was removed after voting closed."]


def test_a_result_changed_after_close_is_found(held, unlocked):
    result = Result.objects.get(item=held["items"][0])
    sql("UPDATE deliberation_result SET yes = 4, no = 0 WHERE id = %s", [result.pk])
    council = held["council"].pk
    assert verify() == [
        f"{where(held, 1)}: the result was changed after voting closed.",
        f"Council {council}: result #1 (id {result.pk}) was changed after it was stored.",
    ]


def test_the_published_minutes_changed_afterwards_are_found(held, unlocked):
    english = MinutesPage.objects.get(session=held["session"], locale__language_code="en")
    sql(
        "UPDATE deliberation_minutespage SET body = %s WHERE page_ptr_id = %s",
        ["<p>The motion passed with 5 in favour.</p>", english.pk],
    )
    assert verify() == [f"{where(held)}: the published minutes (en) were changed after publication."]


def _rewrite(held, *, key: str, change) -> None:
    """What someone with the database (and `key`) does: change a row, then rewrite every link from the first it
    touches onwards, recomputed from the rows and signed with `key`."""
    change()
    links = list(ChainLink.objects.filter(council=held["council"]).order_by("sequence"))
    sql("DELETE FROM deliberation_chainlink WHERE council_id = %s", [held["council"].pk])
    previous_mac = chain.GENESIS_MAC
    for link in links:
        link.payload = json.loads(chain.canonical(chain.current_payload(link)))
        link.previous_mac = previous_mac
        link.mac = chain.compute_mac(link, key=key)
        link._state.adding = True
        link.save()
        previous_mac = link.mac


def test_a_chain_recomputed_without_the_key_is_found(held, unlocked):
    voter = held["seats"][3]
    _rewrite(
        held,
        key="a guess at the key",
        change=lambda: Vote.objects.filter(item=held["items"][0], member=voter).update(choice="yes"),
    )
    problems = verify()
    assert len(problems) == 5
    assert problems[0] == (
        f"Council {held['council'].pk}: chain link #1 (session “{held['session'].title}” (#{held['session'].pk})) does not "
        "carry a valid signature: it was written or changed without the chain key."
    )


def test_export_is_append_only_and_idempotent(held, tmp_path, settings):
    path = tmp_path / "chain.jsonl"
    out = StringIO()
    call_command("export_chain", str(path), stdout=out)
    assert out.getvalue() == f"5 link(s) appended to {path}.\n"
    first = path.read_bytes()
    lines = [json.loads(line) for line in first.decode().splitlines()]
    assert [line["sequence"] for line in lines] == [1, 2, 3, 4, 5]
    assert set(lines[0]) == {
        "council",
        "sequence",
        "kind",
        "session",
        "item",
        "created_at",
        "previous_mac",
        "mac",
        "payload_digest",
    }
    assert "我家就在这栋楼" not in first.decode() and "votes" not in first.decode()  # digests, no votes or names

    assert chain.export_chain(path=path) == 0
    assert path.read_bytes() == first

    # A later session's links are appended after the earlier lines, which stay byte for byte.
    council, seats = held["council"], held["seats"]
    later, (item,) = running_session(council, present=seats[:4])
    open_item(later)
    services.close_voting(item=item, actor=seats[0].user)
    assert chain.export_chain(path=path) == 1
    assert path.read_bytes().startswith(first) and len(path.read_bytes().splitlines()) == 6
    assert verify(against=path) == []


def test_against_the_export_finds_a_link_removed_from_the_end(held, tmp_path, unlocked):
    path = tmp_path / "chain.jsonl"
    chain.export_chain(path=path)
    sql("DELETE FROM deliberation_chainlink WHERE council_id = %s AND sequence = 5", [held["council"].pk])
    council = held["council"].pk
    assert verify() == []  # the chain alone cannot tell that its end was cut off
    assert verify(against=path) == [f"Council {council}: chain link #5, exported to chain.jsonl, is missing from the database."]
    out = StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("verify_results", "--against", str(path), stdout=out)
    assert "is missing from the database" in out.getvalue()


def test_against_the_export_finds_a_chain_rewritten_with_the_key(held, tmp_path, unlocked, settings):
    path = tmp_path / "chain.jsonl"
    chain.export_chain(path=path)
    voter = held["seats"][3]
    _rewrite(
        held,
        key=settings.COUNCIL_CHAIN_KEY,
        change=lambda: Vote.objects.filter(item=held["items"][0], member=voter).update(choice="yes"),
    )
    council = held["council"].pk
    assert verify() == []  # signed with the key: only the copy outside the database tells
    assert verify(against=path) == [
        f"Council {council}: chain link #{n} differs from its copy exported to chain.jsonl: the chain was rewritten."
        for n in range(1, 6)
    ]
    before = path.read_bytes()
    with pytest.raises(CommandError, match="Nothing appended: the database disagrees"):
        call_command("export_chain", str(path), stdout=StringIO())
    assert path.read_bytes() == before


def test_a_damaged_export_line_is_refused(held, tmp_path):
    path = tmp_path / "chain.jsonl"
    path.write_text('{"council": 1}\n')
    with pytest.raises(CommandError, match="Line 1 of the export cannot be read"):
        call_command("verify_results", "--against", str(path), stdout=StringIO())
    with pytest.raises(CommandError, match="There is no file"):
        call_command("verify_results", "--against", str(tmp_path / "missing.jsonl"), stdout=StringIO())


@pytest.mark.parametrize(
    "language, warning, head",
    [
        ("zh-hans", "警告：本次会议的记录未通过核验。", "记录校验码"),
        ("en", "Warning: this session's record does not verify.", "Record check code"),
    ],
)
def test_the_public_page_shows_the_head_and_warns_when_tampered(client, held, unlocked, language, warning, head):
    session = held["session"]
    with translation.override(language):
        page = reverse("council:council_session", args=[session.pk])
    last = ChainLink.objects.filter(session=session).order_by("-sequence").first()
    html = client.get(page).content.decode()
    assert head in html and f"#{last.sequence} · {last.mac[:16]}" in html
    assert "data-chain-warning" not in html and warning not in html

    sql("UPDATE deliberation_vote SET choice = 'no' WHERE item_id = %s", [held["items"][0].pk])
    from plumbing.middleware import bump_page_cache_generation

    bump_page_cache_generation()  # what any publication does; a tampered database bumps nothing
    html = client.get(page).content.decode()
    assert "data-chain-warning" in html and warning in html


def test_postgresql_refuses_to_change_or_delete_a_link(held, postgres_only):
    link = ChainLink.objects.filter(council=held["council"]).first()
    for statement in (
        "UPDATE deliberation_chainlink SET mac = 'x' WHERE id = %s",
        "DELETE FROM deliberation_chainlink WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="council chain links are immutable"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, [link.pk])
    assert verify() == []


def test_a_link_cannot_be_saved_twice_or_deleted(held):
    link = ChainLink.objects.first()
    with pytest.raises(ValueError, match="cannot be changed"):
        link.save()
    with pytest.raises(ValueError, match="cannot be deleted"):
        link.delete()
