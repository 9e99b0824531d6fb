"""State changes of the resident mailbox: letters, triage, topics, support, notifications."""

from __future__ import annotations

import datetime
import functools
import io
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task

from deliberation.mailbox import similarity
from deliberation.mailbox.mail import (
    MalformedMessage,
    ParsedMail,
    clean_text,
    content_hash,
    parse_message,
    sender_is_authenticated,
)
from deliberation.mailbox.models import (
    Category,
    CommunityMailbox,
    IncomingMail,
    Letter,
    LetterEvent,
    LetterNote,
    LetterPhoto,
    MailboxSettings,
    Support,
    Topic,
    TopicChange,
    TrackingCounter,
)
from deliberation.mailbox.names import names_in
from home.i18n import language_of, source_language
from home.models import Community, Grid, ResidentProfile
from home.scope import for_user
from home.services import VERIFY_FIRST, is_verified_resident, verified_resident
from outbox.services import Content, channels_for, notify
from plumbing.links import absolute_url
from plumbing.middleware import bump_page_cache_generation

User = get_user_model()

# Letters one account may send per day, and anonymous letters one network address per hour.
LETTERS_PER_ACCOUNT_PER_DAY = 5
ANONYMOUS_LETTERS_PER_ADDRESS_PER_HOUR = 10
MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_MAIL_PHOTO_BYTES = 25 * 1024 * 1024  # a phone's photo e-mailed at full size; it is scaled down anyway
MAX_PHOTO_PIXELS = 40_000_000
PHOTO_LONGEST_SIDE = 2000
# HEIF is what iPhones take photos in (pillow-heif reads it); it is kept as JPEG.
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}


class MailboxError(Exception):
    """A mailbox action that breaks a rule; the message is shown to the person who tried it."""


class RateLimited(MailboxError):
    pass


class PhotoError(MailboxError):
    pass


# --- Who may see and do what -------------------------------------------------------------


def is_staff_of(user, community: Community | None) -> bool:
    """The community's staff or the street office (home/scope.py); things of no community are the street office's."""
    return for_user(user).includes(community)


def letter_by_access_key(*, tracking_number: str, key: str) -> Letter | None:
    """The letter a writer without an account follows with their secret link, or None."""
    letter = (
        Letter.objects.select_related("topic", "community").filter(tracking_number=tracking_number).exclude(access_key="").first()
    )
    # As bytes: compare_digest refuses str with non-ASCII characters (TypeError), and a link can carry any.
    if letter is None or not secrets.compare_digest(letter.access_key.encode(), key.encode()):
        return None
    return letter


def can_read_letter(user, letter: Letter) -> bool:
    """A letter's text, name and contact: its writer and its community's staff, nobody else."""
    if user.is_authenticated and letter.writer_id == user.pk:
        return True
    return is_staff_of(user, letter.community)


def _require_staff(actor, community: Community | None) -> None:
    for_user(actor).require(community)


def letters_for_staff(user) -> QuerySet[Letter]:
    return for_user(user).filter(Letter.objects.all(), "community")


# --- Tracking numbers and photos ----------------------------------------------------------


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


@dataclass(frozen=True)
class CleanPhoto:
    content_type: str
    data: bytes
    width: int
    height: int


def clean_photo(*, data: bytes | File, name: str = "", max_bytes: int | None = None) -> CleanPhoto:
    """Check that `data` is a JPEG, PNG, WebP or HEIC image and re-encode it without EXIF, GPS or other metadata.

    `data` is the photo's bytes or an uploaded file, whose size is checked before anything
    is read. The pixel count is read from the header before any pixel is decoded; a JPEG is
    decoded at the smallest of its built-in scales (1/2, 1/4, 1/8) that still covers the
    size kept, and every photo is scaled down in place at once, so that a 40 Mpx photo
    costs at most one decoded image in memory (a JPEG much less).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    max_bytes = max_bytes or MAX_PHOTO_BYTES  # web uploads; e-mail passes MAX_MAIL_PHOTO_BYTES
    size = len(data) if isinstance(data, bytes) else data.size
    if size is None or size > max_bytes:
        raise PhotoError(
            _("%(name)s is too large: photos may be at most %(size)d MB.") % {"name": name, "size": max_bytes // (1024 * 1024)}
        )
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    not_an_image = PhotoError(_("%(name)s is not a photo (JPEG, PNG, WebP or HEIC).") % {"name": name})
    too_many_pixels = PhotoError(
        _("%(name)s has too many pixels: photos may have at most %(count)d million.")
        % {"name": name, "count": MAX_PHOTO_PIXELS // 1_000_000}
    )
    try:
        with _open_image(source) as probe:
            if probe.format not in PHOTO_FORMATS:
                raise not_an_image
            if probe.width * probe.height > MAX_PHOTO_PIXELS:
                raise too_many_pixels
            probe.verify()
        with _open_image(source) as image:
            image_format = image.format
            # Decoded straight to (about) the size kept: draft() for JPEG, then thumbnail() in place.
            image.draft(None, (PHOTO_LONGEST_SIDE, PHOTO_LONGEST_SIDE))
            # reducing_gap=1: a box reduction by the whole factor first, so the resampling's
            # intermediate image is small (quality is the same at the size kept).
            image.thumbnail((PHOTO_LONGEST_SIDE, PHOTO_LONGEST_SIDE), reducing_gap=1.0)
            upright = ImageOps.exif_transpose(image)
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow refuses over 179 Mpx and warns over 89 Mpx (the warning is an error where
        # warnings are errors, as in the tests); either way the photo has too many pixels.
        raise too_many_pixels from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise not_an_image from error
    if upright.mode not in ("RGB", "RGBA", "L"):
        upright = upright.convert("RGBA" if "A" in upright.getbands() else "RGB")
    # A new image from the pixels alone: no EXIF, GPS, XMP, ICC comments or text chunks survive.
    bare = Image.new(upright.mode, upright.size)
    bare.paste(upright)
    out = io.BytesIO()
    if image_format in ("JPEG", "HEIF"):
        bare.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
        content_type = "image/jpeg"
    else:
        bare.save(out, format="PNG", optimize=True)
        content_type = "image/png"
    return CleanPhoto(content_type=content_type, data=out.getvalue(), width=bare.width, height=bare.height)


def _open_image(source):
    """Pillow's open (which reads only the header), restricted to the photo formats."""
    from PIL import Image

    _register_heif()
    source.seek(0)
    return Image.open(source, formats=list(PHOTO_FORMATS))


@functools.cache
def _register_heif() -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()


# --- Letters ------------------------------------------------------------------------------


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


def _writer_language(letter: Letter) -> str:
    if letter.writer_id:
        profile = ResidentProfile.objects.filter(user_id=letter.writer_id).only("preferred_language").first()
        if profile is not None:
            return profile.preferred_language
    return letter.language


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
) -> Letter:
    """Store a letter from any channel, give it a tracking number and tell the writer (once, after commit).

    Web letters come from verified residents, or from anyone when the mailbox allows
    anonymous letters; staff entering a letter on a resident's behalf record their consent.
    Uploaded photos (files) are checked and decoded only after the rate limits let the
    letter through, so that a refused letter costs no image decoding.
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
    )


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
    )


def _record_event(
    *,
    letter: Letter,
    kind: str,
    actor=None,
    topic: Topic | None = None,
    topic_status: str = "",
    message: str = "",
    at: datetime.datetime | None = None,
) -> LetterEvent:
    event = LetterEvent.objects.create(
        letter=letter,
        kind=kind,
        actor=actor,
        topic=topic,
        topic_status=topic_status,
        message=message,
        created_at=at or timezone.now(),
    )
    if _recipient(letter):
        transaction.on_commit(lambda: send_letter_event.enqueue(event.pk))
    return event


def _recipient(letter: Letter) -> str:
    """Where the writer hears back: their account's address, else an e-mail address they left."""
    if letter.writer_id and letter.writer.email and letter.writer.is_active:
        return letter.writer.email
    if "@" in letter.contact:
        return letter.contact
    return ""


@task()
def send_letter_event(event_id: int) -> bool:
    """The worker's side of `record_event`: tells the writer about one event of their letter."""
    return notify_letter_event(event_id=event_id)


def notify_letter_event(*, event_id: int) -> bool:
    """Tell the writer of one timeline step in their language, exactly once; False if there was nobody to tell."""
    with transaction.atomic():
        event = LetterEvent.objects.select_for_update().filter(pk=event_id, notified_at__isnull=True).first()
        if event is None:
            return False
        letter = Letter.objects.select_related("writer", "topic").get(pk=event.letter_id)
        event.notified_at = timezone.now()
        event.save(update_fields=["notified_at"])
        # Queued in the transaction that marks the step notified: both commit or neither.
        return _queue_event_mail(letter=letter, event=event, recipient=_recipient(letter), language=_writer_language(letter))


def letter_message_id(letter: Letter, event: LetterEvent) -> str:
    """The Message-ID of a timeline step's e-mail: a reply to it names the letter, and the token proves
    that whoever replies received our mail (tracking numbers alone are counted up and guessable)."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" <>") or "linli.localhost"
    return f"<linli.{letter.tracking_number}.{event.pk}.{_letter_mail_token(letter.tracking_number)}@{domain}>"


def _letter_mail_token(tracking_number: str) -> str:
    return salted_hmac("deliberation.letter-mail", tracking_number).hexdigest()[:16]


def _queue_event_mail(*, letter: Letter, event: LetterEvent, recipient: str, language: str, in_reply_to: str = "") -> bool:
    """A writer with an account hears on the channels they chose; a letter without one by e-mail to its
    contact address (`recipient`). False if there was nobody to tell."""

    def render() -> Content:
        context = {"letter": letter, "event": event, "step": event.describe(), "site_url": absolute_url("/").rstrip("/")}
        subject = _("Your letter %(number)s: %(step)s") % {"number": letter.tracking_number, "step": event.describe()}
        text = render_to_string("mailbox/email/letter_event.txt", context)
        return Content(subject=subject, body=text, params={"number": letter.tracking_number, "step": event.describe()})

    headers = {"Message-ID": letter_message_id(letter, event)}
    if event.kind == LetterEvent.Kind.RECEIVED:
        # RFC 3834: other robots (out-of-office replies) must not answer our receipt.
        headers["Auto-Submitted"] = "auto-replied" if letter.channel == Letter.Channel.EMAIL else "auto-generated"
    if in_reply_to:
        headers["In-Reply-To"] = headers["References"] = f"<{in_reply_to.strip('<>')}>"
    writer = letter.writer if letter.writer_id and letter.writer.is_active else None
    key = f"deliberation.letter_event:{event.pk}"
    if writer is not None and channels_for(writer, "deliberation.letter_event"):
        notify(kind="deliberation.letter_event", recipient=writer, render=render, idempotency_key=key, headers=headers)
        return True
    if not recipient:
        return False
    notify(
        kind="deliberation.letter_event",
        address=recipient,
        language=language,
        render=render,
        idempotency_key=key,
        headers=headers,
    )
    return True


def send_pending_notifications(*, older_than: datetime.timedelta = datetime.timedelta(minutes=5)) -> int:
    """Steps whose mail was never sent (a worker stopped in between): send them now."""
    sent = 0
    cutoff = timezone.now() - older_than
    for event_id in LetterEvent.objects.filter(notified_at__isnull=True, created_at__lt=cutoff).values_list("pk", flat=True)[
        :500
    ]:
        sent += notify_letter_event(event_id=event_id)
    return sent


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


# --- Topics -------------------------------------------------------------------------------


def _topic_shingles(topic: Topic) -> str:
    return similarity.encode(similarity.shingles(f"{topic.title} {topic.summary}"))


def _check_topic_title(title: str) -> None:
    """Typed by staff in a plain field: PostgreSQL refuses a title longer than the column, SQLite would keep it."""
    limit = Topic._meta.get_field("title").max_length
    if len(title) > limit:
        raise MailboxError(_("A topic title has at most %(limit)s characters.") % {"limit": limit})


@transaction.atomic
def create_topic(*, community: Community, title: str, category: str, actor, summary: str = "") -> Topic:
    _require_staff(actor, community)
    if not title.strip():
        raise MailboxError(_("A topic needs a title."))
    _check_topic_title(title.strip())
    if category not in Category.values:
        raise MailboxError(_("Unknown category."))
    topic = Topic(community=community, title=title.strip(), category=category, summary=summary.strip(), created_by=actor)
    topic.shingles = _topic_shingles(topic)
    topic.save()
    return topic


@transaction.atomic
def merge_letter(*, letter: Letter, topic: Topic, actor) -> Letter:
    """Link the letter to the topic (it stays whole); from another topic this is a move. Both are audited."""
    letter = _locked(letter)
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    _require_staff(actor, letter.community)
    if topic.community_id != letter.community_id:
        raise MailboxError(_("A letter can only join a topic of its own community."))
    if letter.topic_id == topic.pk:
        raise MailboxError(_("The letter is already in this topic."))
    if letter.status in Letter.CLOSED_STATUSES:
        raise MailboxError(_("This letter has already been handled."))
    if topic.status in (Topic.Status.CLOSED, Topic.Status.REJECTED):
        raise MailboxError(_("Letters cannot join a closed or rejected topic."))
    previous = letter.topic
    now = timezone.now()
    letter.topic, letter.status = topic, Letter.Status.MERGED
    letter.accepted_at = letter.accepted_at or now
    letter.save(update_fields=["topic", "status", "accepted_at"])
    action = TopicChange.Action.MOVED if previous is not None else TopicChange.Action.MERGED
    TopicChange.objects.create(letter=letter, action=action, from_topic=previous, to_topic=topic, actor=actor)
    _record_event(letter=letter, kind=LetterEvent.Kind.MERGED, actor=actor, topic=topic)
    return letter


@transaction.atomic
def split_letter(*, letter: Letter, actor, title: str) -> Topic:
    """Take a letter out of its topic into a new topic of its own (it raised something else)."""
    letter = _locked(letter)
    _require_staff(actor, letter.community)
    previous = letter.topic
    if previous is None:
        raise MailboxError(_("The letter is not in a topic."))
    topic = create_topic(community=letter.community, title=title, category=letter.category, actor=actor)
    letter.topic = topic
    letter.save(update_fields=["topic"])
    TopicChange.objects.create(letter=letter, action=TopicChange.Action.SPLIT, from_topic=previous, to_topic=topic, actor=actor)
    _record_event(letter=letter, kind=LetterEvent.Kind.MERGED, actor=actor, topic=topic)
    return topic


# Phone numbers (mobile and landline), e-mail addresses, ID card numbers and street addresses down to the door.
_PERSONAL_PATTERNS = [
    re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),
    re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"),
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"),
    re.compile(r"\d+\s*(?:幢|栋|号楼|单元|室|弄\d+号)"),
    re.compile(r"(?i)\b(?:room|flat|apt\.?|building)\s*\d+"),
]


def check_public_text(*, topic: Topic, text: str) -> None:
    """Refuse public text with a sensitive word, or a writer's name, phone, e-mail or address."""
    for word in MailboxSettings.load().sensitive_word_list():
        if word in text:
            raise MailboxError(_("The summary contains a word that may not be published: %(word)s") % {"word": word})
    personal = [match.group() for pattern in _PERSONAL_PATTERNS for match in pattern.finditer(text)]
    if personal:
        raise MailboxError(
            _("The summary must not contain phone numbers, e-mail addresses or home addresses: %(words)s")
            % {"words": "、".join(dict.fromkeys(personal))}
        )
    names: set[str] = set()
    for letter in topic.letters.select_related("writer__profile"):
        names.update(filter(None, [letter.contact_name, letter.contact]))
        if letter.writer is not None:
            profile = getattr(letter.writer, "profile", None)
            names.update(
                filter(None, [profile.display_name if profile else "", letter.writer.first_name, letter.writer.last_name])
            )
    # In characters or in pinyin, with or without tones and spaces: "王秀英", "Wang Xiuying", "WangXiuying".
    if found := names_in(text, names):
        raise MailboxError(_("The summary must not name the residents who wrote: %(words)s") % {"words": "、".join(found)})


@transaction.atomic
def approve_topic_summary(
    *, topic: Topic, actor, summary: str, title: str | None = None, title_en: str | None = None, summary_en: str | None = None
) -> Topic:
    """Staff write or approve the public summary (and its English, what English pages show); only then do
    residents see the topic. The English is checked for names and numbers as the Chinese is."""
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    _require_staff(actor, topic.community)
    summary = summary.strip()
    title = (title or topic.title).strip()
    if not summary:
        raise MailboxError(_("Write the public summary first."))
    _check_topic_title(title)
    title_en = (topic.title_en if title_en is None else title_en).strip()
    summary_en = (topic.summary_en if summary_en is None else summary_en).strip()
    check_public_text(topic=topic, text=f"{title}\n{summary}\n{title_en}\n{summary_en}")
    topic.title, topic.summary, topic.title_en, topic.summary_en = title, summary, title_en, summary_en
    topic.summary_approved_at, topic.summary_approved_by = timezone.now(), actor
    topic.shingles = _topic_shingles(topic)
    topic.save()
    transaction.on_commit(bump_page_cache_generation)  # visitors see the public topic at once
    return topic


TOPIC_FLOW = {
    Topic.Status.OPEN: {Topic.Status.SHORTLISTED, Topic.Status.REJECTED},
    Topic.Status.SHORTLISTED: {Topic.Status.SCHEDULED, Topic.Status.REJECTED, Topic.Status.OPEN},
    Topic.Status.SCHEDULED: {Topic.Status.DECIDED, Topic.Status.SHORTLISTED},
    Topic.Status.DECIDED: {Topic.Status.FOLLOW_UP, Topic.Status.CLOSED},
    Topic.Status.FOLLOW_UP: {Topic.Status.CLOSED},
    Topic.Status.CLOSED: set(),
    Topic.Status.REJECTED: set(),
}


@transaction.atomic
def change_topic_status(*, topic: Topic, actor, status: str, reason: str = "") -> Topic:
    """Move a topic along its workflow; every writer of its letters hears of it."""
    _require_staff(actor, topic.community)
    return move_topic(topic=topic, actor=actor, status=status, reason=reason)


@transaction.atomic
def move_topic(*, topic: Topic, actor, status: str, reason: str = "", notify_writers: bool = True) -> Topic:
    """`change_topic_status` without the staff check, for the council's own steps (a vote decided it).

    With `notify_writers` False the steps still show on each letter's timeline but are not e-mailed
    one by one: the caller sends its own message to every writer and supporter instead.
    """
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    if not status:
        raise MailboxError(_("Choose the topic's new status."))
    if status not in TOPIC_FLOW.get(topic.status, set()):
        raise MailboxError(
            _("A topic cannot go from “%(current)s” to “%(new)s”.")
            % {
                "current": topic.get_status_display(),
                "new": Topic.Status(status).label if status in Topic.Status.values else status,
            }
        )
    if status == Topic.Status.REJECTED and not reason.strip():
        raise MailboxError(_("Give the reason why the topic is rejected."))
    topic.status, topic.status_changed_at = status, timezone.now()
    if status == Topic.Status.REJECTED:
        topic.rejection_reason = reason.strip()
    topic.save(update_fields=["status", "status_changed_at", "rejection_reason"])
    if topic.is_public:
        transaction.on_commit(bump_page_cache_generation)
    letters = list(topic.letters.select_related("writer").order_by("received_at", "pk"))
    events = [
        _record_event(
            letter=letter,
            kind=LetterEvent.Kind.TOPIC_STATUS,
            actor=actor,
            topic=topic,
            topic_status=status,
            message=reason.strip(),
        )
        for letter in letters
    ]
    # Every letter shows the step on its timeline, but a person hears of it once: the first of their letters
    # carries the message, the others are marked told (with `notify_writers` False, the caller tells everyone).
    told, quiet = set(), []
    for letter, event in zip(letters, events, strict=True):
        person = f"user:{letter.writer_id}" if letter.writer_id else _recipient(letter).strip().lower()
        if not notify_writers or person in told:
            quiet.append(event.pk)
        told.add(person)
    if quiet:
        LetterEvent.objects.filter(pk__in=quiet).update(notified_at=timezone.now())
    return topic


@transaction.atomic
def support_topic(*, topic: Topic, resident) -> Support:
    """One support per verified resident (a database constraint keeps it so under concurrency)."""
    if not is_verified_resident(resident):
        raise PermissionDenied(str(VERIFY_FIRST))
    topic = Topic.objects.get(pk=topic.pk)
    if not topic.accepts_support:
        raise MailboxError(_("This topic no longer takes support."))
    if wrote_about(topic=topic, resident=resident):
        raise MailboxError(_("You wrote about this topic: your letter already counts for it, so you cannot support it too."))
    try:
        with transaction.atomic():
            return Support.objects.create(topic=topic, resident=resident)
    except IntegrityError as error:
        raise MailboxError(_("You already support this topic.")) from error


def wrote_about(*, topic: Topic, resident) -> bool:
    """Whether the resident wrote one of the topic's letters (they count as raising it, not as support)."""
    return resident.is_authenticated and topic.letters.filter(writer=resident).exists()


@transaction.atomic
def withdraw_support(*, topic: Topic, resident) -> None:
    deleted, _rows = Support.objects.filter(topic=topic, resident=resident).delete()
    if not deleted:
        raise MailboxError(_("You do not support this topic."))


def support_threshold(community: Community) -> int:
    mailbox = CommunityMailbox.objects.filter(community=community).first()
    return mailbox.support_threshold if mailbox else CommunityMailbox._meta.get_field("support_threshold").default


def raised_by(topic: Topic) -> tuple[int, int]:
    """Distinct residents who wrote about the topic, and distinct households (building and unit) among them."""
    writers = set()
    households = set()
    anonymous = 0
    for writer_id, contact, unit in topic.letters.values_list("writer_id", "contact", "writer__profile__building_unit"):
        if writer_id is None:
            if contact and contact not in writers:
                writers.add(contact)
                households.add(("contact", contact))
            elif not contact:
                anonymous += 1
            continue
        writers.add(writer_id)
        households.add(("unit", unit) if unit else ("writer", writer_id))
    return len(writers) + anonymous, len(households) + anonymous


def public_topics() -> QuerySet[Topic]:
    return (
        Topic.objects.filter(summary_approved_at__isnull=False)
        .select_related("community")
        .annotate(support_count=Count("supports", distinct=True))
        .order_by("-status_changed_at", "-pk")
    )


# --- Similarity ---------------------------------------------------------------------------


def similar_public_topics(*, text: str, community: Community | None, limit: int = 5) -> list[tuple[Topic, float]]:
    """Public topics open for support like what the resident is writing ("is it one of these?")."""
    topics = Topic.objects.filter(summary_approved_at__isnull=False, status__in=[Topic.Status.OPEN, Topic.Status.SHORTLISTED])
    if community is not None:
        topics = topics.filter(community=community)
    candidates = (
        (topic, topic.shingles) for topic in topics.only("pk", "title", "summary", "shingles", "status", "community_id")
    )
    return similarity.best(similarity.shingles(text), candidates, limit=limit)


def similar_to_letter(*, letter: Letter, limit: int = 5) -> tuple[list[tuple[Topic, float]], list[tuple[Letter, float]]]:
    """The topics and other letters of the letter's community most like it, with their scores."""
    query = similarity.decode(letter.shingles) or similarity.shingles(f"{letter.subject} {letter.body}")
    topics = Topic.objects.filter(community=letter.community_id).exclude(status=Topic.Status.REJECTED)
    topic_hits = similarity.best(
        set(query), ((t, t.shingles) for t in topics.only("pk", "title", "status", "shingles")), limit=limit
    )
    index = similarity.letter_index((connection.alias, connection.settings_dict["NAME"], letter.community_id))
    with index.lock:
        # Letters are never edited, so only the ones received since the last query are read.
        newer = (
            Letter.objects.filter(community=letter.community_id, pk__gt=index.last_pk)
            .order_by("pk")
            .values_list("pk", "shingles")
        )
        index.add(newer.iterator(chunk_size=5000))
        letter_hits = index.best(set(query), exclude=letter.pk, limit=limit)
    found = Letter.objects.in_bulk([pk for pk, _score in letter_hits])
    return topic_hits, [(found[pk], score) for pk, score in letter_hits if pk in found]


# --- Deadlines ----------------------------------------------------------------------------


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


# --- Letters by e-mail ------------------------------------------------------------------------

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


def _tell_staff_of_reply(*, letter: Letter, event: LetterEvent) -> None:
    """The staff member the letter is assigned to, else the community's staff, each on their own channels."""
    if letter.assigned_to_id:
        staff = User.objects.filter(pk=letter.assigned_to_id, is_active=True)
    elif letter.community_id and letter.community.editors_id:
        staff = User.objects.filter(groups=letter.community.editors_id, is_active=True)
    else:
        staff = User.objects.none()
    url = absolute_url(reverse("mailbox_admin:letter", args=[letter.pk]))

    def render() -> Content:
        subject = _("Letter %(number)s: the writer replied") % {"number": letter.tracking_number}
        body = render_to_string("mailbox/email/writer_replied.txt", {"letter": letter, "event": event, "url": url})
        return Content(subject=subject, body=body, params={"number": letter.tracking_number})

    for member in staff:
        notify(
            kind="deliberation.letter_writer_replied",
            recipient=member,
            render=render,
            idempotency_key=f"deliberation.letter_writer_replied:{event.pk}:{member.pk}",
        )


def _writer_language_for(writer, guessed: str) -> str:
    return language_of(writer, guessed)


# --- Hotline and petition records -----------------------------------------------------------

HOTLINE_FIELDS = ("external_id", "received_at", "subject", "body", "category", "contact_name", "contact", "place", "grid")
HOTLINE_REQUIRED = ("external_id", "body")
MAX_IMPORT_ROWS = 5000
MAX_IMPORT_BYTES = 5 * 1024 * 1024


def read_table(*, data: bytes, filename: str) -> tuple[list[str], list[list[str]]]:
    """Headers and rows (as text) of a CSV (UTF-8 or GB18030, as Excel in China saves it) or XLSX file."""
    import csv

    if len(data) > MAX_IMPORT_BYTES:
        raise MailboxError(_("The file is too large (at most 5 MB)."))
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # noqa: BLE001  (openpyxl raises many kinds for a broken file)
            raise MailboxError(_("This is not a readable XLSX file.")) from error
        sheet = workbook.worksheets[0]
        table = [
            ["" if cell is None else (cell.isoformat() if hasattr(cell, "isoformat") else str(cell)) for cell in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        workbook.close()
    elif filename.lower().endswith(".csv"):
        from deliberation.mailbox.mail import decode_bytes

        text = decode_bytes(data.removeprefix(b"\xef\xbb\xbf"), "utf-8")
        table = list(csv.reader(io.StringIO(text)))
    else:
        raise MailboxError(_("Upload a CSV or XLSX file."))
    table = [[cell.strip() for cell in row] for row in table if any(cell.strip() for cell in row)]
    if not table:
        raise MailboxError(_("The file is empty."))
    if len(table) - 1 > MAX_IMPORT_ROWS:
        raise MailboxError(_("At most %(count)d rows can be imported at once.") % {"count": MAX_IMPORT_ROWS})
    headers = table[0]
    width = len(headers)
    return headers, [(row + [""] * width)[:width] for row in table[1:]]


@dataclass
class HotlineRow:
    number: int
    values: dict[str, str]
    errors: list[str]
    duplicate: bool = False
    received_at: datetime.datetime | None = None
    category: str = Category.OTHER
    grid: Grid | None = None

    @property
    def importable(self) -> bool:
        return not self.errors and not self.duplicate


def _parse_when(value: str) -> datetime.datetime | None:
    value = value.strip().replace("/", "-")
    for pattern in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return timezone.make_aware(datetime.datetime.strptime(value, pattern))
        except ValueError:
            continue
    return None


def preview_hotline(*, upload, mapping: dict[str, str]) -> list[HotlineRow]:
    """Each row as it would be imported, with its errors; rows already imported are marked duplicates."""
    index = {name: upload.headers.index(column) for name, column in mapping.items() if column in upload.headers}
    missing = [name for name in HOTLINE_REQUIRED if name not in index]
    if missing:
        raise MailboxError(_("Choose the columns for the record id and the text."))
    categories = {str(label): value for value, label in Category.choices} | {value: value for value in Category.values}
    with translation.override(source_language()):
        categories |= {str(label): value for value, label in Category.choices}
    grids = {grid.name: grid for grid in Grid.objects.filter(community=upload.community)} | {
        str(grid.number): grid for grid in Grid.objects.filter(community=upload.community)
    }
    ids = [row[index["external_id"]] for row in upload.rows]
    existing = set(
        Letter.objects.filter(channel=Letter.Channel.HOTLINE, external_id__in=[i for i in ids if i]).values_list(
            "external_id", flat=True
        )
    )
    seen: set[str] = set()
    results = []
    for number, row in enumerate(upload.rows, start=2):  # row 1 is the header, as a spreadsheet shows it
        values = {name: row[position] for name, position in index.items()}
        result = HotlineRow(number=number, values=values, errors=[])
        record_id = values.get("external_id", "")
        if not record_id:
            result.errors.append(_("No record id."))
        elif record_id in seen:
            result.errors.append(_("The record id appears twice in the file."))
        seen.add(record_id)
        result.duplicate = record_id in existing
        if not values.get("body"):
            result.errors.append(_("No text."))
        if values.get("received_at"):
            result.received_at = _parse_when(values["received_at"])
            if result.received_at is None:
                result.errors.append(_("Unreadable date: %(value)s") % {"value": values["received_at"]})
        if values.get("category"):
            if values["category"] not in categories:
                result.errors.append(_("Unknown category: %(value)s") % {"value": values["category"]})
            else:
                result.category = categories[values["category"]]
        if values.get("grid"):
            result.grid = grids.get(values["grid"])
            if result.grid is None:
                result.errors.append(_("Unknown grid: %(value)s") % {"value": values["grid"]})
        results.append(result)
    return results


@transaction.atomic
def import_hotline(*, upload, mapping: dict[str, str], actor) -> int:
    """Import every valid row not imported before (idempotent by the record's own id); save the mapping."""
    from deliberation.mailbox.models import HotlineColumnMapping, HotlineUpload

    upload = HotlineUpload.objects.select_for_update().get(pk=upload.pk)
    _require_staff(actor, upload.community)
    rows = preview_hotline(upload=upload, mapping=mapping)
    HotlineColumnMapping.objects.update_or_create(community=upload.community, defaults={"mapping": mapping})
    created = 0
    for row in rows:
        if not row.importable:
            continue
        values = row.values
        body = values["body"]
        submit_letter(
            channel=Letter.Channel.HOTLINE,
            subject=values.get("subject") or body[:30],
            body=body,
            community=upload.community,
            grid=row.grid,
            category=row.category,
            place=values.get("place", "")[:120],
            contact_name=values.get("contact_name", "")[:60],
            contact=values.get("contact", "")[:254],
            actor=actor,
            external_id=values["external_id"][:64],
            received_at=row.received_at,
        )
        created += 1
    upload.imported_at = timezone.now()
    upload.save(update_fields=["imported_at"])
    return created
