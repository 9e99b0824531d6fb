"""Fetching letters from the community mailbox over IMAP.

Messages are fetched a batch at a time (one FETCH), stored in one transaction per batch,
and only then flagged on the server (`$LinliStored`, one STORE per batch), so a fetch
killed at any point loses nothing and duplicates nothing: a message stored but not yet
flagged is recognised by its UID (or, copied to another folder or server, by its
content) next time and just flagged. No message can stop the run: if anything in a batch
fails, its messages are stored again one per transaction, and the one whose storing fails
is quarantined with its raw source and the error, in a fresh transaction, and flagged like
the others; one over the size limit is quarantined with its headers only and never
downloaded whole.
"""

from __future__ import annotations

import imaplib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError

from deliberation.mailbox import services
from deliberation.mailbox.models import IncomingMail

logger = logging.getLogger(__name__)

STORED_FLAG = "$LinliStored"
BATCH_BYTES = 8 * 1024 * 1024


@dataclass
class FetchReport:
    seen: int = 0
    letters: int = 0
    replies: int = 0
    automatic: int = 0
    duplicates: int = 0
    quarantined: int = 0
    already_stored: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.seen} messages: {self.letters} letters, {self.replies} replies, {self.automatic} automatic, "
            f"{self.duplicates} duplicates, {self.quarantined} quarantined, {self.already_stored} already stored"
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


def mark_stored(client: imaplib.IMAP4, uids: list[bytes]) -> None:
    """Flag messages as stored (after their transactions committed)."""
    if uids:
        _check(client.uid("STORE", b",".join(uids).decode(), "+FLAGS", f"({STORED_FLAG})"))


_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def _sizes(client: imaplib.IMAP4, uids: list[bytes]) -> dict[bytes, int]:
    sizes = {}
    for start in range(0, len(uids), 500):
        for item in _check(client.uid("FETCH", b",".join(uids[start : start + 500]).decode(), "(RFC822.SIZE)")):
            line = item[0] if isinstance(item, tuple) else item
            uid, size = _UID.search(line or b""), _SIZE.search(line or b"")
            if uid and size:
                sizes[uid.group(1)] = int(size.group(1))
    return sizes


def _fetch(client: imaplib.IMAP4, uids: list[bytes], part: str) -> dict[bytes, bytes]:
    """The raw messages (or `part` of them) of `uids`, by UID, in one command."""
    data = _check(client.uid("FETCH", b",".join(uids).decode(), f"({part})"))
    found: dict[bytes, bytes] = {}
    waiting: bytes | None = None  # a literal whose UID comes after it: "(BODY[] {12} UID 5)"
    for item in data:
        if isinstance(item, tuple):
            uid = _UID.search(item[0])
            if uid:
                found[uid.group(1)] = item[1]
            else:
                waiting = item[1]
        elif waiting is not None and isinstance(item, bytes):
            uid = _UID.search(item)
            if uid:
                found[uid.group(1)] = waiting
            waiting = None
    return found


def _batches(uids: list[bytes], sizes: dict[bytes, int], largest: int) -> Iterator[tuple[list[bytes], list[bytes]]]:
    """(whole, oversized): up to LINLI_MAILBOX_IMAP["BATCH"] messages or BATCH_BYTES at a time, in order."""
    batch = settings.LINLI_MAILBOX_IMAP.get("BATCH", 50)
    whole: list[bytes] = []
    oversized: list[bytes] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if size > largest:
            oversized.append(uid)
        else:
            if whole and (len(whole) >= batch or total + size > BATCH_BYTES):
                yield whole, oversized
                whole, oversized, total = [], [], 0
            whole.append(uid)
            total += size
    if whole or oversized:
        yield whole, oversized


def fetch_mail(*, account: ImapAccount, limit: int | None = None) -> FetchReport:
    """Fetch every message not yet flagged as stored, oldest first."""
    report = FetchReport()
    client = _connect(account)
    intake = services.MailIntake()
    largest = settings.LINLI_MAILBOX_MAX_BYTES
    try:
        _check(client.select(_quote(account.folder)))
        _status, validity = client.response("UIDVALIDITY")
        uidvalidity = int(validity[0])
        uids = _check(client.uid("SEARCH", None, "UNKEYWORD", STORED_FLAG))[0].split()
        uids = uids[:limit] if limit else uids
        sizes = _sizes(client, uids)
        for whole, oversized in _batches(uids, sizes, largest):
            raws = _fetch(client, whole, "BODY.PEEK[]") if whole else {}
            heads = _fetch(client, oversized, "BODY.PEEK[HEADER]") if oversized else {}
            items = []
            for uid in sorted(whole + oversized, key=int):
                if uid in heads:
                    note = f"\r\n[{sizes[uid]} bytes: only the headers were fetched]\r\n"
                    items.append((uid, heads[uid] + note.encode(), f"message of {sizes[uid]} bytes is larger than {largest}"))
                elif uid in raws:
                    items.append((uid, raws[uid], ""))
                # else: expunged meanwhile
            report.seen += len(items)
            stored = _store_batch(report, account.folder, uidvalidity, items, intake)
            mark_stored(client, stored)  # only after the commits above
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return report


def _store_batch(
    report: FetchReport, folder: str, uidvalidity: int, items: list[tuple[bytes, bytes, str]], intake: services.MailIntake
) -> list[bytes]:
    """Store a batch in one transaction; if anything in it fails, store each message alone. The UIDs stored."""
    whole = [(uid, raw) for uid, raw, too_large in items if not too_large]
    try:
        results = services.store_incoming_mails(
            folder=folder, uidvalidity=uidvalidity, messages=[(int(uid), raw) for uid, raw in whole], intake=intake
        )
    except Exception:  # noqa: BLE001  (nothing of the batch was stored: each message is tried alone below)
        logger.info("a batch of %d messages failed; storing them one at a time", len(whole))
        stored = [uid for uid, raw in whole if _store(report, folder, uidvalidity, int(uid), raw, intake, too_large="")]
    else:
        stored = [uid for uid, _raw in whole]
        for (uid, _raw), (incoming, created) in zip(whole, results, strict=True):
            _count(report, int(uid), incoming, created)
    for uid, raw, too_large in items:
        if too_large and _store(report, folder, uidvalidity, int(uid), raw, intake, too_large=too_large):
            stored.append(uid)
    return stored


def _store(
    report: FetchReport, folder: str, uidvalidity: int, uid: int, raw: bytes, intake: services.MailIntake, *, too_large: str
) -> bool:
    """Store one message, whatever it holds; True once it is stored (to be flagged)."""
    place = {"folder": folder, "uidvalidity": uidvalidity, "uid": uid}
    for attempt in range(2):
        try:
            if too_large:
                incoming = services.quarantine_incoming_mail(
                    **place, raw=raw, error=too_large, reason=IncomingMail.Reason.TOO_LARGE
                )
                created = True
            else:
                incoming, created = services.store_incoming_mail(**place, raw=raw, intake=intake)
            break
        except IntegrityError as error:
            # Another fetch stored this UID (or the same content) at the same moment: look again.
            if IncomingMail.objects.filter(**place).exists():
                report.already_stored += 1
                return True
            if attempt:
                return _quarantine(report, place, raw, error)
        except Exception as error:  # noqa: BLE001  (a poison message must not stop the mailbox)
            return _quarantine(report, place, raw, error)
    _count(report, uid, incoming, created)
    return True


def _count(report: FetchReport, uid: int, incoming: IncomingMail, created: bool) -> None:
    if not created:
        report.already_stored += 1
    else:
        counter = {
            IncomingMail.Outcome.LETTER: "letters",
            IncomingMail.Outcome.REPLY: "replies",
            IncomingMail.Outcome.AUTOMATIC: "automatic",
            IncomingMail.Outcome.DUPLICATE: "duplicates",
        }.get(incoming.outcome, "quarantined")
        setattr(report, counter, getattr(report, counter) + 1)
        if counter == "quarantined":
            logger.warning("quarantined mail uid %s (%s): %s", uid, incoming.reason, incoming.error)


def _quarantine(report: FetchReport, place: dict, raw: bytes, error: Exception) -> bool:
    logger.exception("storing mail uid %s failed; quarantined", place["uid"])
    # If even this fails (the database is gone), the run stops: nothing could be stored.
    services.quarantine_incoming_mail(**place, raw=raw, error=f"{type(error).__name__}: {error}")
    report.quarantined += 1
    report.errors.append(f"uid {place['uid']}: {type(error).__name__}")
    return True


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
