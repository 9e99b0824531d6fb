"""The deliberation tests' community (六和社区 with its staff and heads groups), the mailbox tests' real IMAP
server (Dovecot, `dovecot.py`), and fresh similarity indexes per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import skip_or_fail
from deliberation.mailbox.tests.dovecot import (
    IMAP_PASSWORD,
    IMAP_USER,
    DovecotUnavailable,
    dovecot_binary,
    start_dovecot,
    stop_dovecot,
)

EML = Path(__file__).parent / "mailbox" / "tests" / "eml"
__all__ = ["EML", "IMAP_PASSWORD", "IMAP_USER"]


@pytest.fixture
def community(site_pages):
    """六和社区 with its staff and heads groups (modules that need more, a mailbox, extend it)."""
    from deliberation.mailbox.factories import community_with_staff

    return community_with_staff(name="六和社区", code="liuhe")


@pytest.fixture(scope="session")
def dovecot():
    if dovecot_binary() is None:
        skip_or_fail("Dovecot is not installed (apt-get install dovecot-imapd)")
    try:
        server = start_dovecot()
    except DovecotUnavailable as error:
        pytest.fail(str(error))
    yield server
    stop_dovecot(server)


@pytest.fixture(autouse=True)
def _fresh_similarity_indexes():
    """Each test's database rolls back, and SQLite then hands out the same ids again."""
    from deliberation.mailbox.similarity import forget_indexes

    forget_indexes()
    yield
    forget_indexes()
