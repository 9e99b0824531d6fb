"""Fixtures shared by every app's tests."""

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


@pytest.fixture(scope="session")
def demo_street(django_db_setup, django_db_blocker) -> Seeded:
    """The demo street (`manage.py seed_demo`), seeded once for every test that asks.

    Seeding takes ten to thirty seconds, so the tests on the street share one seed: it runs in a transaction
    that is rolled back when the run ends, and each test runs (and rolls back) in a savepoint inside it. The
    tests that ask for the street run last, one after the other (`pytest_collection_modifyitems` below), so no
    other test sees it. A module that adds to the street does so in a savepoint of its own that ends with it.
    On-commit callbacks of the seed run, as they would in `make run`.
    """
    from django.core import mail
    from django.core.management import call_command
    from django.test import TestCase

    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        mail.outbox = []
        with TestCase.captureOnCommitCallbacks(execute=True):
            call_command("seed_demo", stdout=out)
        yield Seeded(output=out.getvalue(), mails=list(mail.outbox))
        transaction.set_rollback(True)


def on_the_demo_street(item: pytest.Item) -> bool:
    """Whether the test uses the shared demo street above (not a module's own fixture of that name)."""
    fixtures = getattr(item, "_fixtureinfo", None)
    definitions = fixtures.name2fixturedefs.get("demo_street", ()) if fixtures else ()
    return bool(definitions) and definitions[-1].scope == "session"


def pytest_collection_modifyitems(config, items):
    """The tests on the demo street run last, together: the street stays seeded from the first to the last."""
    items[:] = [item for item in items if not on_the_demo_street(item)] + [item for item in items if on_the_demo_street(item)]
