"""Letters: written on the web, entered by staff or imported; tracking numbers, limits, and staff's handling
(accept, reply, answer, out of scope, assign, notes) up to the writer's satisfaction; deadlines."""

from __future__ import annotations

import datetime
import secrets
import uuid
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from deliberation.mailbox import similarity
from deliberation.mailbox.models import (
    Category,
    Letter,
    LetterEvent,
    LetterNote,
    LetterPhoto,
    MailboxSettings,
    TrackingCounter,
)
from deliberation.mailbox.notifications import _record_event
from deliberation.mailbox.services.access import (
    MailboxError,
    PhotoError,
    RateLimited,
    User,
    _require_staff,
    is_staff_of,
)
from deliberation.mailbox.services.photos import MAX_PHOTOS, CleanPhoto, clean_photo
from home.models import Community, Grid
from home.services import VERIFY_FIRST, is_verified_resident
from outbox.services import Content, notify

# Letters one account may send per day, and anonymous letters one network address per hour.
LETTERS_PER_ACCOUNT_PER_DAY = 5


ANONYMOUS_LETTERS_PER_ADDRESS_PER_HOUR = 10


def allocate_tracking_number(*, year: int) -> str:
    return allocate_tracking_numbers(year=year, count=1)[0]


def allocate_tracking_numbers(*, year: int, count: int) -> list[str]:
    """The next `count` numbers of the year, e.g. 2026-000123; the year's counter row is locked meanwhile.

    Call it inside the transaction that stores the letter: a rolled-back letter gives its
    number back, so numbers have no gaps and no two letters share one. One statement (the
    UPDATE locks the row until the transaction ends), and a second only on a year's first letter.
    """
    quote = connection.ops.quote_name
    increment = (
        f"UPDATE {quote(TrackingCounter._meta.db_table)} SET {quote('last')} = {quote('last')} + %s "
        f"WHERE {quote('year')} = %s RETURNING {quote('last')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(increment, [count, year])
        row = cursor.fetchone()
        if row is None:
            TrackingCounter.objects.bulk_create([TrackingCounter(year=year)], ignore_conflicts=True)
            cursor.execute(increment, [count, year])
            row = cursor.fetchone()
    return [f"{year}-{number:06d}" for number in range(row[0] - count + 1, row[0] + 1)]


def _check_rate_limits(*, writer, address: str | None) -> None:
    """A resident is limited per account; anonymous letters per network address.

    Residents behind one address (a community centre's Wi-Fi, a carrier's shared address)
    must not block each other, so the address counts only letters without an account.
    """
    if writer is not None:
        # The writer's row is locked so that two letters sent at once cannot both pass the count.
        User.objects.select_for_update().filter(pk=writer.pk).first()
        since = timezone.now() - datetime.timedelta(days=1)
        if (
            Letter.objects.filter(writer=writer, received_at__gte=since, channel=Letter.Channel.WEB).count()
            >= LETTERS_PER_ACCOUNT_PER_DAY
        ):
            raise RateLimited(
                ngettext(
                    "You can send at most %(count)d letter a day. Please try again tomorrow.",
                    "You can send at most %(count)d letters a day. Please try again tomorrow.",
                    LETTERS_PER_ACCOUNT_PER_DAY,
                )
                % {"count": LETTERS_PER_ACCOUNT_PER_DAY}
            )
    elif address:
        key = f"deliberation:anonymous-letters-from:{address}"
        cache.add(key, 0, 3600)
        if cache.incr(key) > ANONYMOUS_LETTERS_PER_ADDRESS_PER_HOUR:
            # Only letters without an account count here: say how to get past it (log in), not just "wait".
            raise RateLimited(
                _(
                    "Many letters without an account have come from your network in the last hour (a shared Wi-Fi, "
                    "for example). Log in or sign up to send yours now: a resident's letters are counted per account. "
                    "Or try again in an hour, or call your community office."
                )
            )


@transaction.atomic
def submit_letter(
    *,
    channel: str,
    subject: str,
    body: str,
    community: Community | None,
    category: str = Category.OTHER,
    grid: Grid | None = None,
    place: str = "",
    privacy: str = Letter.Privacy.STAFF_ONLY,
    writer=None,
    contact_name: str = "",
    contact: str = "",
    language: str = settings.LANGUAGE_CODE,
    photos: Sequence[CleanPhoto | File] = (),
    address: str | None = None,
    actor=None,
    consent_recorded: bool = False,
    external_id: str = "",
    received_at: datetime.datetime | None = None,
    receipt_note: str = "",
    request_token: uuid.UUID | None = None,
) -> Letter:
    """Store a letter from any channel, give it a tracking number and tell the writer (once, after commit).

    Web letters come from verified residents, or from anyone when the mailbox allows
    anonymous letters; staff entering a letter on a resident's behalf record their consent.
    Uploaded photos (files) are checked and decoded only after the rate limits let the
    letter through, so that a refused letter costs no image decoding.

    A resident's retried request (the same `request_token`, a phone client's Idempotency-Key)
    returns the letter the first one stored, without counting against the daily limit.
    """
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise MailboxError(_("A letter needs a subject and a text."))
    if len(photos) > MAX_PHOTOS:
        raise PhotoError(_("You can attach at most %(count)d photos.") % {"count": MAX_PHOTOS})
    if category not in Category.values:
        raise MailboxError(_("Unknown category."))
    if grid is not None and community is not None and grid.community_id != community.pk:
        raise MailboxError(_("This grid is not in the chosen community."))
    if channel == Letter.Channel.WEB:
        if writer is None or not writer.is_authenticated:
            writer = None
            if not MailboxSettings.load().allow_anonymous:
                raise PermissionDenied(_("Please log in with a verified mobile number or e-mail address to write a letter."))
        elif not is_verified_resident(writer):
            raise PermissionDenied(str(VERIFY_FIRST))
        elif request_token is not None and (replayed := replayed_letter(request_token=request_token, writer=writer)):
            return replayed
        _check_rate_limits(writer=writer, address=address)
    elif channel in (Letter.Channel.STAFF, Letter.Channel.HOTLINE):
        _require_staff(actor, community)
        if channel == Letter.Channel.STAFF and not consent_recorded:
            raise MailboxError(_("Record the resident's consent before entering a letter on their behalf."))
    photos = [photo if isinstance(photo, CleanPhoto) else clean_photo(data=photo, name=photo.name) for photo in photos]
    return _store_letter(
        channel=channel,
        subject=subject,
        body=body,
        community=community,
        grid=grid,
        category=category,
        place=place,
        privacy=privacy,
        writer=writer,
        contact_name=contact_name,
        contact=contact,
        language=language,
        photos=photos,
        actor=actor,
        consent_recorded=consent_recorded,
        external_id=external_id,
        received_at=received_at,
        receipt_note=receipt_note,
        request_token=request_token if writer is not None and channel == Letter.Channel.WEB else None,
    )


def replayed_letter(*, request_token: uuid.UUID, writer) -> Letter | None:
    """The letter a resident's earlier try with this token stored, or None; another writer's token is refused.

    The writer's row is locked first (as the daily limit locks it): two tries sent at once
    are taken one after the other, and the second finds the first's letter. Called in the
    caller's transaction before submit_letter, it tells a replay from a new letter."""
    User.objects.select_for_update().filter(pk=writer.pk).first()
    letter = Letter.objects.select_related("topic", "community").filter(request_token=request_token).first()
    if letter is not None and letter.writer_id != writer.pk:
        raise MailboxError(_("This form was already used. Please reload the page."))
    return letter


def _store_letter(
    *,
    channel: str,
    subject: str,
    body: str,
    community: Community | None,
    photos: Sequence[CleanPhoto],
    actor=None,
    receipt_note: str = "",
    **fields,
) -> Letter:
    """The letter, its photos and its receipt step; the community and grid are already the source rows."""
    letter = _new_letter(channel=channel, subject=subject, body=body, community=community, actor=actor, **fields)
    letter.tracking_number = allocate_tracking_number(year=timezone.localdate(timezone.now()).year)
    letter.save()
    if photos:
        LetterPhoto.objects.bulk_create(
            [LetterPhoto(letter=letter, content_type=p.content_type, data=p.data, width=p.width, height=p.height) for p in photos]
        )
    # A hotline record or a paper letter was received before it was entered.
    _record_event(
        letter=letter, kind=LetterEvent.Kind.RECEIVED, actor=actor or letter.writer, message=receipt_note, at=letter.received_at
    )
    return letter


def _new_letter(
    *,
    channel: str,
    subject: str,
    body: str,
    community: Community | None,
    category: str = Category.OTHER,
    grid: Grid | None = None,
    place: str = "",
    privacy: str = Letter.Privacy.STAFF_ONLY,
    writer=None,
    contact_name: str = "",
    contact: str = "",
    language: str = settings.LANGUAGE_CODE,
    actor=None,
    consent_recorded: bool = False,
    external_id: str = "",
    received_at: datetime.datetime | None = None,
    request_token: uuid.UUID | None = None,
) -> Letter:
    """A letter not yet saved, without its tracking number."""
    return Letter(
        channel=channel,
        subject=subject[:120],
        body=body,
        community=community,
        grid=grid,
        category=category,
        place=place,
        privacy=privacy,
        writer=writer,
        contact_name=contact_name,
        contact=contact,
        language=language,
        entered_by=actor if channel in (Letter.Channel.STAFF, Letter.Channel.HOTLINE) else None,
        consent_recorded=consent_recorded,
        external_id=external_id,
        received_at=received_at or timezone.now(),
        shingles=similarity.encode(similarity.shingles(f"{subject} {body}")),
        access_key="" if writer is not None else secrets.token_urlsafe(16),
        request_token=request_token,
    )


def _locked(letter: Letter) -> Letter:
    return Letter.objects.select_for_update(of=("self",)).select_related("community", "topic").get(pk=letter.pk)


@transaction.atomic
def accept_letter(*, letter: Letter, actor) -> Letter:
    letter = _locked(letter)
    _require_staff(actor, letter.community)
    if letter.status != Letter.Status.NEW:
        raise MailboxError(_("Only a new letter can be accepted."))
    letter.status, letter.accepted_at = Letter.Status.ACCEPTED, timezone.now()
    letter.save(update_fields=["status", "accepted_at"])
    _record_event(letter=letter, kind=LetterEvent.Kind.ACCEPTED, actor=actor)
    return letter


@transaction.atomic
def reply_to_letter(*, letter: Letter, actor, message: str) -> LetterEvent:
    """A message to the writer, shown on their letter page and e-mailed; the status stays."""
    letter = _locked(letter)
    _require_staff(actor, letter.community)
    if not message.strip():
        raise MailboxError(_("Write the reply first."))
    return _record_event(letter=letter, kind=LetterEvent.Kind.REPLIED, actor=actor, message=message.strip())


@transaction.atomic
def answer_letter(*, letter: Letter, actor, message: str) -> Letter:
    """Answer the letter directly (no topic needed): the reply closes it."""
    letter = _locked(letter)
    _require_staff(actor, letter.community)
    if letter.status not in (Letter.Status.NEW, Letter.Status.ACCEPTED):
        raise MailboxError(_("This letter has already been handled."))
    if not message.strip():
        raise MailboxError(_("Write the answer first."))
    now = timezone.now()
    letter.status, letter.closed_at = Letter.Status.ANSWERED, now
    letter.accepted_at = letter.accepted_at or now
    letter.save(update_fields=["status", "closed_at", "accepted_at"])
    _record_event(letter=letter, kind=LetterEvent.Kind.ANSWERED, actor=actor, message=message.strip())
    return letter


@transaction.atomic
def mark_out_of_scope(*, letter: Letter, actor, reason: str) -> Letter:
    letter = _locked(letter)
    _require_staff(actor, letter.community)
    if not reason.strip():
        raise MailboxError(_("Give the reason why the letter is out of scope."))
    if letter.status not in (Letter.Status.NEW, Letter.Status.ACCEPTED):
        raise MailboxError(_("This letter has already been handled."))
    letter.status, letter.out_of_scope_reason, letter.closed_at = Letter.Status.OUT_OF_SCOPE, reason.strip(), timezone.now()
    letter.save(update_fields=["status", "out_of_scope_reason", "closed_at"])
    _record_event(letter=letter, kind=LetterEvent.Kind.OUT_OF_SCOPE, actor=actor, message=letter.out_of_scope_reason)
    return letter


@transaction.atomic
def assign_letter(*, letter: Letter, actor, assignee) -> Letter:
    letter = _locked(letter)
    _require_staff(actor, letter.community)
    if assignee is not None and not is_staff_of(assignee, letter.community):
        raise MailboxError(_("A letter can only be assigned to the community's staff."))
    letter.assigned_to = assignee
    letter.save(update_fields=["assigned_to"])
    return letter


@transaction.atomic
def add_note(*, letter: Letter, actor, text: str) -> LetterNote:
    _require_staff(actor, letter.community)
    if not text.strip():
        raise MailboxError(_("The note is empty."))
    return LetterNote.objects.create(letter=letter, author=actor, text=text.strip())


@transaction.atomic
def record_satisfaction(*, letter: Letter, writer, satisfied: bool) -> Letter:
    """The one question after a letter or its topic closed: was it handled well?"""
    letter = Letter.objects.select_for_update(of=("self",)).select_related("topic").get(pk=letter.pk)
    if not writer.is_authenticated or letter.writer_id != writer.pk:
        raise PermissionDenied(_("Only the writer can answer this question."))
    if not letter.is_closed:
        raise MailboxError(_("You can tell us whether you are satisfied once your letter is closed."))
    if letter.satisfied is not None:
        raise MailboxError(_("You have already answered this question."))
    letter.satisfied = satisfied
    letter.save(update_fields=["satisfied"])
    return letter


def overdue_letters(*, letters: Iterable[Letter] | None = None, today: datetime.date | None = None) -> list[Letter]:
    mailbox = MailboxSettings.load()
    letters = letters if letters is not None else Letter.objects.filter(status__in=[Letter.Status.NEW, Letter.Status.ACCEPTED])
    return [letter for letter in letters if letter.is_overdue(today=today, mailbox=mailbox)]


def escalate_overdue_letters(*, today: datetime.date | None = None) -> int:
    """Tell each community's heads, once per letter, of letters past their deadline."""
    escalated = 0
    for letter in overdue_letters(
        letters=Letter.objects.filter(
            status__in=[Letter.Status.NEW, Letter.Status.ACCEPTED], escalated_at__isnull=True
        ).select_related("community__heads"),
        today=today,
    ):
        with transaction.atomic():
            locked = Letter.objects.select_for_update().get(pk=letter.pk)
            if locked.escalated_at is not None:
                continue
            locked.escalated_at = timezone.now()
            locked.save(update_fields=["escalated_at"])
            heads = (
                list(letter.community.heads.user_set.filter(is_active=True).exclude(email=""))
                if letter.community and letter.community.heads
                else []
            )
            for head in heads:

                def render(letter=letter) -> Content:
                    subject = _("Overdue letter %(number)s") % {"number": letter.tracking_number}
                    text = _("Letter %(number)s (%(subject)s), received on %(date)s, is past its deadline.") % {
                        "number": letter.tracking_number,
                        "subject": letter.subject,
                        "date": timezone.localdate(letter.received_at).isoformat(),
                    }
                    return Content(subject=subject, body=text, params={"number": letter.tracking_number})

                notify(
                    kind="deliberation.letter_overdue",
                    recipient=head,
                    render=render,
                    idempotency_key=f"deliberation.letter_overdue:{letter.pk}:{locked.escalated_at.timestamp()}:{head.pk}",
                )
            escalated += 1
    return escalated
