"""Stored results are chained by hash: a change is found by `verify_results`, and PostgreSQL refuses it outright."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from deliberation.council import services
from deliberation.council.models import Result
from deliberation.council.tests.council_helpers import new_council, open_item, running_session
from deliberation.mailbox.factories import community_with_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def chain(site_pages) -> list[Result]:
    """Three results of one council, in order."""
    council, seats = new_council(community_with_staff(name="六和社区", code="liuhe"), members=5)
    session, items = running_session(council, present=seats[:4], items=3)
    results = []
    for item in items:
        open_item(session, position=item.position)
        for seat in seats[:4]:
            services.cast_vote(item=item, user=seat.user, choice="yes")
        results.append(services.close_voting(item=item, actor=seats[0].user))
    return results


@pytest.fixture
def tampering(chain):
    """Change stored results in SQL. On PostgreSQL the trigger is switched off first, as the owner of the
    database could; the test's transaction (DDL included) is rolled back afterwards."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks may block the ALTER
            cursor.execute("ALTER TABLE deliberation_result DISABLE TRIGGER deliberation_result_immutable")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def in_chain(result: Result, what: str) -> str:
    """The keyed chain's report (deliberation.council.chain) about the item of `result`."""
    item = result.item
    session = item.session
    return f"Session “{session.title}” (#{session.pk}), item “{item.title}” (#{item.pk}): {what}"


def run_command(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_results", *args, stdout=out)
    return out.getvalue()


def test_an_untouched_chain_verifies(chain):
    assert services.verify_results() == []
    assert services.verify_results(council=chain[0].council) == []
    assert run_command() == "OK: 3 result(s) and 3 chain link(s) verified.\n"
    assert run_command("--council", str(chain[0].council_id)) == "OK: 3 result(s) and 3 chain link(s) verified.\n"
    with pytest.raises(CommandError, match="There is no council"):
        run_command("--council", "999999")


def test_a_count_changed_in_sql_is_found(chain, tampering):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE deliberation_result SET yes = 0, no = 4 WHERE id = %s", [chain[1].pk])
    problems = services.verify_results()
    assert problems == [
        in_chain(chain[1], "the result was changed after voting closed."),
        f"Council {chain[0].council_id}: result #2 (id {chain[1].pk}) was changed after it was stored.",
    ]
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("verify_results", stdout=out)
    assert "result #2" in out.getvalue()


def test_a_recomputed_digest_still_breaks_the_chain(chain, tampering):
    """Someone who changes a result and its digest must also rewrite every later result."""
    forged = Result.objects.get(pk=chain[0].pk)
    forged.outcome = "failed"
    digest = services.result_digest(forged)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE deliberation_result SET outcome = 'failed', digest = %s WHERE id = %s", [digest, chain[0].pk])
    council = chain[0].council_id
    assert services.verify_results() == [
        in_chain(chain[0], "the result was changed after voting closed."),
        f"Council {council}: result #1, stored according to the audit log, is missing or changed.",
        f"Council {council}: result #2 (id {chain[1].pk}) does not chain to the result before it.",
    ]


def test_a_removed_result_leaves_a_gap(chain, tampering):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM deliberation_result WHERE id = %s", [chain[1].pk])
    council = chain[0].council_id
    assert services.verify_results() == [
        in_chain(chain[1], "the stored result is missing."),
        f"Council {council}: result #2, stored according to the audit log, is missing or changed.",
        f"Council {council}: result #3 (id {chain[2].pk}) follows #1: a result is missing.",
        f"Council {council}: result #3 (id {chain[2].pk}) does not chain to the result before it.",
    ]


def test_the_last_result_removed_is_missed_by_the_audit_log(chain, tampering):
    """The chain alone cannot tell that its end was cut off; the audit log remembers every stored result."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM deliberation_result WHERE id = %s", [chain[2].pk])
    assert services.verify_results() == [
        in_chain(chain[2], "the stored result is missing."),
        f"Council {chain[0].council_id}: result #3, stored according to the audit log, is missing or changed.",
    ]


@pytest.mark.parametrize(
    "sql",
    ["UPDATE deliberation_result SET yes = 0 WHERE id = %s", "DELETE FROM deliberation_result WHERE id = %s"],
)
def test_postgresql_refuses_to_change_a_stored_result(chain, postgres_only, sql):
    with pytest.raises(DatabaseError, match="council results are immutable"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [chain[1].pk])
    assert Result.objects.get(pk=chain[1].pk).yes == 4
    assert services.verify_results() == []
