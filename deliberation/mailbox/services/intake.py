"""Letters by e-mail: each fetched message becomes a letter, a writer's reply to one, or a quarantined mail."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from deliberation.mailbox.mail import (
    MalformedMessage,
    ParsedMail,
    clean_text,
    content_hash,
    parse_message,
    sender_is_authenticated,
)
from deliberation.mailbox.models import (
    CommunityMailbox,
    IncomingMail,
    Letter,
    LetterEvent,
    LetterPhoto,
)
from deliberation.mailbox.notifications import (
    _letter_mail_token,
    _queue_event_mail,
    _recipient,
    _tell_staff_of_reply,
    _writer_language_for,
)
from deliberation.mailbox.services.access import PhotoError
from deliberation.mailbox.services.letters import _new_letter, allocate_tracking_numbers
from deliberation.mailbox.services.photos import MAX_MAIL_PHOTO_BYTES, CleanPhoto, clean_photo
from home.models import Community, ResidentProfile
from home.services import verified_resident

# Letters (and replies) one sender address may send by e-mail; the excess waits in quarantine, unanswered.
MAIL_LETTERS_PER_SENDER_PER_HOUR = 5


MAIL_LETTERS_PER_SENDER_PER_DAY = 10


_TRACKING_NUMBER = re.compile(r"(?<![\d-])(\d{4}-\d{6})(?![\d-])")


_LETTER_MESSAGE_ID = re.compile(r"^linli\.(\d{4}-\d{6})\.\d+\.([0-9a-f]{16})@")


# Where a reply's quoted original starts (Foxmail, QQ Mail, NetEase, Outlook, Apple Mail, Gmail).
_QUOTE_START = re.compile(
    r"^(?:-{2,}\s*(?:原始邮件|原始郵件|Original Message|Forwarded message)\s*-{2,}"
    r"|在\s?.{0,80}写道[:：]?|On .{0,200} wrote:|发件人[:：]|From: .*@.*|>.*)$",
    re.MULTILINE,
)


def verified_user(identifier: str):
    """The active resident who proved this e-mail address or mobile number (written any way), if any."""
    return verified_resident(identifier)


def mail_account(parsed: ParsedMail):
    """The account an e-mail may act for, or None: the one rule for every message that reaches an account.

    From: is whatever the sender typed; the message is a resident's only when our own receiving
    server vouches for the address (an aligned DMARC or DKIM pass under MAILBOX_AUTHSERV_ID,
    `mail.sender_is_authenticated`) and the address is that resident's verified one.
    """
    if not sender_is_authenticated(parsed, authserv_id=settings.LINLI_MAILBOX_AUTHSERV_ID):
        return None
    return verified_user(parsed.sender)


class MailIntake:
    """What one fetch run looks up once instead of once per message: the community mailboxes."""

    def __init__(self) -> None:
        self._mailboxes: dict[str, Community] | None = None

    def community_for(self, parsed: ParsedMail, writer) -> Community | None:
        """The community whose mailbox address the letter was sent to, else the writer's own."""
        if self._mailboxes is None:
            self._mailboxes = {
                mailbox.address.lower(): mailbox.community for mailbox in CommunityMailbox.objects.select_related("community")
            }
        for address in parsed.recipients:
            if address in self._mailboxes:
                return self._mailboxes[address]
        profile = ResidentProfile.objects.filter(user=writer).select_related("community").first() if writer else None
        return profile.community if profile and profile.community else None


def store_incoming_mail(
    *, folder: str, uidvalidity: int, uid: int, raw: bytes, intake: MailIntake | None = None
) -> tuple[IncomingMail, bool]:
    """Record one fetched message exactly once per UID; True if this UID is new (`store_incoming_mails`)."""
    return store_incoming_mails(folder=folder, uidvalidity=uidvalidity, messages=[(uid, raw)], intake=intake)[0]


@dataclass
class _Arrival:
    """One message of a batch on its way to its IncomingMail row."""

    row: IncomingMail
    raw: bytes
    parsed: ParsedMail | None = None
    letter: Letter | None = None
    photos: Sequence[CleanPhoto] = ()
    duplicate_of: IncomingMail | None = None


@transaction.atomic
def store_incoming_mails(
    *, folder: str, uidvalidity: int, messages: Sequence[tuple[int, bytes]], intake: MailIntake | None = None
) -> list[tuple[IncomingMail, bool]]:
    """Record each fetched (uid, raw) exactly once per UID, in one transaction; True for each UID that is new.

    A message whose content (sender, date, subject, body: `mail.content_hash`) was stored before,
    under another UID, folder or server, is recorded as its duplicate. Otherwise: unreadable,
    oversized, spam, or one too many from its sender within an hour or a day → quarantined with its
    raw source and the reason, never answered; auto-replies, bounces and list mail → recorded, never
    answered; a writer's reply naming their letter → added to that letter's timeline; anything else
    from a person → a letter, its receipt queued in this same transaction.

    All or nothing: on any error nothing of the batch is stored, and the fetcher stores its messages
    one at a time to find and quarantine the one that failed. A batch costs a few statements, plus
    about five per letter (the letters, their receipt steps and their rows are inserted together).
    """
    intake = intake or MailIntake()
    uids = {uid for uid, _raw in messages}
    digests = [content_hash(raw) for _uid, raw in messages]
    stored: dict[int, IncomingMail] = {}
    canonical: dict[str, IncomingMail] = {}
    earlier = IncomingMail.objects.filter(
        Q(folder=folder, uidvalidity=uidvalidity, uid__in=uids)
        | (Q(content_hash__in=set(digests)) & ~Q(outcome=IncomingMail.Outcome.DUPLICATE))
    ).order_by("pk")
    for row in earlier.defer("raw"):
        if (row.folder, row.uidvalidity) == (folder, uidvalidity) and row.uid in uids:
            stored[row.uid] = row
        if row.outcome != IncomingMail.Outcome.DUPLICATE and row.content_hash:
            canonical.setdefault(row.content_hash, row)
    results: list[tuple[IncomingMail, bool]] = []
    arrivals: list[_Arrival] = []
    for (uid, raw), digest in zip(messages, digests, strict=True):
        if uid in stored:
            results.append((stored[uid], False))
            continue
        arrival = _Arrival(row=IncomingMail(folder=folder, uidvalidity=uidvalidity, uid=uid, content_hash=digest), raw=raw)
        results.append((arrival.row, True))
        arrivals.append(arrival)
        if digest in canonical:
            arrival.row.outcome, arrival.duplicate_of = IncomingMail.Outcome.DUPLICATE, canonical[digest]
            continue
        canonical[digest] = arrival.row  # later copies in this batch are its duplicates
        try:
            arrival.parsed = parse_message(raw, max_bytes=settings.LINLI_MAILBOX_MAX_BYTES)
        except MalformedMessage as error:
            _quarantine(arrival, error.reason, str(error))
        else:
            arrival.row.message_id, arrival.row.sender = clean_text(arrival.parsed.message_id), arrival.parsed.sender
    recent = _recent_letters({arrival.parsed.sender for arrival in arrivals if arrival.parsed and not arrival.row.outcome})
    for arrival in arrivals:
        if not arrival.row.outcome:
            _take_in(arrival, intake=intake, recent=recent)
    _save_letters([arrival for arrival in arrivals if arrival.letter is not None])
    # Rows first, then the duplicates that may point at them.
    IncomingMail.objects.bulk_create([arrival.row for arrival in arrivals if arrival.duplicate_of is None])
    for arrival in arrivals:
        if arrival.duplicate_of is not None:
            arrival.row.duplicate_of = arrival.duplicate_of
    IncomingMail.objects.bulk_create([arrival.row for arrival in arrivals if arrival.duplicate_of is not None])
    return results


def _quarantine(arrival: _Arrival, reason: str, error: str) -> None:
    row = arrival.row
    row.outcome, row.reason, row.error, row.raw = IncomingMail.Outcome.QUARANTINED, reason, clean_text(error)[:2000], arrival.raw


def _take_in(arrival: _Arrival, *, intake: MailIntake, recent: dict[str, list[int]]) -> None:
    """Decide what a readable message becomes; a letter is only prepared here (`_save_letters` stores it)."""
    parsed, row = arrival.parsed, arrival.row
    if parsed.spam:
        return _quarantine(arrival, IncomingMail.Reason.SPAM, "marked as spam by the receiving server (X-Spam-Flag)")
    if parsed.automatic:
        row.outcome = IncomingMail.Outcome.AUTOMATIC
        return None
    counts = recent.setdefault(parsed.sender, [0, 0])  # within an hour, within a day
    if counts[0] >= MAIL_LETTERS_PER_SENDER_PER_HOUR:
        return _quarantine(
            arrival,
            IncomingMail.Reason.FLOOD,
            f"{counts[0]} letters from this sender within an hour (at most {MAIL_LETTERS_PER_SENDER_PER_HOUR})",
        )
    if counts[1] >= MAIL_LETTERS_PER_SENDER_PER_DAY:
        return _quarantine(
            arrival,
            IncomingMail.Reason.FLOOD,
            f"{counts[1]} letters from this sender within a day (at most {MAIL_LETTERS_PER_SENDER_PER_DAY})",
        )
    writer = mail_account(parsed)
    language = _writer_language_for(writer, parsed.language)
    photos, dropped = [], list(parsed.dropped)
    for image in parsed.images:
        try:
            photos.append(clean_photo(data=image.data, name=image.filename, max_bytes=MAX_MAIL_PHOTO_BYTES))
        except PhotoError:
            dropped.append(image.filename)
    if dropped:
        with translation.override(language):
            row.note = _("These attachments were not kept (only photos are): %(names)s") % {"names": ", ".join(dropped)}
    replied_to = _replied_letter(parsed, writer)
    if replied_to is not None:
        _add_writer_reply(letter=replied_to, parsed=parsed, writer=writer, photos=photos, note=row.note)
        row.outcome, row.replied_to = IncomingMail.Outcome.REPLY, replied_to
        counts[0], counts[1] = counts[0] + 1, counts[1] + 1
        return None
    subject, text = parsed.subject, parsed.text
    if not subject and not text and photos:
        with translation.override(language):
            subject = text = _("Photos sent by e-mail")
    subject = subject or next((line.strip() for line in text.splitlines() if line.strip()), "")[:60]
    text = text or subject  # a letter may be all in its subject line
    if not subject:
        return _quarantine(arrival, IncomingMail.Reason.EMPTY, "no subject, text or photo")
    arrival.letter = _new_letter(
        channel=Letter.Channel.EMAIL,
        subject=subject,
        body=text,
        community=intake.community_for(parsed, writer),
        writer=writer,
        contact_name=parsed.sender_name,
        contact=parsed.sender,
        language=language,
    )
    arrival.photos = photos
    row.outcome = IncomingMail.Outcome.LETTER
    counts[0], counts[1] = counts[0] + 1, counts[1] + 1
    return None


def _save_letters(arrivals: list[_Arrival]) -> None:
    """The batch's letters with their numbers, photos and receipt steps, and each receipt queued."""
    if not arrivals:
        return
    now = timezone.now()
    numbers = allocate_tracking_numbers(year=timezone.localdate(now).year, count=len(arrivals))
    for arrival, number in zip(arrivals, numbers, strict=True):
        arrival.letter.tracking_number = number
    Letter.objects.bulk_create([arrival.letter for arrival in arrivals])
    LetterPhoto.objects.bulk_create(
        [
            LetterPhoto(letter=arrival.letter, content_type=p.content_type, data=p.data, width=p.width, height=p.height)
            for arrival in arrivals
            for p in arrival.photos
        ]
    )
    recipients = [_recipient(arrival.letter) for arrival in arrivals]
    events = LetterEvent.objects.bulk_create(
        [
            LetterEvent(
                letter=arrival.letter,
                kind=LetterEvent.Kind.RECEIVED,
                actor=arrival.letter.writer,
                message=arrival.row.note,
                created_at=arrival.letter.received_at,
                notified_at=now if recipient else None,  # queued just below, in this transaction
            )
            for arrival, recipient in zip(arrivals, recipients, strict=True)
        ]
    )
    for arrival, event, recipient in zip(arrivals, events, recipients, strict=True):
        arrival.row.letter = arrival.letter
        if recipient:
            _queue_event_mail(
                letter=arrival.letter,
                event=event,
                recipient=recipient,
                language=arrival.letter.language,
                in_reply_to=arrival.row.message_id,
            )


def _recent_letters(senders: set[str]) -> dict[str, list[int]]:
    """Letters and replies of each sender within the last hour and day: [hour, day]."""
    if not senders:
        return {}
    now = timezone.now()
    counts = (
        IncomingMail.objects.filter(
            sender__in=senders,
            outcome__in=[IncomingMail.Outcome.LETTER, IncomingMail.Outcome.REPLY],
            fetched_at__gte=now - datetime.timedelta(days=1),
        )
        .values("sender")
        .annotate(day=Count("pk"), hour=Count("pk", filter=Q(fetched_at__gte=now - datetime.timedelta(hours=1))))
    )
    return {row["sender"]: [row["hour"], row["day"]] for row in counts}


def quarantine_incoming_mail(
    *, folder: str, uidvalidity: int, uid: int, raw: bytes, error: str, reason: str = IncomingMail.Reason.ERROR
) -> IncomingMail:
    """Keep a message that failed to be stored (in a fresh transaction), or one too large to fetch whole
    (its headers): raw source and reason, for staff."""
    with transaction.atomic():
        return IncomingMail.objects.create(
            folder=folder,
            uidvalidity=uidvalidity,
            uid=uid,
            outcome=IncomingMail.Outcome.QUARANTINED,
            reason=reason,
            error=clean_text(error)[:2000],
            raw=raw,
        )


def _replied_letter(parsed: ParsedMail, account) -> Letter | None:
    """The letter this message answers, when its writer sent it; else None (it is a new letter).

    The letter is named by our own Message-ID in In-Reply-To/References (its token proves the
    sender received our mail) or by its tracking number in the subject. A letter without an
    account is its contact address's, so that address must be the sender; a resident's letter
    takes the reply from the resident's authenticated account (`mail_account`), or from their
    address when the reply names our Message-ID.
    """
    proven = set()
    for reference in parsed.references:
        found = _LETTER_MESSAGE_ID.match(reference)
        if found and constant_time_compare(found.group(2), _letter_mail_token(found.group(1))):
            proven.add(found.group(1))
    numbers = proven | set(_TRACKING_NUMBER.findall(parsed.subject))
    if not numbers:
        return None
    for letter in Letter.objects.filter(tracking_number__in=sorted(numbers)[:5]).select_related("writer"):
        if letter.writer_id is not None:
            if account is not None and account.pk == letter.writer_id:
                return letter
            if letter.tracking_number in proven and parsed.sender == (letter.writer.email or "").lower():
                return letter
        elif letter.contact and letter.contact.lower() == parsed.sender:
            return letter
    return None


def _without_quote(text: str) -> str:
    """A reply's own words: what comes before the quoted original."""
    found = _QUOTE_START.search(text)
    own = text[: found.start()].strip() if found else text.strip()
    return own or text.strip()


def _add_writer_reply(*, letter: Letter, parsed: ParsedMail, writer, photos: Sequence[CleanPhoto], note: str) -> LetterEvent:
    """The writer's reply joins their letter's timeline; the staff member holding the letter hears of it."""
    message = _without_quote(parsed.text) or parsed.subject
    if note:
        message = f"{message}\n\n{note}"
    now = timezone.now()
    # notified_at: the writer is not e-mailed their own reply.
    event = LetterEvent.objects.create(
        letter=letter, kind=LetterEvent.Kind.WRITER_REPLIED, actor=writer, message=message, created_at=now, notified_at=now
    )
    if photos:
        LetterPhoto.objects.bulk_create(
            [LetterPhoto(letter=letter, content_type=p.content_type, data=p.data, width=p.width, height=p.height) for p in photos]
        )
    _tell_staff_of_reply(letter=letter, event=event)
    return event
