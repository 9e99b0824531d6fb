"""Fixtures shared by every app's tests."""

import contextlib
import dataclasses
import io
import os

import pytest
from django.core.cache import cache
from django.db import connection, transaction

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> None:
    """Skip on a bare machine, fail in CI: a missing browser or server is then a defect."""
    if IN_CI:
        pytest.fail(f"CI must be able to run this test: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    from outbox import sms, wechat

    sms.sent.clear()
    wechat.sent.clear()


@pytest.fixture
def site_pages(db):
    """Locales, both home pages and the default site."""
    from home.services import ensure_site

    return ensure_site()


@pytest.fixture
def postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("only meaningful on PostgreSQL (run with DATABASE_URL=postgres://...)")


@dataclasses.dataclass(frozen=True)
class Seeded:
    output: str  # what `manage.py seed_demo` printed
    mails: list  # what it sent (Django's test outbox): nothing, the residents are invented


# The open demo street: what `demo_street` entered (the database unblocked, its transaction), until it is closed.
STREET = contextlib.ExitStack()


@pytest.fixture(scope="session")
def demo_street(django_db_setup, django_db_blocker) -> Seeded:
    """The demo street (`manage.py seed_demo`), seeded once for every test that asks.

    Seeding takes ten to thirty seconds, so the tests on the street share one seed: it runs in a transaction
    that is rolled back after the last of them, and each test runs (and rolls back) in a savepoint inside it.
    They run one after the other, after the other tests that use the database in a transaction and before the
    `transaction=True` ones (`pytest_collection_modifyitems` below), so no other test sees the street. A module
    that adds to the street does so in a savepoint of its own that ends with it. On-commit callbacks of the seed
    run, as they would in `make run`.
    """
    from django.core import mail
    from django.core.management import call_command
    from django.test import TestCase

    STREET.enter_context(django_db_blocker.unblock())
    STREET.enter_context(transaction.atomic())
    out = io.StringIO()
    mail.outbox = []
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("seed_demo", stdout=out)
    yield Seeded(output=out.getvalue(), mails=list(mail.outbox))
    close_the_demo_street()


def close_the_demo_street() -> None:
    if connection.in_atomic_block:
        transaction.set_rollback(True)
    STREET.close()


def on_the_demo_street(item: pytest.Item) -> bool:
    """Whether the test uses the shared demo street above (not a module's own fixture of that name)."""
    fixtures = getattr(item, "_fixtureinfo", None)
    definitions = fixtures.name2fixturedefs.get("demo_street", ()) if fixtures else ()
    return bool(definitions) and definitions[-1].scope == "session"


def in_a_transaction(item: pytest.Item) -> bool:
    """Whether the test runs in a transaction that is rolled back (pytest-django's first kind of test)."""
    marker = item.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
    transactional = transactional or {"transactional_db", "live_server"} & set(item.fixturenames)
    return not transactional and (marker is not None or "db" in item.fixturenames)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """The tests on the demo street run together, after pytest-django's ordering (tests in a rolled-back
    transaction first, then `transaction=True` ones, then those without a database): last of the first kind."""
    street = [item for item in items if on_the_demo_street(item)]
    others = [item for item in items if not on_the_demo_street(item)]
    first_kind = sum(1 for item in others if in_a_transaction(item))
    items[:] = others[:first_kind] + street + others[first_kind:]


def pytest_runtest_setup(item):
    if on_the_demo_street(item) and STREET_CLOSED:
        pytest.fail("the demo street was rolled back before this test: the tests on it must run one after the other")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the last test on the demo street (its module fixtures torn down), the street is rolled back."""
    global STREET_CLOSED
    result = yield
    if on_the_demo_street(item) and (nextitem is None or not on_the_demo_street(nextitem)):
        close_the_demo_street()
        STREET_CLOSED = True
    return result


STREET_CLOSED = False
