"""State changes of neighbour help: posting, responding, matching, completing, thanking, reporting, moderating.

Locking: a change that counts who was accepted on a post locks that post's row (`_locked_post`) and nothing
shared, so neighbours of different posts never queue behind each other; `accepted_count` is checked under the
lock and by a CHECK constraint. Completing a help locks the giver's user row, which makes the per-pair monthly
cap on points atomic. Every change is one transaction, recorded in the audit log (neighbours/audit.py); what it
tells people goes through the outbox in the same transaction.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from deliberation.mailbox.models import MailboxSettings
from deliberation.mailbox.services import personal_details_in
from home.models import Community, Grid, ResidentProfile, display_name, verified_phone
from home.scope import for_user
from home.services import require_verified_resident
from plumbing import photos as photo_cleaning
from points import services as points

from . import notifications
from .audit import record
from .models import (
    HELP_KINDS,
    ITEM_KINDS,
    MAX_HELPERS,
    Availability,
    Category,
    HelperProfile,
    Kind,
    Post,
    PostingSuspension,
    PostPhoto,
    Report,
    Response,
    Thanks,
    Urgency,
    default_expiry,
)

User = get_user_model()

ADULT_AGE = 18
MAX_PHOTOS = 3
MAX_OPEN_POSTS = 10  # open posts a resident may have at once
MAX_HOURS = Decimal("12")
MAX_AMOUNT = Decimal("1000000")
MAX_SUSPENSION_DAYS = 365
MAX_DAYS_AHEAD = 366  # how far ahead a post's dates may be
UNANSWERED_AFTER = datetime.timedelta(hours=48)
DIGEST_EVERY = datetime.timedelta(days=7)
POINTS_RULE = "neighbour_help"

# A post that asks for money or for medical treatment is not refused: it carries a standard warning.
MONEY_WORDS = re.compile(
    r"借钱|借款|转账|汇款|打款|捐款|红包|收款码|银行卡|支付宝|微信支付|众筹|水滴筹|轻松筹|现金|"
    r"(?i:\b(?:money|cash|bank|transfer|wire|loan|paypal|crowdfund\w*)\b)"
)
MEDICAL_WORDS = re.compile(
    r"医药费|医疗费|治疗费|手术费|住院费|看病|治病|求医|偏方|就医|手术|"
    r"(?i:\b(?:medical|treatment|surgery|operation|hospital bills?|medicine|cure)\b)"
)


BUILDING_ONLY = re.compile(r"\d+\s*(?:幢|栋|号楼)|(?i:building)\s*\d+")


class NeighbourError(Exception):
    """A neighbour-help action that breaks a rule; the message is shown to the person who tried."""


class NotAllowed(PermissionDenied):
    """The person may not do this to this post or response (not theirs, not their grid)."""


# ---------------------------------------------------------------------------
# Who may do what


def profile_of(user) -> ResidentProfile | None:
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.profile
    except ResidentProfile.DoesNotExist:
        return None


def grid_of(user) -> Grid | None:
    profile = profile_of(user)
    return profile.grid if profile is not None and profile.grid_id else None


def is_minor(user) -> bool:
    """Under 18 by the birth year on their profile (an unknown birth year is not taken for a minor)."""
    profile = profile_of(user)
    return bool(profile and profile.birth_year and timezone.localdate().year - profile.birth_year < ADULT_AGE)


def is_staff_of(user, community: Community | None) -> bool:
    return community is not None and for_user(user).includes(community)


def active_suspension(user, community: Community) -> PostingSuspension | None:
    return (
        PostingSuspension.objects.filter(resident=user, community=community, until__gt=timezone.now()).order_by("-until").first()
    )


def can_read_post(user, post: Post) -> bool:
    """The grid's residents (hidden posts: only the author), the author, and the community's staff."""
    if user is None or not user.is_authenticated:
        return False
    if post.author_id == user.pk or is_staff_of(user, post.community):
        return True
    profile = profile_of(user)
    return post.is_public and profile is not None and profile.grid_id == post.grid_id


def acts_for_poster(user, post: Post) -> bool:
    """The author, or the community's staff on a post they entered for a resident without a phone."""
    if user is None or not user.is_authenticated:
        return False
    return post.author_id == user.pk or (post.posted_by_id is not None and is_staff_of(user, post.community))


def _check_may_take_part(user, grid: Grid, *, verified: bool = True) -> None:
    """A resident of `grid`, an adult, not suspended in its community (and verified when acting themselves)."""
    if verified:
        require_verified_resident(user)
    profile = profile_of(user)
    if profile is None or profile.grid_id != grid.pk:
        raise NotAllowed(_("Only residents of this grid may take part in its neighbour help."))
    if is_minor(user):
        raise NeighbourError(_("Residents under 18 cannot post or respond in neighbour help. Please ask a parent or guardian."))
    suspension = active_suspension(user, grid.community)
    if suspension is not None:
        raise NeighbourError(
            _("Staff have suspended your posting until %(day)s: %(reason)s")
            % {"day": timezone.localtime(suspension.until).strftime("%Y-%m-%d"), "reason": suspension.reason}
        )


def check_text(*texts: str) -> None:
    """Refuse words the street office listed (the mailbox's list) and phone numbers or home addresses: a post is
    read by the whole grid; contacts are shared after acceptance."""
    words = MailboxSettings.load().sensitive_word_list()
    for text in texts:
        for word in words:
            if word in text:
                raise NeighbourError(_("The text contains a word that may not be published: %(word)s") % {"word": word})
        # A building is a place in the grid (the mailbox refuses it in public summaries); a unit or a door is not.
        personal = [found for found in personal_details_in(text) if not BUILDING_ONLY.fullmatch(found)]
        if personal:
            raise NeighbourError(
                _(
                    "Please leave out phone numbers, e-mail addresses and home addresses (%(words)s): the grid reads "
                    "posts, and contacts are shared once you accept someone."
                )
                % {"words": "、".join(personal)}
            )


def warning_flags(text: str) -> tuple[bool, bool]:
    """(asks for money, asks for medical treatment)."""
    return bool(MONEY_WORDS.search(text)), bool(MEDICAL_WORDS.search(text))


# ---------------------------------------------------------------------------
# Contacts: masked until acceptance, then shown to the two only


def masked(phone: str) -> str:
    """138****5678: enough to recognise a number, not to call it."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else ("*" * len(phone))


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str = ""  # full after acceptance, masked before
    email: str = ""
    revealed: bool = False


def contact_for(*, viewer, person, response: Response) -> Contact | None:
    """How `viewer` may reach `person` about `response`: None unless the viewer is one of its two sides; the
    masked phone before acceptance, the verified mobile number or e-mail address after it."""
    post = response.post
    sides = {post.author_id, response.responder_id}
    if viewer is None or not viewer.is_authenticated or person.pk not in sides:
        return None
    if viewer.pk not in sides and not acts_for_poster(viewer, post):
        return None
    phone = verified_phone(person)
    if response.is_matched:
        return Contact(name=display_name(person), phone=phone, email="" if phone else person.email, revealed=True)
    return Contact(name=display_name(person), phone=masked(phone) if phone else "")


# ---------------------------------------------------------------------------
# Posting


def _locked_post(post: Post) -> Post:
    locked = Post.objects.select_for_update().select_related("community", "grid").get(pk=post.pk)
    post.__dict__.update({field.attname: getattr(locked, field.attname) for field in Post._meta.concrete_fields})
    return locked


def _checked_terms(
    *,
    kind: str,
    category: str,
    title: str,
    text: str,
    place: str,
    when_text: str,
    when_from: datetime.date | None,
    when_until: datetime.date | None,
    urgency: str,
    helpers_wanted: int,
) -> dict:
    title, text, place, when_text = title.strip(), text.strip(), place.strip(), when_text.strip()
    if not title or not text:
        raise NeighbourError(_("A post needs a title and a text."))
    if len(title) > 80 or len(text) > 2000 or len(place) > 100 or len(when_text) > 100:
        raise NeighbourError(_("The title, text, place or time is too long."))
    if kind not in Kind.values:
        raise NeighbourError(_("Unknown kind of post."))
    if category not in Category.values:
        raise NeighbourError(_("Unknown category."))
    if urgency not in Urgency.values:
        raise NeighbourError(_("Unknown urgency."))
    if isinstance(helpers_wanted, bool) or not isinstance(helpers_wanted, int) or not 1 <= helpers_wanted <= MAX_HELPERS:
        raise NeighbourError(_("A post may ask for 1 to %(most)d neighbours.") % {"most": MAX_HELPERS})
    today = timezone.localdate()
    for day in (when_from, when_until):
        if day is not None and not (today - datetime.timedelta(days=1) <= day <= today + datetime.timedelta(days=MAX_DAYS_AHEAD)):
            raise NeighbourError(_("Dates must be from today to a year ahead."))
    if when_from and when_until and when_until < when_from:
        raise NeighbourError(_("The end date is before the start date."))
    check_text(title, text, place, when_text)
    asks_money, asks_medical = warning_flags(f"{title}\n{text}")
    return {
        "kind": kind,
        "category": category,
        "title": title,
        "text": text,
        "place": place,
        "when_text": when_text,
        "when_from": when_from,
        "when_until": when_until,
        "urgency": urgency,
        "helpers_wanted": helpers_wanted,
        "asks_money": asks_money,
        "asks_medical": asks_medical,
    }


def _cleaned_photos(photos: Sequence) -> list[photo_cleaning.CleanPhoto]:
    if len(photos) > MAX_PHOTOS:
        raise NeighbourError(_("You can attach at most %(count)d photos.") % {"count": MAX_PHOTOS})
    try:
        return [
            photo if isinstance(photo, photo_cleaning.CleanPhoto) else photo_cleaning.clean_photo(data=photo, name=photo.name)
            for photo in photos
        ]
    except photo_cleaning.PhotoError as error:
        raise NeighbourError(str(error)) from error


def _store_post(*, author, grid: Grid, terms: dict, photos: list, posted_by=None, now: datetime.datetime) -> Post:
    if Post.objects.filter(author=author, status=Post.Status.OPEN, expires_at__gt=now).count() >= MAX_OPEN_POSTS:
        raise NeighbourError(
            _("You have %(count)d open posts already: close one before posting another.") % {"count": MAX_OPEN_POSTS}
        )
    post = Post.objects.create(
        grid=grid,
        community=grid.community,
        author=author,
        posted_by=posted_by,
        created_at=now,
        expires_at=default_expiry(now),
        **terms,
    )
    PostPhoto.objects.bulk_create(
        [PostPhoto(post=post, content_type=p.content_type, data=p.data, width=p.width, height=p.height) for p in photos]
    )
    return post


def create_post(
    *,
    author,
    grid: Grid,
    kind: str,
    category: str,
    title: str,
    text: str,
    place: str = "",
    when_text: str = "",
    when_from: datetime.date | None = None,
    when_until: datetime.date | None = None,
    urgency: str = Urgency.NORMAL,
    helpers_wanted: int = 1,
    photos: Sequence = (),
    now: datetime.datetime | None = None,
) -> Post:
    """A resident posts a request, an offer, a loan, a gift, a charity-sale item or a donation drive in their grid.

    `now` is for the demo's history only (never in the future)."""
    now = _moment(now)
    _check_may_take_part(author, grid)
    terms = _checked_terms(
        kind=kind,
        category=category,
        title=title,
        text=text,
        place=place,
        when_text=when_text,
        when_from=when_from,
        when_until=when_until,
        urgency=urgency,
        helpers_wanted=helpers_wanted,
    )
    cleaned = _cleaned_photos(photos)  # decoded once the rules let the post through
    with transaction.atomic():
        post = _store_post(author=author, grid=grid, terms=terms, photos=cleaned, now=now)
        record(post, "neighbours.post.create", actor=author, kind=post.kind)
    return post


def post_on_behalf(
    *,
    actor,
    resident,
    consent_recorded: bool,
    kind: str,
    category: str,
    title: str,
    text: str,
    place: str = "",
    when_text: str = "",
    when_from: datetime.date | None = None,
    when_until: datetime.date | None = None,
    urgency: str = Urgency.NORMAL,
    helpers_wanted: int = 1,
    photos: Sequence = (),
) -> Post:
    """Community staff post for a resident of their community who has no phone (at the desk, on a visit)."""
    grid = grid_of(resident)
    if grid is None:
        raise NeighbourError(_("This resident has no grid on their profile: set it first."))
    for_user(actor).require(grid.community)
    if not consent_recorded:
        raise NeighbourError(_("Record the resident's consent before posting on their behalf."))
    _check_may_take_part(resident, grid, verified=False)
    terms = _checked_terms(
        kind=kind,
        category=category,
        title=title,
        text=text,
        place=place,
        when_text=when_text,
        when_from=when_from,
        when_until=when_until,
        urgency=urgency,
        helpers_wanted=helpers_wanted,
    )
    cleaned = _cleaned_photos(photos)
    with transaction.atomic():
        post = _store_post(author=resident, grid=grid, terms=terms, photos=cleaned, posted_by=actor, now=timezone.now())
        record(post, "neighbours.post.on_behalf", actor=actor, kind=post.kind)
    return post


def _moment(now: datetime.datetime | None) -> datetime.datetime:
    current = timezone.now()
    if now is None:
        return current
    if now > current:
        raise NeighbourError(_("A post cannot be dated in the future."))
    return now


def close_post(*, post: Post, actor) -> Post:
    """The poster (or staff) closes a post: no new responses; offers still waiting are declined."""
    with transaction.atomic():
        post = _locked_post(post)
        if not acts_for_poster(actor, post) and not is_staff_of(actor, post.community):
            raise NotAllowed(_("Only the poster may close this post."))
        if post.status not in (Post.Status.OPEN, Post.Status.MATCHED):
            raise NeighbourError(_("This post is already closed."))
        post.status = Post.Status.CLOSED
        post.closed_at = timezone.now()
        post.save(update_fields=["status", "closed_at"])
        post.responses.filter(status=Response.Status.OFFERED).update(status=Response.Status.DECLINED)
        record(post, "neighbours.post.close", actor=actor)
    return post


def expire_posts(*, now: datetime.datetime | None = None) -> int:
    """Open posts past their expiry become expired (offers still waiting are declined); the number expired.
    Matched posts do not expire: their help is under way."""
    now = now or timezone.now()
    expired = 0
    for pk in Post.objects.filter(status=Post.Status.OPEN, expires_at__lte=now).values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            post = Post.objects.select_for_update().filter(pk=pk, status=Post.Status.OPEN, expires_at__lte=now).first()
            if post is None:
                continue  # answered or closed meanwhile
            post.status = Post.Status.EXPIRED
            post.closed_at = now
            post.save(update_fields=["status", "closed_at"])
            post.responses.filter(status=Response.Status.OFFERED).update(status=Response.Status.DECLINED)
            record(post, "neighbours.post.expire", actor=None)
            expired += 1
    return expired


# ---------------------------------------------------------------------------
# Responding and matching


def _check_may_respond(post: Post, responder) -> None:
    if post.author_id == responder.pk:
        raise NeighbourError(_("You cannot respond to your own post."))
    _check_may_take_part(responder, post.grid)
    if not post.is_open:
        raise NeighbourError(_("This post is no longer open."))


def _standing_response(post: Post, responder) -> Response | None:
    """The responder's response to the post that still stands (offered, accepted or done), if any."""
    if not responder.is_authenticated:
        return None
    return Response.objects.filter(
        post=post, responder=responder, status__in=[Response.Status.OFFERED, Response.Status.ACCEPTED, Response.Status.DONE]
    ).first()


def _response_row(post: Post, responder, message: str) -> tuple[Response, bool]:
    """The responder's response to the post, made now or found (one per neighbour and post)."""
    existing = Response.objects.filter(post=post, responder=responder).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return Response.objects.create(post=post, responder=responder, message=message), True
    except IntegrityError:
        return Response.objects.get(post=post, responder=responder), False


def offer_help(*, post: Post, responder, message: str = "") -> Response:
    """A neighbour offers to help (or, on an offer, asks for it): the poster decides whom to accept.
    Offering again returns the same response; one withdrawn may be offered again."""
    message = message.strip()
    if len(message) > 500:
        raise NeighbourError(_("The message is too long."))
    check_text(message)
    if post.kind in ITEM_KINDS:
        return claim(post=post, responder=responder, message=message)
    if (already := _standing_response(post, responder)) is not None:
        return already  # pressed twice
    _check_may_respond(post, responder)
    with transaction.atomic():
        post = _locked_post(post)
        _check_may_respond(post, responder)  # again under the lock: closed or expired meanwhile
        response, created = _response_row(post, responder, message)
        if not created:
            if response.status == Response.Status.DECLINED:
                raise NeighbourError(_("The poster has already answered your offer."))
            if response.status != Response.Status.WITHDRAWN:
                return response
            response.status, response.message, response.created_at = Response.Status.OFFERED, message, timezone.now()
            response.save(update_fields=["status", "message", "created_at"])
        if post.first_response_at is None:
            post.first_response_at = response.created_at
            post.save(update_fields=["first_response_at"])
        record(post, "neighbours.response.offer", actor=responder, response=response.pk)
        notifications.response_received(response)
    return response


def claim(*, post: Post, responder, message: str = "") -> Response:
    """A neighbour claims an item (to borrow, to take, to buy at the charity sale): first come, first served.
    A claimed item cannot be claimed again: the post's row lock and `accepted_count <= helpers_wanted` hold it."""
    if post.kind not in ITEM_KINDS:
        raise NeighbourError(_("Only lent, given or charity-sale items are claimed."))
    if (already := _standing_response(post, responder)) is not None:
        return already
    _check_may_respond(post, responder)
    with transaction.atomic():
        post = _locked_post(post)
        _check_may_respond(post, responder)
        response, created = _response_row(post, responder, message)
        if not created and response.status in (Response.Status.ACCEPTED, Response.Status.DONE):
            return response
        if not created and response.status == Response.Status.DECLINED:
            raise NeighbourError(_("The poster has already answered your claim."))
        if post.accepted_count >= post.helpers_wanted:
            raise NeighbourError(_("Someone else has already claimed this."))
        now = timezone.now()
        response.status, response.message, response.accepted_at = Response.Status.ACCEPTED, message, now
        response.save(update_fields=["status", "message", "accepted_at"])
        _count_acceptance(post, now=now, first=post.first_response_at is None)
        record(post, "neighbours.response.claim", actor=responder, response=response.pk)
        notifications.item_claimed(response)
    return response


def _count_acceptance(post: Post, *, now: datetime.datetime, first: bool = False) -> None:
    post.accepted_count += 1
    fields = ["accepted_count", "status"]
    if post.accepted_count >= post.helpers_wanted:
        post.status = Post.Status.MATCHED
    if first:
        post.first_response_at = now
        fields.append("first_response_at")
    post.save(update_fields=fields)


def _uncount_acceptance(post: Post) -> None:
    post.accepted_count -= 1
    if post.status == Post.Status.MATCHED:
        post.status = Post.Status.OPEN if post.expires_at > timezone.now() else Post.Status.EXPIRED
    post.save(update_fields=["accepted_count", "status"])


def _locked_response(response: Response) -> tuple[Post, Response]:
    """The post and the response, locked in that order (post first, as everywhere)."""
    post = _locked_post(response.post)
    locked = Response.objects.select_for_update().get(pk=response.pk)
    locked.post = post
    return post, locked


def accept(*, response: Response, actor) -> Response:
    """The poster accepts a neighbour's offer, up to `helpers_wanted`; the two then see each other's contact."""
    with transaction.atomic():
        post, response = _locked_response(response)
        if not acts_for_poster(actor, post):
            raise NotAllowed(_("Only the poster may accept offers."))
        if response.status == Response.Status.ACCEPTED:
            return response
        if response.status != Response.Status.OFFERED:
            raise NeighbourError(_("This offer is no longer waiting for an answer."))
        if post.status != Post.Status.OPEN or post.expires_at <= timezone.now():
            raise NeighbourError(_("This post is no longer open."))
        if post.accepted_count >= post.helpers_wanted:
            raise NeighbourError(_("You have already accepted as many neighbours as you asked for."))
        now = timezone.now()
        response.status, response.accepted_at = Response.Status.ACCEPTED, now
        response.save(update_fields=["status", "accepted_at"])
        _count_acceptance(post, now=now)
        record(post, "neighbours.response.accept", actor=actor, response=response.pk)
        notifications.accepted(response)
    return response


def decline(*, response: Response, actor) -> Response:
    """The poster declines an offer, or lets go of an accepted one not done yet (the post opens again)."""
    with transaction.atomic():
        post, response = _locked_response(response)
        if not acts_for_poster(actor, post):
            raise NotAllowed(_("Only the poster may decline offers."))
        if response.status not in (Response.Status.OFFERED, Response.Status.ACCEPTED):
            raise NeighbourError(_("This response can no longer be declined."))
        if response.status == Response.Status.ACCEPTED:
            _uncount_acceptance(post)
        response.status = Response.Status.DECLINED
        response.save(update_fields=["status"])
        record(post, "neighbours.response.decline", actor=actor, response=response.pk)
    return response


def withdraw(*, response: Response, actor) -> Response:
    """The neighbour takes back their offer or claim (before it is done)."""
    with transaction.atomic():
        post, response = _locked_response(response)
        if response.responder_id != actor.pk:
            raise NotAllowed(_("Only the neighbour who responded may withdraw."))
        if response.status not in (Response.Status.OFFERED, Response.Status.ACCEPTED):
            raise NeighbourError(_("This response can no longer be withdrawn."))
        if response.status == Response.Status.ACCEPTED:
            _uncount_acceptance(post)
        response.status = Response.Status.WITHDRAWN
        response.save(update_fields=["status"])
        record(post, "neighbours.response.withdraw", actor=actor, response=response.pk)
    return response


# ---------------------------------------------------------------------------
# Completing, points, thanks


def parse_hours(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise NeighbourError(_("Enter the hours as a number, e.g. 1.5.")) from None
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        raise NeighbourError(_("Hours must be more than 0 and at most %(most)s.") % {"most": MAX_HOURS})
    return hours.quantize(Decimal("0.1"))


def parse_amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise NeighbourError(_("Enter the amount as a number of yuan, e.g. 20.")) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise NeighbourError(_("Enter an amount from 0 to 999,999 yuan."))
    return amount.quantize(Decimal("0.01"))


def _month_bounds(moment: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    local = timezone.localtime(moment)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    return start, end


def pair_awards_this_month(*, giver, receiver, now: datetime.datetime) -> int:
    """How often this giver earned points for helping this receiver this month (in either role of the post)."""
    start, end = _month_bounds(now)
    pair = (Q(post__author=receiver, responder=giver) | Q(post__author=giver, responder=receiver)) & Q(
        post__kind__in=list(HELP_KINDS)
    )
    done = Response.objects.filter(pair, status=Response.Status.DONE, points_awarded__gt=0, done_at__gte=start, done_at__lt=end)
    # Only those where this giver earned: on a request the responder gives, on an offer the author.
    return sum(
        1 for r in done.select_related("post") if (r.responder_id if r.post.responder_gives else r.post.author_id) == giver.pk
    )


def confirm_done(
    *,
    response: Response,
    actor,
    hours: Decimal | None = None,
    amount: Decimal | None = None,
    amount_note: str = "",
) -> Response:
    """One side confirms that the help happened (or the item changed hands); once both did, it is done and
    the helper earns points and volunteer hours (help with time only, within the rule's caps and the pair's
    monthly cap). A charity sale's proceeds or a donation is recorded here, never paid through the portal."""
    amount_note = amount_note.strip()
    if len(amount_note) > 200:
        raise NeighbourError(_("The note is too long."))
    with transaction.atomic():
        post, response = _locked_response(response)
        as_poster = acts_for_poster(actor, post)
        as_responder = response.responder_id == actor.pk
        if not (as_poster or as_responder):
            raise NotAllowed(_("Only the two neighbours concerned may confirm this."))
        if response.status == Response.Status.DONE:
            return response
        if response.status != Response.Status.ACCEPTED:
            raise NeighbourError(_("Only an accepted offer or claim can be marked done."))
        now = timezone.now()
        fields = []
        if as_poster and response.poster_confirmed_at is None:
            response.poster_confirmed_at = now
            fields.append("poster_confirmed_at")
        if as_responder and response.responder_confirmed_at is None:
            response.responder_confirmed_at = now
            fields.append("responder_confirmed_at")
        if hours is not None:
            response.hours = hours
            fields.append("hours")
        if amount is not None:
            response.amount = amount
            fields.append("amount")
        if amount_note:
            response.amount_note = amount_note
            fields.append("amount_note")
        both = response.poster_confirmed_at is not None and response.responder_confirmed_at is not None
        if both:
            response.status, response.done_at = Response.Status.DONE, now
            fields += ["status", "done_at"]
        response.save(update_fields=fields)
        record(post, "neighbours.response.confirm", actor=actor, response=response.pk, done=both)
        if not both:
            notifications.confirm_asked(response, by_poster=as_poster)
            return response
        if post.kind in HELP_KINDS:
            response.points_awarded = _award_helper(response, now=now)
            response.save(update_fields=["points_awarded"])
        if post.status == Post.Status.MATCHED and not post.responses.filter(status=Response.Status.ACCEPTED).exists():
            post.status, post.closed_at = Post.Status.DONE, now
            post.save(update_fields=["status", "closed_at"])
        notifications.done(response)
    return response


def _award_helper(response: Response, *, now: datetime.datetime) -> int:
    """Points and hours to whoever helped, unless the pair's monthly cap or the rule's caps say no (0 then);
    under the giver's row lock so that two completions of the same pair at once count each other."""
    giver, receiver = response.giver(), response.receiver()
    User.objects.select_for_update().filter(pk=giver.pk).first()
    if pair_awards_this_month(giver=giver, receiver=receiver, now=now) >= settings.LINLI_NEIGHBOUR_PAIR_MONTHLY_CAP:
        return 0
    try:
        with transaction.atomic():
            entry = points.award(
                resident=giver,
                rule_code=POINTS_RULE,
                source_key=f"neighbours.help:{response.pk}",
                hours=response.hours or Decimal("1"),
                reason=response.post.title[:100],
            )
    except points.PointsError:
        return 0  # the rule's daily or monthly cap: the help stands, without points
    return entry.amount if entry is not None else 0


def thank(*, response: Response, actor, text: str) -> Thanks:
    """Whoever was helped thanks the helper (once), shown on the grid's page."""
    text = text.strip()
    if not text:
        raise NeighbourError(_("Write a few words of thanks."))
    if len(text) > 300:
        raise NeighbourError(_("The thanks is too long."))
    check_text(text)
    response = Response.objects.select_related("post__community", "responder").get(pk=response.pk)
    post = response.post
    receiver_side = acts_for_poster(actor, post) if post.responder_gives else response.responder_id == actor.pk
    if not receiver_side:
        raise NotAllowed(_("Only the neighbour who was helped may say thanks."))
    if response.status != Response.Status.DONE:
        raise NeighbourError(_("Thanks can be said once the help is done."))
    try:
        with transaction.atomic():
            thanks = Thanks.objects.create(response=response, text=text)
            record(post, "neighbours.thanks", actor=actor, response=response.pk)
            notifications.thanked(thanks)
    except IntegrityError:
        raise NeighbourError(_("You have already said thanks for this.")) from None
    return thanks


# ---------------------------------------------------------------------------
# Reports and moderation


def report(*, reporter, reason: str, text: str = "", post: Post | None = None, person=None) -> Report:
    """A resident reports a post they can read, or a neighbour of their community, to its staff."""
    require_verified_resident(reporter)
    if reason not in Report.Reason.values:
        raise NeighbourError(_("Choose a reason."))
    text = text.strip()
    if len(text) > 500:
        raise NeighbourError(_("The text is too long."))
    if post is not None:
        if not can_read_post(reporter, post):
            raise NotAllowed(_("You cannot see this post."))
        community = post.community
    elif person is not None:
        own, theirs = profile_of(reporter), profile_of(person)
        if own is None or theirs is None or own.community_id is None or own.community_id != theirs.community_id:
            raise NotAllowed(_("You can report neighbours of your own community only."))
        community = own.community
    else:
        raise NeighbourError(_("Say what you are reporting."))
    with transaction.atomic():
        if post is not None:
            existing = Report.objects.filter(post=post, reported_by=reporter, handled_at__isnull=True).first()
            if existing is not None:
                return existing
        try:
            with transaction.atomic():
                filed = Report.objects.create(
                    post=post, person=person, community=community, reason=reason, text=text, reported_by=reporter
                )
        except IntegrityError:
            return Report.objects.get(post=post, reported_by=reporter, handled_at__isnull=True)
        record(filed, "neighbours.report", actor=reporter, reason=reason)
    return filed


def _handle_reports(reports: Iterable[Report], *, actor, outcome: str, now: datetime.datetime) -> None:
    for item in reports:
        if item.handled_at is None:
            item.handled_at, item.handled_by, item.outcome = now, actor, outcome
            item.save(update_fields=["handled_at", "handled_by", "outcome"])


def hide_post(*, post: Post, actor, reason: str) -> Post:
    """Staff hide a post from the grid (its open reports are handled)."""
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise NeighbourError(_("Give a short reason (at most 200 characters)."))
    for_user(actor).require(post.community)
    with transaction.atomic():
        post = _locked_post(post)
        now = timezone.now()
        post.status, post.hidden_reason, post.closed_at = Post.Status.HIDDEN, reason, post.closed_at or now
        post.save(update_fields=["status", "hidden_reason", "closed_at"])
        post.responses.filter(status=Response.Status.OFFERED).update(status=Response.Status.DECLINED)
        _handle_reports(post.reports.filter(handled_at__isnull=True), actor=actor, outcome=Report.Outcome.HIDDEN, now=now)
        record(post, "neighbours.moderate.hide", actor=actor, reason=reason)
        notifications.post_hidden(post)
    return post


def warn_resident(*, resident, community: Community, actor, reason: str, report: Report | None = None) -> None:
    """Staff warn a resident (told through the outbox); a report it answers is handled."""
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise NeighbourError(_("Give a short reason (at most 200 characters)."))
    for_user(actor).require(community)
    with transaction.atomic():
        now = timezone.now()
        if report is not None:
            _handle_reports([report], actor=actor, outcome=Report.Outcome.WARNED, now=now)
        record(resident, "neighbours.moderate.warn", actor=actor, title=display_name(resident), reason=reason)
        notifications.warned(resident, reason=reason, key=f"{resident.pk}:{community.pk}:{now.timestamp()}")


def suspend_posting(
    *, resident, community: Community, actor, days: int, reason: str, report: Report | None = None
) -> PostingSuspension:
    """Staff stop a resident from posting and responding in their community for `days` days; their open posts close."""
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise NeighbourError(_("Give a short reason (at most 200 characters)."))
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_SUSPENSION_DAYS:
        raise NeighbourError(_("Suspend for 1 to %(most)d days.") % {"most": MAX_SUSPENSION_DAYS})
    for_user(actor).require(community)
    if resident.pk == actor.pk:
        raise NeighbourError(_("You cannot suspend yourself."))
    with transaction.atomic():
        now = timezone.now()
        suspension = PostingSuspension.objects.create(
            resident=resident, community=community, until=now + datetime.timedelta(days=days), reason=reason, by=actor
        )
        for post in Post.objects.filter(author=resident, community=community, status=Post.Status.OPEN):
            post.status, post.closed_at = Post.Status.CLOSED, now
            post.save(update_fields=["status", "closed_at"])
            post.responses.filter(status=Response.Status.OFFERED).update(status=Response.Status.DECLINED)
        if report is not None:
            _handle_reports([report], actor=actor, outcome=Report.Outcome.SUSPENDED, now=now)
        record(suspension, "neighbours.moderate.suspend", actor=actor, title=display_name(resident), days=days, reason=reason)
        notifications.suspended(suspension)
    return suspension


def dismiss_report(*, report: Report, actor) -> Report:
    for_user(actor).require(report.community)
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.handled_at is not None:
            raise NeighbourError(_("This report has been handled already."))
        _handle_reports([locked], actor=actor, outcome=Report.Outcome.DISMISSED, now=timezone.now())
        record(locked, "neighbours.moderate.dismiss", actor=actor)
    return locked


# ---------------------------------------------------------------------------
# Skills, suggestions, digests, escalation


def save_helper_profile(
    *, user, categories: Sequence[str], availability: Sequence[str], note: str = "", weekly_digest: bool = False
) -> HelperProfile:
    categories = list(dict.fromkeys(categories))
    availability = list(dict.fromkeys(availability))
    if not set(categories) <= set(Category.values) or not set(availability) <= set(Availability.values):
        raise NeighbourError(_("Unknown category or time."))
    note = note.strip()
    if len(note) > 200:
        raise NeighbourError(_("The note is too long."))
    check_text(note)
    with transaction.atomic():
        profile, _created = HelperProfile.objects.update_or_create(
            user=user,
            defaults={"categories": categories, "availability": availability, "note": note, "weekly_digest": weekly_digest},
        )
    return profile


def open_posts(grid: Grid) -> QuerySet[Post]:
    """The grid's open posts, urgent first, then the newest."""
    return (
        Post.objects.filter(grid=grid, status=Post.Status.OPEN, expires_at__gt=timezone.now())
        # The urgency's values sort from the least to the most urgent: the index neighbours_post_board serves this.
        .order_by("-urgency", "-created_at", "-pk")
    )


def count_answers(posts: Iterable[Post]) -> list[Post]:
    """Set `offers` (answers offered or accepted) on each of a page of posts, in one query."""
    posts = list(posts)
    counts = dict(
        Response.objects.filter(post__in=posts, status__in=[Response.Status.OFFERED, Response.Status.ACCEPTED])
        .values_list("post")
        .annotate(total=Count("pk"))
        .order_by()
    )
    for post in posts:
        post.offers = counts.get(post.pk, 0)
    return posts


def suggestions_for(user, *, limit: int = 10) -> list[Post]:
    """Open requests of the resident's grid in the categories they can help with, not theirs, not answered yet."""
    grid = grid_of(user)
    helper = HelperProfile.objects.filter(user=user).first()
    if grid is None or helper is None or not helper.categories:
        return []
    return list(
        open_posts(grid)
        .filter(kind__in=[Kind.REQUEST, Kind.DONATION], category__in=helper.categories)
        .exclude(author=user)
        .exclude(responses__responder=user)[:limit]
    )


def send_weekly_digests(*, now: datetime.datetime | None = None) -> int:
    """E-mail (or text) each resident who asked for it the open requests matching their skills, once a week."""
    now = now or timezone.now()
    sent = 0
    due = HelperProfile.objects.filter(weekly_digest=True, user__is_active=True).filter(
        Q(last_digest_at__isnull=True) | Q(last_digest_at__lte=now - DIGEST_EVERY + datetime.timedelta(hours=1))
    )
    for helper in due.select_related("user__profile")[:5000]:
        posts = suggestions_for(helper.user)
        with transaction.atomic():
            claimed = HelperProfile.objects.filter(pk=helper.pk, last_digest_at=helper.last_digest_at).update(last_digest_at=now)
            if not claimed or not posts:
                continue
            year, week, _day = timezone.localtime(now).isocalendar()
            notifications.digest(helper.user, posts, key=f"{helper.user_id}:{year}-{week}")
            sent += 1
    return sent


def grid_workers(grid: Grid) -> list:
    """Who is told about a grid's unanswered requests: its grid workers with an account (the grid's contacts,
    once home keeps them), else the community's staff group."""
    contacts = getattr(grid, "contacts", None)
    if contacts is not None:
        workers = [
            c.user for c in contacts.filter(role="worker", user__isnull=False, user__is_active=True).select_related("user")
        ]
        if workers:
            return workers
    group = grid.community.editors
    return list(group.user_set.filter(is_active=True)) if group is not None else []


def escalate_unanswered(*, now: datetime.datetime | None = None) -> int:
    """Requests open for 48 hours without any response are sent to the grid worker, once each; the number sent."""
    now = now or timezone.now()
    stale = Post.objects.filter(
        kind__in=[Kind.REQUEST, Kind.DONATION],
        status=Post.Status.OPEN,
        expires_at__gt=now,
        first_response_at__isnull=True,
        escalated_at__isnull=True,
        created_at__lte=now - UNANSWERED_AFTER,
    ).select_related("grid__community__editors")
    escalated = 0
    for post in stale[:1000]:
        with transaction.atomic():
            if not Post.objects.filter(pk=post.pk, escalated_at__isnull=True).update(escalated_at=now):
                continue
            for worker in grid_workers(post.grid):
                notifications.unanswered(post, worker)
            record(post, "neighbours.post.escalate", actor=None)
            escalated += 1
    return escalated
