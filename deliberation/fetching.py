"""Fetching letters from the community mailbox over IMAP.

Each message is stored in its own transaction and only then flagged on the server
(`$LinliStored`), so a fetch killed at any point loses nothing and duplicates nothing:
a message stored but not yet flagged is recognised by its UID (or Message-ID) next time
and just flagged. A message that cannot be read is quarantined and flagged too, so it
never blocks the ones after it.
"""

from __future__ import annotations

import imaplib
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError

from . import services
from .models import IncomingMail

logger = logging.getLogger(__name__)

STORED_FLAG = "$LinliStored"


@dataclass
class FetchReport:
    seen: int = 0
    letters: int = 0
    automatic: int = 0
    quarantined: int = 0
    already_stored: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.seen} messages: {self.letters} letters, {self.automatic} automatic, "
            f"{self.quarantined} quarantined, {self.already_stored} already stored"
        )


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    ssl: bool = True

    @classmethod
    def from_settings(cls) -> ImapAccount | None:
        config = settings.LINLI_MAILBOX_IMAP
        if not config.get("HOST"):
            return None
        return cls(
            host=config["HOST"],
            port=config["PORT"],
            user=config["USER"],
            password=config["PASSWORD"],
            folder=config.get("FOLDER", "INBOX"),
            ssl=config.get("SSL", True),
        )


def _connect(account: ImapAccount) -> imaplib.IMAP4:
    client = (
        imaplib.IMAP4_SSL(account.host, account.port, timeout=60)
        if account.ssl
        else imaplib.IMAP4(account.host, account.port, timeout=60)
    )
    client.login(account.user, account.password)
    return client


def _check(result: tuple[str, list]) -> list:
    status, data = result
    if status != "OK":
        raise imaplib.IMAP4.error(f"IMAP answered {status}: {data!r}")
    return data


def mark_stored(client: imaplib.IMAP4, uid: bytes) -> None:
    _check(client.uid("STORE", uid, "+FLAGS", f"({STORED_FLAG})"))


def fetch_mail(*, account: ImapAccount, limit: int | None = None) -> FetchReport:
    """Fetch every message not yet flagged as stored, oldest first."""
    report = FetchReport()
    client = _connect(account)
    try:
        _check(client.select(_quote(account.folder)))
        _status, validity = client.response("UIDVALIDITY")
        uidvalidity = int(validity[0])
        uids = _check(client.uid("SEARCH", None, "UNKEYWORD", STORED_FLAG))[0].split()
        for uid in uids[:limit] if limit else uids:
            data = _check(client.uid("FETCH", uid, "(BODY.PEEK[])"))
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if raw is None:
                continue
            report.seen += 1
            try:
                incoming, created = services.store_incoming_mail(
                    folder=account.folder, uidvalidity=uidvalidity, uid=int(uid), raw=raw
                )
            except IntegrityError:
                created, incoming = False, None  # another fetch stored it at the same moment
            if not created:
                report.already_stored += 1
            elif incoming.outcome == IncomingMail.Outcome.LETTER:
                report.letters += 1
            elif incoming.outcome == IncomingMail.Outcome.AUTOMATIC:
                report.automatic += 1
            else:
                report.quarantined += 1
                logger.warning("quarantined mail uid %s: %s", int(uid), incoming.error)
            mark_stored(client, uid)  # only after the commit above
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return report


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
