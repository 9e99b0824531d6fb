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
    from plumbing.middleware import LocalCopies

    cache.clear()
    LocalCopies.forget_all()  # each process's copies of shared parts, admin links, resident pages
    yield
    cache.clear()
    LocalCopies.forget_all()


def _indexes_off() -> None:
    """Wagtail's reference index (what links to what, for the admin's "usage" pages) is brought up to date by a
    task on every save; no test reads it unless it asks for `wagtail_indexes`. Migrations connect it again."""
    from wagtail.signal_handlers import disconnect_reference_index_signal_handlers

    disconnect_reference_index_signal_handlers()


@pytest.fixture(autouse=True)
def _wagtail_indexes_off():
    _indexes_off()


@contextlib.contextmanager
def wagtail_indexes_on():
    """Wagtail's search and reference indexes kept up to date on every save, as in production (off in tests
    otherwise: see linli/settings/test.py). For a layer made once; tests ask for the `wagtail_indexes` fixture."""
    from django.conf import settings
    from django.test import override_settings
    from wagtail.signal_handlers import connect_reference_index_signal_handlers

    backends = {name: {**conf, "AUTO_UPDATE": True} for name, conf in settings.WAGTAILSEARCH_BACKENDS.items()}
    connect_reference_index_signal_handlers()
    try:
        with override_settings(WAGTAILSEARCH_BACKENDS=backends):
            yield
    finally:
        _indexes_off()


@pytest.fixture
def wagtail_indexes():
    with wagtail_indexes_on():
        yield


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    from outbox import sms, wechat

    sms.sent.clear()
    wechat.sent.clear()


class Layer:
    """Data that a group of tests shares: made once, in a transaction that is rolled back after the last of
    them, while each test runs (and rolls back) in a savepoint inside it.

    The tests of a group run one after the other (`pytest_collection_modifyitems` below), so no other test
    sees the layer. Only tests that run in a rolled-back transaction (pytest-django's first kind, which it
    runs before the `transaction=True` ones) share it; any other test that asks makes the data itself.
    Layers inside the shared site's (`on_the_site_with`) are savepoints in its transaction: an app's
    community, a module's street, each made once instead of once per test (some 300 queries a community).
    """

    def __init__(self, member) -> None:
        self.member = member  # (item) -> bool: whether a test belongs to the group
        self.entered = contextlib.ExitStack()
        self.running = False  # its transaction is open
        self.fixture = ""  # the session fixture that opens it, for a layer inside the site's
        self.over = False

    def open(self, django_db_blocker) -> bool:
        """Start the layer's transaction, if the test being set up belongs to the group; whether it did."""
        if self.over or not self.member(CURRENT_TEST[0]):
            return False
        self.entered.enter_context(django_db_blocker.unblock())
        self.entered.enter_context(transaction.atomic())
        self.running = True
        return True

    def close(self) -> None:
        if self.running:
            transaction.set_rollback(True)
        self.entered.close()
        self.running, self.over = False, True


CURRENT_TEST: list = [None]  # the test being set up, for the layers


def in_a_transaction(item: pytest.Item) -> bool:
    """Whether the test runs in a transaction that is rolled back (pytest-django's first kind of test)."""
    marker = item.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
    transactional = transactional or {"transactional_db", "live_server"} & set(item.fixturenames)
    return not transactional and (marker is not None or "db" in item.fixturenames)


def on_the_demo_street(item: pytest.Item) -> bool:
    """Whether the test uses the shared demo street below (not a module's own fixture of that name)."""
    fixtures = getattr(item, "_fixtureinfo", None)
    definitions = fixtures.name2fixturedefs.get("demo_street", ()) if fixtures else ()
    return bool(definitions) and definitions[-1].scope == "session" and in_a_transaction(item)


def on_the_site(item: pytest.Item) -> bool:
    return "site_pages" in item.fixturenames and in_a_transaction(item) and not on_the_demo_street(item)


SITE = Layer(on_the_site)
STREET = Layer(on_the_demo_street)
# Layers inside the shared site's (`on_the_site_with`), innermost first: each is rolled back before the site's.
WITHIN_SITE: list[Layer] = []


def on_the_site_with(fixture: str) -> Layer:
    """A layer inside the shared site's, for the tests on the site that use `fixture`: a session fixture, named
    once in the whole suite, that opens the layer and makes its data (an app's community, a module's street),
    which the tests' own fixture then reads (`fresh_copies`) while the layer runs, and makes itself otherwise.

    A test is on one such layer at most: of those whose fixtures it uses, the one declared last (which then
    makes the data of the others it uses too, e.g. a second community beside the first)."""
    assert fixture not in {layer.fixture for layer in WITHIN_SITE}, f"{fixture}: a second layer of that name"
    layer = Layer(lambda item: on_the_site(item) and layer_within_the_site(item) is layer)
    layer.fixture = fixture
    WITHIN_SITE.append(layer)
    return layer


def layer_within_the_site(item: pytest.Item) -> Layer | None:
    return next((layer for layer in reversed(WITHIN_SITE) if layer.fixture in item.fixturenames), None)


def fresh_copies(data):
    """The model instances in `data` (in dicts, lists and tuples) read again from the database: each test on a
    layer gets its own objects, with no relations or permissions cached by an earlier test, as if it made them."""
    from django.db.models import Model

    if isinstance(data, Model):
        return type(data)._base_manager.get(pk=data.pk)
    if isinstance(data, dict):
        return {key: fresh_copies(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(fresh_copies(value) for value in data)
    return data


def layers() -> tuple:
    return (*WITHIN_SITE, SITE, STREET)


@pytest.fixture(scope="session")
def shared_site(django_db_setup, django_db_blocker):
    """The site of `site_pages`, made once for the tests that share it (see Layer)."""
    if SITE.open(django_db_blocker):
        from home.services import ensure_site

        _indexes_off()
        ensure_site()
    yield
    SITE.close()


@pytest.fixture
def site_pages(shared_site, db):
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
    """The demo street (`manage.py seed_demo`), seeded once for the tests on it (see Layer).

    Seeding takes ten to thirty seconds. A module that adds to the street does so in a savepoint of its own
    that ends with it. On-commit callbacks of the seed run, as they would in `make run`.
    """
    from django.core import mail
    from django.core.management import call_command
    from django.test import TestCase

    if not STREET.open(django_db_blocker):
        pytest.fail("the demo street is for tests in a rolled-back transaction, run one after the other")
    out = io.StringIO()
    mail.outbox = []
    _indexes_off()
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("seed_demo", stdout=out)
    yield Seeded(output=out.getvalue(), mails=list(mail.outbox))
    STREET.close()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """After pytest-django's ordering (tests in a rolled-back transaction first, then `transaction=True`
    ones, then those without a database): among the first kind, those on the shared site, then those on the
    demo street, each group together."""
    first_kind = [item for item in items if in_a_transaction(item)]
    site = [item for item in first_kind if on_the_site(item)]
    # The tests of each layer inside the site's together, after the site's other tests (a stable sort: each
    # keeps its place among its group's).
    site.sort(key=lambda item: WITHIN_SITE.index(layer_within_the_site(item)) + 1 if layer_within_the_site(item) else 0)
    street = [item for item in first_kind if on_the_demo_street(item)]
    plain = [item for item in first_kind if item not in site and item not in street]
    items[:] = plain + site + street + [item for item in items if not in_a_transaction(item)]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    CURRENT_TEST[0] = item
    if (
        item.get_closest_marker("one_database")
        and connection.vendor != "postgresql"
        and not os.environ.get("LINLI_BOTH_DATABASES")
    ):
        # The test run's database plays no part: the second run would repeat the first. CI's PostgreSQL run is
        # the shorter of its two; LINLI_BOTH_DATABASES=1 runs these here too.
        pytest.skip("uses no test database: runs in the PostgreSQL run (CI time); LINLI_BOTH_DATABASES=1 runs it here too")
    for layer in layers():
        if layer.over and layer.member(item):
            pytest.fail("a shared layer was rolled back before this test: the tests on it must run one after the other")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the last test of a group (its module fixtures torn down), the group's layer is rolled back."""
    result = yield
    for layer in layers():  # the innermost first
        if layer.member(item) and (nextitem is None or not layer.member(nextitem)):
            layer.close()
    return result
