"""Fixtures shared by every app's tests."""

import os

import pytest
from django.core.cache import cache
from django.db import connection

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
