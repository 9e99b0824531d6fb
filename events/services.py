"""Every change to sessions and bookings: booking, waiting lists, draws, cancellations, check-in.

Seat decisions are made under row locks (the resident's user row for household limits and
overlaps, then the sessions' rows in id order) inside one transaction, and backed by the
database constraints `session_never_overbooked` and
`one_active_booking_per_participant_and_session`. Mail goes out only after commit. Each change
a person makes is one entry in the audit log (`events/audit.py`), written in the same transaction,
except a booking's: in a rush every booking of a session waits for the one before it, so a booking's
transaction holds the session's lock for the seat decision alone, and its entry and message are a worker's
(`follow_up_bookings`, as the task `follow_up_task`), queued as the decision commits: one task for a burst of bookings, not one each. The
booking is marked until then (`follow_up_pending`), so a lost task or a killed worker loses nothing: the same
sweep also runs every minute.
"""

from __future__ import annotations

import copy
import datetime
import logging
import random
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import holidays
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task
from wagtail.models import PageViewRestriction

from home.i18n import label
from home.models import verified_phone
from home.scope import for_user
from home.services import VERIFY_FIRST, is_verified_resident
from plumbing.middleware import LocalCopies, shared_part
from plumbing.periodic import every
from points import services as points

from . import audit, notifications
from .models import (
    ActivityPage,
    AgeBand,
    Booking,
    BookingPolicy,
    BookingRequest,
    Draw,
    HouseholdMember,
    Kind,
    Session,
    bookings_changed,
    sessions_generation,
)

User = get_user_model()
logger = logging.getLogger(__name__)
GUARDIAN_CONSENT_UNDER = 14  # PIPL: a guardian consents for a child under 14


class BookingError(Exception):
    """A booking, cancellation or check-in that breaks a rule; the message is shown as it is."""


# ---------------------------------------------------------------------------
# Who may act, and the record of what they did


def _require_staff(actor, *, session: Session | None = None, activity: ActivityPage | None = None) -> None:
    """Staff run their own community's activities and the street-wide ones (home.scope decides; NotStaff)."""
    if session is not None:
        for_user(actor).require(
            session.activity.community, street_wide=True, message=_("This session belongs to another community.")
        )
    else:
        for_user(actor).require(activity.community, street_wide=True, message=_("This activity belongs to another community."))


def _record(instance, action: str, *, actor, activity: ActivityPage, session: Session, **data) -> None:
    """One audit entry, labelled by the session (and the booking's number): no participant's name."""
    title = f"{activity.title} · {timezone.localtime(session.starts_at):%Y-%m-%d %H:%M}"
    if isinstance(instance, Booking):
        title += f" · #{instance.pk}"
    audit.record(instance, action, actor=actor, title=title, **data)


# ---------------------------------------------------------------------------
# Participants


@dataclass(frozen=True)
class Participant:
    key: str
    name: str
    birth_year: int | None
    member: HouseholdMember | None = None


def participant_for(*, resident, member: HouseholdMember | None = None) -> Participant:
    if member is not None:
        if member.resident_id != resident.pk:
            raise BookingError(_("This person is not in your household."))
        return Participant(key=f"m{member.pk}", name=member.name, birth_year=member.birth_year, member=member)
    profile = getattr(resident, "profile", None)
    # A resident with only a mobile number is named by it on attendance lists.
    name = (
        (profile.display_name if profile else "")
        or resident.get_full_name()
        or resident.email
        or (profile.mobile if profile else "")
    )
    return Participant(key=f"u{resident.pk}", name=name, birth_year=profile.birth_year if profile else None)


def _check_member(*, name: str, birth_year: int, consent: bool) -> None:
    """A household member's rules, the same when added and when changed."""
    this_year = timezone.localdate().year
    if not name:
        raise BookingError(_("Please give the person's name."))
    if not 1900 <= birth_year <= this_year:
        raise BookingError(_("Please give a birth year between 1900 and this year."))
    if this_year - birth_year < GUARDIAN_CONSENT_UNDER and not consent:
        raise BookingError(_("For a child under 14, please confirm that you are their guardian and consent."))


@transaction.atomic
def add_household_member(
    *, resident, name: str, birth_year: int, relation: str, guardian_consent: bool = False
) -> HouseholdMember:
    """Add a child or relative; a child under 14 needs the guardian's consent (PIPL)."""
    name = name.strip()
    _check_member(name=name, birth_year=birth_year, consent=guardian_consent)
    if resident.household_members.count() >= 10:
        raise BookingError(_("A household can list at most 10 people."))
    return HouseholdMember.objects.create(
        resident=resident,
        name=name,
        birth_year=birth_year,
        relation=relation,
        guardian_consent_at=timezone.now() if guardian_consent else None,
    )


@transaction.atomic
def update_household_member(
    *, member: HouseholdMember, resident, name: str, birth_year: int, relation: str, guardian_consent: bool = False
) -> HouseholdMember:
    """Correct a household member. Their bookings to come take the new name (rosters show it); the birth year,
    which their places were checked against (age bands, a guardian's consent), changes only once those are
    cancelled, as removing them does."""
    if member.resident_id != resident.pk:
        raise BookingError(_("This person is not in your household."))
    member = HouseholdMember.objects.select_for_update().get(pk=member.pk)
    name = name.strip()
    _check_member(name=name, birth_year=birth_year, consent=guardian_consent or member.guardian_consent_at is not None)
    upcoming = Booking.objects.active().filter(member=member, session__starts_at__gt=timezone.now())
    if birth_year != member.birth_year and upcoming.exists():
        raise BookingError(_("This person has bookings to come: cancel them before changing the birth year."))
    if name != member.name:
        upcoming.update(participant_name=name)
    member.name, member.birth_year, member.relation = name, birth_year, relation
    if guardian_consent and member.guardian_consent_at is None:
        member.guardian_consent_at = timezone.now()
    member.save(update_fields=["name", "birth_year", "relation", "guardian_consent_at"])
    return member


@transaction.atomic
def remove_household_member(*, member: HouseholdMember, resident) -> None:
    if member.resident_id != resident.pk:
        raise BookingError(_("This person is not in your household."))
    if Booking.objects.active().filter(member=member, session__starts_at__gt=timezone.now()).exists():
        raise BookingError(_("Cancel this person's bookings first."))
    member.delete()


# ---------------------------------------------------------------------------
# The no-show policy


@dataclass(frozen=True)
class Suspension:
    until: datetime.datetime
    offences: int


def booking_policy() -> BookingPolicy:
    """The no-show policy, kept per publish generation in each process (saving it starts a new one: events/apps.py)."""
    return shared_part(("events.booking_policy",), BookingPolicy.load)


def suspension_of(resident, *, now: datetime.datetime | None = None) -> Suspension | None:
    """N no-shows or late cancellations within M days suspend new bookings for K days."""
    return suspensions_of([resident.pk], now=now).get(resident.pk)


def suspensions_of(resident_ids, *, now: datetime.datetime | None = None) -> dict[int, Suspension]:
    """The suspensions of these residents (suspension_of), in two queries whatever their number: the residents with
    none are absent."""
    now = now or timezone.now()
    policy = booking_policy()
    since = now - datetime.timedelta(days=policy.period_days + policy.suspension_days)
    # The residents' bookings alone, without their sessions: PostgreSQL plans a condition on both tables (the
    # no-show's session end, or the cancellation's time) ten times slower than it runs it, on every booking.
    offences = list(
        Booking.objects.filter(resident_id__in=resident_ids)
        .filter(Q(status=Booking.Status.NO_SHOW) | Q(late_cancellation=True, cancelled_at__gte=since))
        .order_by()
        .values_list("resident_id", "status", "session_id", "late_cancellation", "cancelled_at")
    )
    no_shows = {session_id for _resident, status, session_id, _late, _at in offences if status == Booking.Status.NO_SHOW}
    ended = dict(Session.objects.filter(pk__in=no_shows, ends_at__gte=since).values_list("pk", "ends_at")) if no_shows else {}
    times: dict[int, list[datetime.datetime]] = {}
    missed: set[tuple[int, int]] = set()  # a household's no-shows at one session count once
    for resident_id, status, session_id, late, cancelled in offences:
        if status == Booking.Status.NO_SHOW and session_id in ended and (resident_id, session_id) not in missed:
            missed.add((resident_id, session_id))
            times.setdefault(resident_id, []).append(ended[session_id])
        if late and cancelled is not None and cancelled >= since:
            times.setdefault(resident_id, []).append(cancelled)
    suspensions = {}
    for resident_id, moments in times.items():
        suspension = _suspension(sorted(moments), policy=policy, now=now)
        if suspension is not None:
            suspensions[resident_id] = suspension
    return suspensions


def _suspension(times: list[datetime.datetime], *, policy: BookingPolicy, now: datetime.datetime) -> Suspension | None:
    window = datetime.timedelta(days=policy.period_days)
    # The suspension starts at the offence that reaches the limit within the period.
    for index in range(policy.no_show_limit - 1, len(times)):
        if times[index] - times[index - policy.no_show_limit + 1] <= window:
            until = times[index] + datetime.timedelta(days=policy.suspension_days)
            if until > now:
                return Suspension(until=until, offences=policy.no_show_limit)
    return None


# ---------------------------------------------------------------------------
# Booking


def _lock_resident(resident) -> None:
    _lock_residents([resident.pk])


def _lock_residents(resident_ids) -> None:
    """The residents' row locks, in id order, that guard their households' own rules (FOR NO KEY UPDATE: rows
    referring to them, their booking requests among them, are written meanwhile)."""
    list(
        User.objects.select_for_update(no_key=True)
        .filter(pk__in=sorted(resident_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _lock_sessions(sessions: Iterable[Session]) -> list[Session]:
    ids = sorted({session.pk for session in sessions})
    # FOR NO KEY UPDATE: the seats change, the key does not, so rows that refer to the session (a booking request
    # arriving while its session's requests are decided) are written meanwhile without waiting.
    locked = {s.pk: s for s in Session.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")}
    return [locked[pk] for pk in ids]


def _sessions_to_book(session: Session) -> list[Session]:
    """The session itself, or for a course booked as a whole every session still to come."""
    activity = session.activity
    if not activity.is_series:
        return [session]
    return list(activity.upcoming_sessions().select_related("activity"))


def is_visible_to(*, activity: ActivityPage, user) -> bool:
    """Whether a resident can see the activity's page: it is live and no view restriction keeps them out.

    Sessions are found by their (sequential) ids, so everything a resident reaches through a
    session id asks this first. A restriction to signed-in users admits any signed-in user and
    one to groups admits their members (as Wagtail's own check does); a page behind a shared
    password is never open through a session id, which carries no password. The answer is kept on the
    page's instance for the request's life (the view asks, then the service it calls).
    """
    answers = activity.__dict__.setdefault("_linli_visible_to", {})
    key = user.pk if user.is_authenticated else None
    if key not in answers:
        answers[key] = _visible_to(activity=activity, user=user)
    return answers[key]


def view_restrictions(page) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """The view restrictions of a page and its ancestors, each its kind and (for a group restriction) its groups:
    kept per publish generation in each process, as a change to a restriction starts a new one (home/signals.py)."""

    def read():
        return tuple(
            (restriction.restriction_type, tuple(restriction.groups.values_list("pk", flat=True)))
            for restriction in page.get_view_restrictions()
        )

    return shared_part(("events.view_restrictions", page.path), read)


def kept_activity(activity_id: int) -> ActivityPage | None:
    """An activity page (with its community) as published, kept per publish generation in each process: saving or
    publishing an activity starts a new one (events/apps.py, home/signals.py). Each caller gets a copy of its own: what
    a request keeps on it (is_visible_to's answers) stays with that request."""
    kept = shared_part(
        ("events.activity", activity_id),
        lambda: ActivityPage.objects.select_related("community").filter(pk=activity_id).first(),
    )
    return copy.copy(kept) if kept is not None else None


_kept_sessions = LocalCopies(5000)
SESSION_KEPT_SECONDS = 60


def kept_session(session_id: int) -> Session | None:
    """A session with its activity as kept in this process per sessions generation (a session saved or deleted starts
    a new one) and publish generation (kept_activity), for the checks before a booking's decision; a copy of its own to
    each caller. Its seats may be a moment old (a seat taken changes them by an UPDATE, without a new generation): the
    decision reads the session again under its row lock."""
    current = sessions_generation()
    kept = _kept_sessions.get(session_id, current)
    if kept is None:
        kept = Session.objects.filter(pk=session_id).first()
        if kept is None:
            return None
        _kept_sessions.put(session_id, current, kept, SESSION_KEPT_SECONDS)
    session = copy.copy(kept)
    session.activity = kept_activity(session.activity_id)
    return session


def _visible_to(*, activity: ActivityPage, user) -> bool:
    if not activity.live:
        return False
    for kind, groups in view_restrictions(activity):
        if kind == PageViewRestriction.LOGIN:
            if not user.is_authenticated:
                return False
        elif kind == PageViewRestriction.GROUPS:
            if not user.is_authenticated or not (user.is_superuser or user.groups.filter(pk__in=groups).exists()):
                return False
        else:
            return False
    return True


def _check_visible(*, activity: ActivityPage, user, acting_for_resident: bool) -> None:
    # Staff booking for a resident vouch for them (as they do for the community rule), so a
    # view restriction does not stop them; an activity that is not published takes no
    # bookings from anyone: residents cannot see it, its seats and rules may still change.
    if not activity.live or not (acting_for_resident or is_visible_to(activity=activity, user=user)):
        raise BookingError(_("This activity is not open for booking."))


def _check_bookable(*, session: Session, activity: ActivityPage, now: datetime.datetime) -> None:
    if session.status == Session.Status.CANCELLED:
        raise BookingError(_("This session has been cancelled."))
    if session.starts_at <= now:
        raise BookingError(_("This session has already started."))
    state = activity.booking_window_state(now)
    if state == "not_open":
        opens = timezone.localtime(activity.booking_opens_at)
        raise BookingError(_("Booking opens on %(when)s.") % {"when": f"{opens:%Y-%m-%d %H:%M}"})
    if state == "closed" and not (activity.is_draw and session.drawn_at):
        raise BookingError(_("Booking for this activity has closed."))


def fits_age_band(*, activity: ActivityPage, birth_year: int | None, session: Session) -> bool:
    """Whether someone born in `birth_year` is in the activity's age band in the session's year
    (unknown birth years fit only activities for all ages)."""
    if activity.age_band == AgeBand.ALL:
        return True
    if birth_year is None:
        return False
    low, high = AgeBand.ages(activity.age_band)
    return low <= timezone.localtime(session.starts_at).year - birth_year <= high


def _check_age(*, activity: ActivityPage, participant: Participant, session: Session, override: bool) -> None:
    if activity.age_band == AgeBand.ALL or override:
        return
    if participant.birth_year is None:
        raise BookingError(
            _("Please add your birth year to your profile: this activity is for %(band)s.")
            % {"band": activity.get_age_band_display()}
        )
    age = timezone.localtime(session.starts_at).year - participant.birth_year
    low, high = AgeBand.ages(activity.age_band)
    if not low <= age <= high:
        raise BookingError(
            _("%(name)s is %(age)s this year; this activity is for %(band)s.")
            % {"name": participant.name, "age": age, "band": activity.get_age_band_display()}
        )


def _check_community(*, activity: ActivityPage, resident) -> None:
    if activity.community_id is None:
        return
    profile = getattr(resident, "profile", None)
    if profile is None or profile.community_id != activity.community_id:
        raise BookingError(
            _("This activity is for residents of %(community)s. Set your community in your profile if you live there.")
            % {"community": label(activity.community, mark_missing=True)}
        )


def _check_household(*, sessions: list[Session], activity: ActivityPage, resident, participant: Participant) -> None:
    """Under the resident's row lock: the participant has no place at the session or at the same time elsewhere,
    and the household has places left at the session. One query per session: the participant's active bookings
    and the household's at the session, of sessions that end after it starts (a condition on the bookings alone
    is ORed, the one on their sessions ANDed: PostgreSQL plans that far faster); the rest is sorted out here."""
    for session in sessions:
        _check_household_rows(
            _household_rows(session, participant_keys=[participant.key], resident_ids=[resident.pk]),
            session=session,
            activity=activity,
            resident=resident,
            participant=participant,
        )


def _household_rows(session: Session, *, participant_keys, resident_ids) -> list[tuple]:
    """The active bookings _check_household_rows looks at, of these participants and households: one query."""
    return list(
        Booking.objects.active()
        .filter(Q(participant_key__in=participant_keys) | Q(session=session, resident_id__in=resident_ids))
        .filter(session__ends_at__gt=session.starts_at)
        .order_by()
        .values_list("pk", "session_id", "participant_key", "resident_id", "session__starts_at", "session__status", "queued_at")
    )


def _check_household_rows(rows: list[tuple], *, session: Session, activity: ActivityPage, resident, participant) -> None:
    """_check_household's rules for one session, on the rows read by _household_rows (others' rows are skipped)."""
    mine = sorted(
        (starts_at, queued_at, pk, session_id)
        for pk, session_id, key, _resident, starts_at, status, queued_at in rows
        if key == participant.key
        and (session_id == session.pk or (starts_at < session.ends_at and status != Session.Status.CANCELLED))
    )
    if any(session_id == session.pk for *_rest, session_id in mine):
        raise BookingError(_("%(name)s already has a place or application for this session.") % {"name": participant.name})
    if mine:
        other = Booking.objects.select_related("session__activity").get(pk=mine[0][2])
        raise BookingError(
            _("%(name)s is already booked for %(other)s at that time.")
            % {"name": participant.name, "other": other.session.activity.localized.title}
        )
    booked = sum(
        1 for _pk, session_id, _key, resident_id, *_rest in rows if session_id == session.pk and resident_id == resident.pk
    )
    if booked >= activity.household_limit:
        raise BookingError(
            ngettext(
                "Your household already has %(count)s place at this session, the most allowed.",
                "Your household already has %(count)s places at this session, the most allowed.",
                booked,
            )
            % {"count": booked}
        )


def _refuse_if_suspended(suspension: Suspension | None) -> None:
    if suspension is not None:
        raise BookingError(
            ngettext(
                "New bookings are suspended until %(until)s after %(count)s no-show or late cancellation.",
                "New bookings are suspended until %(until)s after %(count)s no-shows or late cancellations.",
                suspension.offences,
            )
            % {"until": f"{timezone.localtime(suspension.until):%Y-%m-%d}", "count": suspension.offences}
        )


def _with_activity(session: Session) -> Session:
    """The caller's session row when it came with its activity (the view and the API read both), else both read
    now. What the rules read before the decision may be a moment old: the decision reads the sessions again."""
    if Session.activity.is_cached(session):
        return session
    return Session.objects.select_related("activity__community").get(pk=session.pk)


def book_session(
    *,
    session: Session,
    resident,
    actor,
    member: HouseholdMember | None = None,
    request_token: uuid.UUID | None = None,
    guardian_consent: bool = False,
    age_override: bool = False,
) -> list[Booking]:
    """Book a place (or a place in the queue, or an application to the draw) for a participant.

    Returns the bookings made: one, or one per session for a course booked as a whole. A
    replayed form (same request_token) returns the bookings it made the first time.

    In a rush every booking of a session waits for the one before it, so the session's row lock is held only for
    the seat decision itself (`_place`): the rules are checked before it, the household's own under the
    resident's row lock. Once the decision has committed, the lists' cache starts a new generation and a worker
    is asked for the follow-up (`queue_follow_up`): the audit entry and the message. The decision's INSERT marks
    the booking as waiting for it and the follow-up clears the mark, once, however many sweeps run.
    """
    acting_for_resident = actor.pk != resident.pk
    if acting_for_resident:
        _require_staff(actor, session=session)
    elif not is_verified_resident(resident):
        raise BookingError(str(VERIFY_FIRST))
    if age_override and not acting_for_resident:
        raise PermissionDenied(_("Only staff may override the age band."))
    session = _with_activity(session)
    activity = session.activity
    try:
        bookings = _book(
            session=session,
            activity=activity,
            resident=resident,
            actor=actor,
            member=member,
            request_token=request_token,
            guardian_consent=guardian_consent,
            age_override=age_override,
            acting_for_resident=acting_for_resident,
        )
    except BookingError:
        # A form sent twice (a double click, a retried request) finds its first booking in the way: the same answer.
        replayed = _replayed(request_token, resident=resident)
        if replayed is None:
            raise
        return replayed
    bookings_changed()
    queue_follow_up()
    return bookings


def _follow_up(bookings: list[Booking], *, chosen: Booking, actor, activity: ActivityPage, session: Session, **data) -> bool:
    """A booking group's audit entry, message and lists' generation, once: first the conditional UPDATE that clears
    the chosen booking's `follow_up_pending` (it takes that booking's row lock, not the session's). False, and
    nothing written, when it was done already (by the sweep, which got there first)."""
    # The UPDATE also starts a new generation of the lists (BookingQuerySet.update calls bookings_changed()).
    if not Booking.objects.filter(pk=chosen.pk, follow_up_pending=True).update(follow_up_pending=False):
        return False
    chosen.follow_up_pending = False
    acting_for_resident = chosen.created_by_id != chosen.resident_id
    action = "events.booking.book_for_resident" if acting_for_resident else "events.booking.book"
    _record(chosen, action, actor=actor, activity=activity, session=session, status=bookings[0].status, **data)
    if chosen.status != Booking.Status.CANCELLED:  # cancelled meanwhile: "booked" would no longer be true
        notifications.booking_made(bookings)
    return True


# A follow-up later than this after its booking is marked late in the audit entry: its task was lost or its
# worker killed, and the sweep every minute did it.
FOLLOW_UP_AFTER = datetime.timedelta(seconds=30)
FOLLOW_UP_QUEUED = "events:follow-up-queued"  # set while a follow-up task is queued and has not started yet


def queue_follow_up() -> None:
    """Ask a worker for the follow-up of the bookings just decided. The first booking after a sweep started queues
    the next sweep, which takes every booking pending by then: a rush of 500 bookings queues a few tasks, not 500.
    The task clears the mark before it reads (`follow_up_task`), so a booking committed after that read queues a
    sweep of its own. Never raises: a lost task is the minute sweep's."""
    try:
        if cache.add(FOLLOW_UP_QUEUED, True, timeout=int(FOLLOW_UP_AFTER.total_seconds())):
            follow_up_task.enqueue()
    except Exception:  # the cache or the task queue is down: the booking stands, the minute sweep follows it up
        logger.exception("could not queue the follow-up of a booking")


@every(datetime.timedelta(minutes=1))
@task()
def follow_up_task() -> int:
    """The sweep as a task: queued by bookings as they are decided (`queue_follow_up`), and every minute for any
    task lost. Defined here, where bookings queue it (as the outbox's delivery is); events.tasks names it too."""
    cache.delete(FOLLOW_UP_QUEUED)  # before reading: a booking decided from now on queues the next run
    return follow_up_bookings()


def follow_up_bookings(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """The follow-up of bookings decided by now: their audit entry and message, each group once. Queued by the
    bookings themselves (`queue_follow_up`) and run every minute, for a lost task or a killed worker. Each in its
    own transaction, under its chosen booking's row lock (PostgreSQL skips rows another sweep holds); the
    message's idempotency key queues it once in any case. Returns how many."""
    now = now or timezone.now()
    pending = list(
        Booking.objects.filter(follow_up_pending=True, created_at__lte=now)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in pending:
        try:
            with transaction.atomic():
                # The booking's row alone (of=self, ordered by pk, not by the model's ordering, which joins the
                # session): a sweep must never hold the session's lock, which every booking of it waits for.
                locked = (
                    Booking.objects.filter(pk=pk, follow_up_pending=True)
                    .select_for_update(skip_locked=True, of=("self",))
                    .order_by("pk")
                    .first()
                )
                if locked is None:
                    continue
                group = list(
                    Booking.objects.filter(group=locked.group)
                    .select_related("session__activity", "resident", "created_by")
                    .order_by("pk")
                )
                chosen = next(booking for booking in group if booking.pk == pk)
                late = {"late": True} if chosen.created_at < now - FOLLOW_UP_AFTER else {}
                if _follow_up(
                    group,
                    chosen=chosen,
                    actor=chosen.created_by,
                    activity=chosen.session.activity,
                    session=chosen.session,
                    **late,
                ):
                    done += 1
        except Exception:  # one booking's failure must not hold up the others: it stays pending, and is logged
            logger.exception("follow-up of booking %s failed", pk)
    return done


# ---------------------------------------------------------------------------
# Booking requests: a first-come session's bookings from its page, decided in the order of arrival, many at once

REQUESTS_AT_ONCE = 200  # the most requests one transaction decides
REQUESTS_KEPT = datetime.timedelta(days=7)
_REQUESTS_LOCK = 0x4C696E  # pg_try_advisory_xact_lock(_REQUESTS_LOCK, session id): who decides a session's requests


def takes_requests(session: Session) -> bool:
    """Whether residents book the session through a request (a first-come session booked alone; a course's sessions
    are booked together and a draw's applications wait for it, so both are booked at once, by book_session)."""
    activity = session.activity
    return not activity.is_series and not activity.is_draw


def request_booking(
    *,
    session: Session,
    resident,
    member: HouseholdMember | None = None,
    guardian_consent: bool = False,
    request_token: uuid.UUID | None = None,
) -> BookingRequest:
    """A resident's booking of a first-come session for themselves or a household member, as a request decided with
    the others waiting for the session (decide_booking_requests), usually before this returns: by this request
    itself, or else by another one deciding at that moment, when it is returned pending (decided_at is None). A
    replayed form (same request_token) returns its first request. Its rules are book_session's."""
    if session.pk >= 2**31:  # the decision's advisory lock takes the id as an int4
        raise BookingError(_("This session does not exist."))
    fields = {
        "session": session,
        "resident": resident,
        "member": member,
        "guardian_consent": guardian_consent,
        "request_token": request_token or uuid.uuid4(),
        "language": translation.get_language() or settings.LANGUAGE_CODE,
    }
    try:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():  # a savepoint: a replay must not break the caller's transaction
                request = BookingRequest.objects.create(**fields)
        else:
            request = BookingRequest.objects.create(**fields)  # committed by itself: one statement
    except IntegrityError:  # the same form twice (request_token): its first request, wherever it stands
        request = BookingRequest.objects.filter(request_token=request_token).first()
        if request is None or request.resident_id != resident.pk:
            raise BookingError(_("This form was already used. Please reload the page.")) from None
    decided = decide_booking_requests(session_id=session.pk)
    # Not decided here: another request's transaction is deciding it now (or decided it, for a replayed form).
    return decided.get(request.pk, request)


def decide_booking_requests(*, session_id: int) -> dict[int, BookingRequest]:
    """Decide the session's pending requests in the order they arrived, up to REQUESTS_AT_ONCE per transaction, until
    none is left; the decided ones by id. One process decides a session's requests at a time (a PostgreSQL advisory
    lock, tried without waiting: the one holding it decides the requests of those that found it taken, as it looks
    for pending requests again after each commit, and they had committed theirs before trying). On SQLite every
    transaction writes alone (IMMEDIATE)."""
    decided: dict[int, BookingRequest] = {}
    while (pending := _decide_next(session_id)) is not None:
        decided.update((request.pk, request) for request in pending)
        if not BookingRequest.objects.filter(session_id=session_id, decided_at=None).exists():
            break  # (one statement, rather than a transaction trying the lock, in the usual case)
    if any(request.booking is not None for request in decided.values()):
        bookings_changed()
        queue_follow_up()
    return decided


def _decide_next(session_id: int) -> list[BookingRequest] | None:
    """The next pending requests decided, in one transaction; None when another process is deciding or none is left."""
    try:
        with transaction.atomic():
            if not _lead(session_id):
                return None
            pending = _pending(session_id)
            if pending:
                _decide(session_id, pending)
            return pending or None
    except IntegrityError:  # a participant booked meanwhile by staff or the API: one by one, to tell whom
        return _decide_one_by_one(session_id)


def _decide_one_by_one(session_id: int) -> list[BookingRequest] | None:
    with transaction.atomic():
        if not _lead(session_id):
            return None
        pending = _pending(session_id)
        for request in pending:
            try:
                with transaction.atomic():
                    _decide(session_id, [request])
            except IntegrityError:
                with translation.override(request.language):
                    name = participant_for(resident=request.resident, member=request.member).name
                    request.booking = None
                    request.refusal = _("%(name)s already has a place or application for this session.") % {"name": name}
                request.decided_at = timezone.now()
                request.save(update_fields=["decided_at", "refusal"])
        return pending or None


def _lead(session_id: int) -> bool:
    """Whether this transaction may decide the session's requests (PostgreSQL: nobody else is; SQLite: always, as
    its transactions write one at a time)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_REQUESTS_LOCK, session_id])
        return cursor.fetchone()[0]


def _pending(session_id: int) -> list[BookingRequest]:
    return list(
        BookingRequest.objects.filter(session_id=session_id, decided_at=None)
        .select_related("resident__profile", "member")
        .order_by("pk")[:REQUESTS_AT_ONCE]
    )


def _decide(session_id: int, requests: list[BookingRequest]) -> None:
    """The decisions of these requests for one session, in their order, with book_session's rules, in a few queries
    for all of them: the residents' row locks (before the session's, as book_session takes them), the session's, the
    e-mail addresses proved, the suspensions, the households' bookings, those waiting; then the session's seats, the
    bookings and the requests written at once. A refusal is written in the language of the request's page."""
    from allauth.account.models import EmailAddress

    resident_ids = sorted({request.resident_id for request in requests})
    _lock_residents(resident_ids)
    (session,) = _lock_sessions([Session(pk=session_id)])
    activity = kept_activity(session.activity_id) or ActivityPage.objects.get(pk=session.activity_id)
    session.activity = activity
    now = timezone.now()
    verified = set(
        EmailAddress.objects.filter(user_id__in=resident_ids, verified=True).values_list("user_id", flat=True).distinct()
    )
    suspensions = suspensions_of(resident_ids, now=now)
    keys = [f"m{request.member_id}" if request.member_id else f"u{request.resident_id}" for request in requests]
    rows = _household_rows(session, participant_keys=keys, resident_ids=resident_ids)
    (waiting,) = _waiting([session]).values()
    seats = session.seats_taken
    bookings = []
    for index, request in enumerate(requests):
        resident = request.resident
        try:
            with translation.override(request.language):
                if not resident.is_active or not (verified_phone(resident) or resident.pk in verified):
                    raise BookingError(str(VERIFY_FIRST))
                _check_visible(activity=activity, user=resident, acting_for_resident=False)
                _check_bookable(session=session, activity=activity, now=now)
                participant = participant_for(resident=resident, member=request.member)
                consent_at = _check_participant(
                    activity=activity,
                    session=session,
                    resident=resident,
                    participant=participant,
                    member=request.member,
                    guardian_consent=request.guardian_consent,
                    suspension=suspensions.get(resident.pk),
                    now=now,
                )
                _check_household_rows(rows, session=session, activity=activity, resident=resident, participant=participant)
        except BookingError as error:
            request.booking, request.refusal = None, str(error)
            continue
        if not waiting and seats < session.capacity:
            status, seats = Booking.Status.CONFIRMED, seats + 1
        else:
            status, waiting = Booking.Status.WAITLISTED, waiting + 1
        # Strictly in the order of arrival: the waiting list is sorted by queued_at.
        queued_at = now + datetime.timedelta(microseconds=index)
        booking = Booking(
            session=session,
            resident=resident,
            member=request.member,
            participant_key=participant.key,
            participant_name=participant.name,
            participant_birth_year=participant.birth_year,
            status=status,
            request_token=request.request_token,
            queued_at=queued_at,
            confirmed_at=now if status == Booking.Status.CONFIRMED else None,
            created_by=resident,
            guardian_consent_at=consent_at,
            follow_up_pending=True,
        )
        if status == Booking.Status.WAITLISTED:
            booking.known_position = waiting
        bookings.append(booking)
        request.booking, request.refusal = booking, ""
        rows.append((None, session.pk, participant.key, resident.pk, session.starts_at, session.status, queued_at))
    if seats != session.seats_taken:
        Session.objects.filter(pk=session.pk).update(seats_taken=seats)
    # Without post_save (which would refresh the lists' cache under the locks): decide_booking_requests calls
    # bookings_changed().
    Booking.objects.bulk_create(bookings)
    for request in requests:
        request.decided_at = now
    # The bookings carry their requests' tokens: the booked ones need no more than the moment (one UPDATE); each
    # refused one (rare in a rush) its reason.
    BookingRequest.objects.filter(pk__in=[request.pk for request in requests if request.booking is not None]).update(
        decided_at=now
    )
    for request in requests:
        if request.booking is None:
            BookingRequest.objects.filter(pk=request.pk).update(decided_at=now, refusal=request.refusal)


REFUSALS_SHOWN = datetime.timedelta(hours=1)


def requests_to_show(resident, *, now: datetime.datetime) -> list[BookingRequest]:
    """The resident's requests still pending (decided now if one waited more than a few seconds: the process deciding
    it died) and those refused within the last hour, newest first, with their sessions and activities."""

    def read() -> list[BookingRequest]:
        return list(
            BookingRequest.objects.filter(resident=resident, created_at__gte=now - REFUSALS_SHOWN)
            .filter(Q(decided_at=None) | ~Q(refusal=""))
            .select_related("session__activity", "member")
            .order_by("-pk")
        )

    shown = read()
    stuck = {sent.session_id for sent in shown if sent.decided_at is None and sent.created_at < now - STUCK_AFTER}
    for session_id in stuck:
        decide_booking_requests(session_id=session_id)
    return read() if stuck else shown


STUCK_AFTER = datetime.timedelta(seconds=5)


@every(datetime.timedelta(minutes=1))
@task()
def decide_waiting_requests() -> int:
    """Requests left pending (the process deciding them died, or its transaction failed), decided; and requests older
    than REQUESTS_KEPT deleted (their bookings stay). Returns how many were decided."""
    decided = 0
    sessions = (
        BookingRequest.objects.filter(decided_at=None, created_at__lte=timezone.now() - STUCK_AFTER)
        .values_list("session_id", flat=True)
        .distinct()
    )
    for session_id in list(sessions):
        try:
            decided += len(decide_booking_requests(session_id=session_id))
        except Exception:  # one session's failure must not hold up the others: its requests stay pending, and are logged
            logger.exception("deciding the booking requests of session %s failed", session_id)
    BookingRequest.objects.filter(created_at__lt=timezone.now() - REQUESTS_KEPT).delete()
    return decided


def _replayed(request_token: uuid.UUID | None, *, resident) -> list[Booking] | None:
    """The bookings a form with this token made before, if it did."""
    if request_token is None:
        return None
    first = Booking.objects.filter(request_token=request_token).first()
    if first is None:
        return None
    if first.resident_id != resident.pk:
        raise BookingError(_("This form was already used. Please reload the page."))
    return list(Booking.objects.filter(group=first.group).select_related("session__activity"))


def _book(
    *,
    session: Session,
    activity: ActivityPage,
    resident,
    actor,
    member: HouseholdMember | None,
    request_token: uuid.UUID | None,
    guardian_consent: bool,
    age_override: bool,
    acting_for_resident: bool,
) -> list[Booking]:
    """book_session's rules and decision: the checks that need no lock, then one transaction."""
    _check_visible(activity=activity, user=resident, acting_for_resident=acting_for_resident)
    candidates = _sessions_to_book(session)
    if not candidates:
        raise BookingError(_("This course has no sessions left to book."))
    now = timezone.now()
    participant = participant_for(resident=resident, member=member)
    for each in candidates:
        _check_bookable(session=each, activity=activity, now=now)
    consent_at = _check_participant(
        activity=activity,
        session=candidates[0],
        resident=resident,
        participant=participant,
        member=member,
        guardian_consent=guardian_consent,
        suspension=None if acting_for_resident else suspension_of(resident, now=now),
        now=now,
        acting_for_resident=acting_for_resident,
        age_override=age_override,
    )
    with transaction.atomic():
        # The resident's row lock guards the household's own limits (one booking per participant and session, no
        # overlaps, places per household): nobody else waits for it.
        _lock_resident(resident)
        _check_household(sessions=candidates, activity=activity, resident=resident, participant=participant)
        return _place(
            sessions=candidates,
            activity=activity,
            participant=participant,
            actor=actor,
            check=lambda each, at: _check_bookable(session=each, activity=activity, now=at),
            follow_up_for=session,
            resident=resident,
            member=member,
            request_token=request_token,
            age_override=age_override,
            guardian_consent_at=consent_at,
        )


def _check_participant(
    *,
    activity: ActivityPage,
    session: Session,
    resident,
    participant: Participant,
    member: HouseholdMember | None,
    guardian_consent: bool,
    suspension: Suspension | None,
    now: datetime.datetime,
    acting_for_resident: bool = False,
    age_override: bool = False,
) -> datetime.datetime | None:
    """Who may take the place, the same for a booking (book_session) and a booking request (decide_booking_requests):
    the activity's community and the resident's suspension (staff booking for someone vouch for both), the age band,
    a guardian's consent for a child; when that consent was given."""
    if not acting_for_resident:
        _check_community(activity=activity, resident=resident)
        _refuse_if_suspended(suspension)
    _check_age(activity=activity, participant=participant, session=session, override=age_override)
    return _guardian_consent_at(participant, member=member, guardian_consent=guardian_consent, now=now)


def _guardian_consent_at(
    participant: Participant, *, member: HouseholdMember | None, guardian_consent: bool, now: datetime.datetime
) -> datetime.datetime | None:
    """When the guardian consented to a child's booking (now, or None for an adult); refused without consent."""
    if participant.birth_year is None or timezone.localdate().year - participant.birth_year >= GUARDIAN_CONSENT_UNDER:
        return None
    if not (guardian_consent or (member is not None and member.guardian_consent_at)):
        raise BookingError(_("For a child under 14, please confirm that you are their guardian and consent."))
    return now


def _place(
    *,
    sessions: list[Session],
    activity: ActivityPage,
    participant: Participant,
    actor,
    check: Callable[[Session, datetime.datetime], None],
    request_token: uuid.UUID | None = None,
    follow_up_for: Session | None = None,
    **fields,
) -> list[Booking]:
    """The seat decision and the bookings it makes, one per session, as one group; call inside a transaction.

    Every booking of the session waits here for the one before it, so this is short: the sessions' row locks
    (a locking read), one conditional UPDATE of their seats when they have seats free, one INSERT, and the
    commit (on PostgreSQL without waiting for the disk: the follow-up's commit waits, for both). The time of
    arrival is taken under the locks: the waiting list's order is the order in which bookings reached the
    decision, and `check(session, now)` sees sessions cancelled or started meanwhile.

    With `follow_up_for` (the session the person chose), the INSERT marks the group's booking for it (`_chosen`)
    as waiting for its follow-up (`_follow_up`, by the sweep `follow_up_bookings`).

    A draw not yet run takes applications (staff entering someone keep it fair); otherwise a seat in
    every session, unless someone is already waiting for one (they go first), else the waiting list.
    """
    loaded = {each.pk: each for each in sessions}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    locked = _lock_sessions(sessions)
    now = timezone.now()
    for each in locked:
        if Session.activity.is_cached(loaded[each.pk]):
            each.activity = loaded[each.pk].activity
        check(each, now)
    waiting = None
    if activity.is_draw and not locked[0].drawn_at:
        status = Booking.Status.APPLIED
    else:
        waiting = _waiting(locked)
        if not any(waiting.values()) and all(each.seats_taken < each.capacity for each in locked):
            _take_seats(locked)
            status = Booking.Status.CONFIRMED
        else:
            status = Booking.Status.WAITLISTED
    group = uuid.uuid4()
    bookings = [
        Booking(
            session=each,
            group=group,
            participant_key=participant.key,
            participant_name=participant.name,
            participant_birth_year=participant.birth_year,
            status=status,
            request_token=request_token if index == 0 else None,
            queued_at=now,
            confirmed_at=now if status == Booking.Status.CONFIRMED else None,
            created_by=actor,
            **fields,
        )
        for index, each in enumerate(locked)
    ]
    if follow_up_for is not None:
        _chosen(bookings, follow_up_for).follow_up_pending = True
    if status == Booking.Status.WAITLISTED:
        bookings[0].known_position = waiting[locked[0].pk] + 1  # its place as decided, read without another query
    try:
        # Without post_save (which would refresh the lists' cache under the locks): the caller calls bookings_changed().
        Booking.objects.bulk_create(bookings)
    except IntegrityError as error:  # the same participant twice at once, or a replayed form: the caller sorts it out
        raise BookingError(
            _("%(name)s already has a place or application for this session.") % {"name": participant.name}
        ) from error
    return bookings


def _waiting(sessions: list[Session]) -> dict[int, int]:
    """How many wait for each of the (locked) sessions: one query. Read after the locks, it counts every booking
    decided before this one."""
    waiting = Booking.objects.filter(session_id__in=[each.pk for each in sessions], status=Booking.Status.WAITLISTED)
    if len(sessions) == 1:
        return {sessions[0].pk: waiting.count()}
    counts = dict(waiting.order_by().values("session_id").annotate(count=Count("pk")).values_list("session_id", "count"))
    return {each.pk: counts.get(each.pk, 0) for each in sessions}


def _take_seats(sessions: list[Session]) -> None:
    """A seat in each of the (locked) sessions, which have one free and nobody waiting for it (promotion gives freed
    seats to those waiting first, never to a newcomer): one UPDATE."""
    ids = [each.pk for each in sessions]
    taken = Session.objects.filter(pk__in=ids, seats_taken__lt=F("capacity")).update(seats_taken=F("seats_taken") + 1)
    if taken != len(ids):  # the rows are locked and were checked: cannot happen, and must not half-happen
        raise BookingError(_("This session is full."))
    for each in sessions:
        each.seats_taken += 1


def _chosen(bookings: list[Booking], session: Session) -> Booking:
    """Of a course's bookings, the one for the session the person chose (else the first)."""
    return next((booking for booking in bookings if booking.session_id == session.pk), bookings[0])


def _take_seat(session: Session) -> None:
    updated = Session.objects.filter(pk=session.pk, seats_taken__lt=F("capacity")).update(seats_taken=F("seats_taken") + 1)
    if updated != 1:
        raise BookingError(_("This session is full."))
    session.seats_taken += 1


def _free_seat(session: Session) -> None:
    Session.objects.filter(pk=session.pk, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
    session.seats_taken = max(session.seats_taken - 1, 0)


def _check_not_over(session: Session, now: datetime.datetime) -> None:
    if session.status == Session.Status.CANCELLED:
        raise BookingError(_("This session has been cancelled."))
    if session.ends_at <= now:
        raise BookingError(_("This session is over."))


@transaction.atomic
def book_walk_in(*, session: Session, actor, name: str, phone: str, birth_year: int | None = None) -> Booking:
    """Staff book for a resident without a smartphone or account (name and phone)."""
    _require_staff(actor, session=session)
    name, phone = name.strip(), "".join(phone.split())
    if not name or not phone:
        raise BookingError(_("Please give the participant's name and phone number."))
    if not phone.lstrip("+").isdigit() or not 5 <= len(phone) <= 20:
        raise BookingError(_("Please give a valid phone number."))
    session = Session.objects.select_related("activity").get(pk=session.pk)
    activity = session.activity
    _check_visible(activity=activity, user=actor, acting_for_resident=True)
    # A course booked as a whole: a place in every session still to come, like a resident's.
    sessions = _sessions_to_book(session) if activity.is_series else [session]
    if not sessions:
        raise BookingError(_("This course has no sessions left to book."))
    now = timezone.now()
    for each in sessions:
        _check_not_over(each, now)
    participant = Participant(key=f"p{phone}", name=name, birth_year=birth_year)
    if Booking.objects.active().filter(session__in=sessions, participant_key=participant.key).exists():
        raise BookingError(_("%(name)s already has a place or application for this session.") % {"name": name})
    bookings = _place(
        sessions=sessions, activity=activity, participant=participant, actor=actor, check=_check_not_over, phone=phone
    )
    bookings_changed()
    booking = _chosen(bookings, session)
    _record(booking, "events.booking.walk_in", actor=actor, activity=activity, session=session, status=booking.status)
    return booking


# ---------------------------------------------------------------------------
# Cancelling and the waiting list


@transaction.atomic
def cancel_booking(*, booking: Booking, actor) -> list[Booking]:
    """Cancel a booking (a whole course's bookings together) and give freed seats to those waiting."""
    if actor.pk != booking.resident_id:
        _require_staff(actor, session=booking.session)
    now = timezone.now()
    group = list(
        Booking.objects.filter(group=booking.group, status__in=Booking.ACTIVE, session__starts_at__gt=now).select_related(
            "session__activity"
        )
    )
    if not group:
        booking.refresh_from_db()
        if booking.status == Booking.Status.CANCELLED:
            raise BookingError(_("This booking is already cancelled."))
        raise BookingError(_("This session has already started; it can no longer be cancelled."))
    sessions = _lock_sessions([each.session for each in group])
    by_pk = {each.pk: each for each in sessions}
    # Re-read under the locks: a concurrent cancel or promotion may have changed them.
    group = list(
        Booking.objects.filter(pk__in=[each.pk for each in group], status__in=Booking.ACTIVE).select_related("session__activity")
    )
    if not group:
        raise BookingError(_("This booking is already cancelled."))
    late = actor.pk == booking.resident_id and group[0].cancelling_is_late(now)
    for each in group:
        held = each.holds_seat
        each.status = Booking.Status.CANCELLED
        each.cancelled_at = now
        each.late_cancellation = late
        each.save(update_fields=["status", "cancelled_at", "late_cancellation"])
        if held:
            _free_seat(by_pk[each.session_id])
    cancelled = next((each for each in group if each.pk == booking.pk), group[0])
    activity = cancelled.session.activity
    notifications.booking_cancelled(group, late=late)
    promoted = _promote_waiting(sessions)
    _record(
        cancelled,
        "events.booking.cancel",
        actor=actor,
        activity=activity,
        session=cancelled.session,
        late=late,
        promoted=[each.pk for each in promoted],
    )
    return group


def _promote_waiting(sessions: list[Session]) -> list[Booking]:
    """Give free seats to the people waiting longest, whole groups at a time; sessions are locked."""
    promoted: list[Booking] = []
    locked = {session.pk: session for session in sessions}
    now = timezone.now()
    while True:
        first = (
            Booking.objects.filter(session__in=list(locked), status=Booking.Status.WAITLISTED, session__starts_at__gt=now)
            .order_by("queued_at", "pk")
            .first()
        )
        if first is None:
            break
        group = list(Booking.objects.filter(group=first.group, status=Booking.Status.WAITLISTED))
        if any(each.session_id not in locked for each in group):
            for extra in _lock_sessions([Session(pk=each.session_id) for each in group if each.session_id not in locked]):
                locked[extra.pk] = extra
        if not all(locked[each.session_id].seats_taken < locked[each.session_id].capacity for each in group):
            break  # strict order: nobody jumps the first in the queue
        for each in group:
            _take_seat(locked[each.session_id])
            each.status = Booking.Status.CONFIRMED
            each.confirmed_at = now
            each.save(update_fields=["status", "confirmed_at"])
        promoted.extend(group)
        notifications.promoted(group)
    return promoted


@transaction.atomic
def promote_from_waitlist(*, booking: Booking, actor) -> list[Booking]:
    """Staff move one person (and their course group) from the waiting list onto a free seat."""
    _require_staff(actor, session=booking.session)
    group = list(Booking.objects.filter(group=booking.group, status=Booking.Status.WAITLISTED).select_related("session"))
    if not group:
        raise BookingError(_("This person is not on the waiting list."))
    sessions = {s.pk: s for s in _lock_sessions([each.session for each in group])}
    if any(sessions[each.session_id].seats_taken >= sessions[each.session_id].capacity for each in group):
        raise BookingError(_("There is no free seat. Add seats to the session first."))
    now = timezone.now()
    for each in group:
        _take_seat(sessions[each.session_id])
        each.status = Booking.Status.CONFIRMED
        each.confirmed_at = now
        each.save(update_fields=["status", "confirmed_at"])
    promoted = next((each for each in group if each.pk == booking.pk), group[0])
    _record(promoted, "events.booking.promote", actor=actor, activity=booking.session.activity, session=promoted.session)
    notifications.promoted(group)
    return group


@transaction.atomic
def change_capacity(*, session: Session, capacity: int, actor) -> Session:
    """Change a session's seats; never below the seats already taken; extra seats go to the queue."""
    _require_staff(actor, session=session)
    activity = session.activity
    (session,) = _lock_sessions([session])
    if capacity < 1:
        raise BookingError(_("A session needs at least one seat."))
    if capacity < session.seats_taken:
        raise BookingError(
            ngettext(
                "%(taken)s seat is already taken; cancel bookings first.",
                "%(taken)s seats are already taken; cancel bookings first.",
                session.seats_taken,
            )
            % {"taken": session.seats_taken}
        )
    before = session.capacity
    session.capacity = capacity
    session.save(update_fields=["capacity"])
    promoted = [] if activity.is_draw and not session.drawn_at else _promote_waiting([session])
    _record(
        session,
        "events.session.capacity",
        actor=actor,
        activity=activity,
        session=session,
        before=before,
        after=capacity,
        promoted=[each.pk for each in promoted],
    )
    return session


@transaction.atomic
def cancel_session(*, session: Session, actor, reason: str) -> list[Booking]:
    """Cancel a session: every participant is told by e-mail."""
    _require_staff(actor, session=session)
    activity = session.activity
    reason = reason.strip()
    if not reason:
        raise BookingError(_("Please give a reason: it is sent to every participant."))
    (session,) = _lock_sessions([session])
    if session.status == Session.Status.CANCELLED:
        raise BookingError(_("This session has been cancelled."))
    if session.ends_at <= timezone.now():
        raise BookingError(_("This session is over."))
    now = timezone.now()
    affected = list(Booking.objects.active().filter(session=session).select_related("session__activity", "resident"))
    Booking.objects.filter(pk__in=[b.pk for b in affected]).update(status=Booking.Status.CANCELLED, cancelled_at=now)
    session.status = Session.Status.CANCELLED
    session.cancelled_reason = reason
    session.seats_taken = 0
    session.save(update_fields=["status", "cancelled_reason", "seats_taken"])
    _record(
        session, "events.session.cancel", actor=actor, activity=activity, session=session, reason=reason, bookings=len(affected)
    )
    notifications.session_cancelled(session, affected, reason=reason)
    return affected


@transaction.atomic
def email_participants(*, session: Session, actor, subject: str, message: str) -> int:
    """Staff write to everyone with a place or in the queue; returns how many were written to."""
    _require_staff(actor, session=session)
    subject, message = subject.strip(), message.strip()
    if not subject or not message:
        raise BookingError(_("Please write a subject and a message."))
    bookings = list(
        Booking.objects.filter(session=session, status__in=(*Booking.HOLDING_SEAT, Booking.Status.WAITLISTED))
        .exclude(resident=None)
        .select_related("resident__profile", "session__activity")
    )
    count = notifications.message_to_participants(session, bookings, subject=subject, message=message)
    _record(
        session,
        "events.session.email",
        actor=actor,
        activity=session.activity,
        session=session,
        subject=subject,
        recipients=count,
    )
    return count


# ---------------------------------------------------------------------------
# Check-in and attendance


@dataclass(frozen=True)
class CheckIn:
    booking: Booking
    repeated: bool
    points: int = 0  # awarded for attending by this check-in (none when repeated, or a cap was reached)


def normalise_code(code: str) -> str:
    """What staff type or the camera reads: 'linli:ABCD-EFGH', 'abcd efgh' → 'ABCDEFGH'."""
    code = code.strip().upper()
    if code.startswith("LINLI:"):
        code = code[len("LINLI:") :]
    return "".join(ch for ch in code if ch.isalnum())


@transaction.atomic
def check_in(*, session: Session, code: str, actor) -> CheckIn:
    """Mark a ticket as attended at the door; a second scan is recognised, not counted twice."""
    _require_staff(actor, session=session)
    code = normalise_code(code)
    booking = Booking.objects.select_for_update(of=("self",)).filter(code=code).select_related("session__activity").first()
    if booking is None:
        raise BookingError(_("No ticket has this code. Please check it and try again."))
    if booking.session_id != session.pk:
        raise BookingError(_("This ticket is for another session: %(session)s.") % {"session": _session_label(booking.session)})
    if session.status == Session.Status.CANCELLED:
        raise BookingError(_("This session has been cancelled."))
    if booking.status == Booking.Status.ATTENDED:
        return CheckIn(booking=booking, repeated=True)
    if booking.status == Booking.Status.CANCELLED:
        raise BookingError(_("This ticket was cancelled."))
    if booking.status in (Booking.Status.WAITLISTED, Booking.Status.APPLIED):
        raise BookingError(_("This person is on the waiting list and has no seat yet."))
    now = timezone.now()
    if now < session.starts_at - datetime.timedelta(hours=2):
        raise BookingError(_("Check-in opens two hours before the session starts."))
    booking.status = Booking.Status.ATTENDED
    booking.checked_in_at = now
    booking.checked_in_by = actor
    booking.save(update_fields=["status", "checked_in_at", "checked_in_by"])
    awarded = _award_attendance(booking, actor=actor)
    _record(
        booking,
        "events.booking.check_in",
        actor=actor,
        activity=booking.session.activity,
        session=booking.session,
        points=awarded.amount if awarded is not None else 0,
    )
    return CheckIn(booking=booking, repeated=False, points=awarded.amount if awarded is not None else 0)


@transaction.atomic
def undo_check_in(*, booking: Booking, actor) -> Booking:
    """Staff correct a mistaken check-in; the booking is confirmed again (points are reversed)."""
    _require_staff(actor, session=booking.session)
    session = booking.session
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != Booking.Status.ATTENDED:
        raise BookingError(_("This person is not checked in."))
    booking.status = Booking.Status.CONFIRMED
    booking.checked_in_at = None
    booking.checked_in_by = None
    booking.save(update_fields=["status", "checked_in_at", "checked_in_by"])
    points.reverse_award(source_key=attendance_source_key(booking), actor=actor, reason=_("Check-in undone"))
    _record(booking, "events.booking.undo_check_in", actor=actor, activity=session.activity, session=session)
    return booking


def attendance_source_key(booking: Booking) -> str:
    return f"events.attendance:{booking.pk}"


def _award_attendance(booking: Booking, *, actor):
    """Points for attending (volunteering: points and hours by the session's length) to the booking's resident.

    A walk-in without an account earns nothing. A rule's cap reached is not the door's
    problem: the check-in stands, the award is skipped (a savepoint keeps the rest).
    """
    if booking.resident_id is None:
        return None
    session = booking.session
    activity = session.activity
    key = attendance_source_key(booking)
    day = timezone.localtime(session.starts_at).date()
    try:
        with transaction.atomic():
            if activity.kind == Kind.VOLUNTEERING:
                hours = Decimal((session.ends_at - session.starts_at).total_seconds() / 3600).quantize(Decimal("0.1"))
                return points.award(
                    resident=booking.resident,
                    rule_code="volunteering",
                    source_key=key,
                    hours=hours,
                    actor=actor,
                    amount=activity.points or None,
                    on=min(day, timezone.localdate()),
                )
            elif activity.points:
                return points.award(
                    resident=booking.resident,
                    rule_code="attendance",
                    source_key=key,
                    amount=activity.points,
                    actor=actor,
                    on=min(day, timezone.localdate()),
                )
    except points.PointsError:
        logger.info("No attendance points for booking %s: a rule limit was reached", booking.pk)
    return None


@transaction.atomic
def close_attendance(*, session: Session) -> int:
    """After a session ends, confirmed bookings nobody checked in become no-shows."""
    (session,) = _lock_sessions([session])
    if session.closed_at is not None or session.ends_at > timezone.now():
        return 0
    count = Booking.objects.filter(session=session, status=Booking.Status.CONFIRMED).update(status=Booking.Status.NO_SHOW)
    Booking.objects.filter(session=session, status__in=(Booking.Status.WAITLISTED, Booking.Status.APPLIED)).update(
        status=Booking.Status.CANCELLED, cancelled_at=timezone.now()
    )
    session.closed_at = timezone.now()
    session.save(update_fields=["closed_at"])
    return count


def close_ended_sessions() -> int:
    ended = Session.objects.filter(ends_at__lte=timezone.now(), closed_at__isnull=True, status=Session.Status.SCHEDULED)
    return sum(close_attendance(session=session) for session in ended)


# ---------------------------------------------------------------------------
# Draws (摇号)


def draw_order(seed: str, entrants: list[dict], *, first_timer_priority: bool) -> list[int]:
    """The published algorithm, so that anyone can re-run a draw from its seed.

    entrants: [{"number": 123, "first_timer": true}, ...] (a number is an application's
    public number, shown to the applicant on My bookings). The numbers are sorted, then
    shuffled by Python's random.Random(seed); if first-timers have priority, they are moved
    ahead of the others, each part keeping its drawn order. Returns the numbers in order.
    """
    numbers = sorted(entrant["number"] for entrant in entrants)
    random.Random(seed).shuffle(numbers)
    if first_timer_priority:
        first = {entrant["number"] for entrant in entrants if entrant["first_timer"]}
        numbers = [n for n in numbers if n in first] + [n for n in numbers if n not in first]
    return numbers


@transaction.atomic
def run_draw(*, session: Session, actor=None, seed: str | None = None) -> Draw:
    """Draw the applicants of a session: as many as there are seats are confirmed, the rest wait in draw order."""
    if actor is not None:
        _require_staff(actor, session=session)
    (session,) = _lock_sessions([session])
    session = Session.objects.select_related("activity").get(pk=session.pk)
    activity = session.activity
    if not activity.is_draw:
        raise BookingError(_("This activity does not use a draw."))
    if not activity.live:
        raise BookingError(_("This activity is not published; its draw runs once it is."))
    if session.drawn_at is not None:
        raise BookingError(_("The draw for this session has already run."))
    if session.status == Session.Status.CANCELLED:
        raise BookingError(_("This session has been cancelled."))
    applications = list(Booking.objects.filter(session=session, status=Booking.Status.APPLIED).order_by("pk"))
    groups = {booking.group: booking for booking in applications}  # a course's group enters once
    siblings: dict = {}
    for booking in Booking.objects.filter(group__in=list(groups), status=Booking.Status.APPLIED).select_related("session"):
        siblings.setdefault(booking.group, []).append(booking)
    attended_before = set(
        Booking.objects.filter(
            session__activity__translation_key=activity.translation_key,
            status=Booking.Status.ATTENDED,
            participant_key__in=[booking.participant_key for booking in groups.values()],
        ).values_list("participant_key", flat=True)
    )
    entrants = [
        {"number": booking.pk, "first_timer": booking.participant_key not in attended_before} for booking in groups.values()
    ]
    seed = seed or secrets.token_hex(16)
    order = draw_order(seed, entrants, first_timer_priority=activity.first_timer_priority)
    by_number = {booking.pk: booking for booking in groups.values()}
    all_sessions = {s.pk: s for s in _lock_sessions([b.session for group in siblings.values() for b in group] + [session])}
    now = timezone.now()
    winners, waiting = [], []
    for rank, number in enumerate(order, start=1):
        group = siblings[by_number[number].group]
        seat_for_all = all(all_sessions[b.session_id].seats_taken < all_sessions[b.session_id].capacity for b in group)
        for booking in group:
            booking.draw_rank = rank
            booking.queued_at = now + datetime.timedelta(microseconds=rank)  # the queue follows the draw
            if seat_for_all:
                _take_seat(all_sessions[booking.session_id])
                booking.status = Booking.Status.CONFIRMED
                booking.confirmed_at = now
            else:
                booking.status = Booking.Status.WAITLISTED
            booking.save(update_fields=["draw_rank", "queued_at", "status", "confirmed_at"])
        (winners if seat_for_all else waiting).append(group)
    for each in all_sessions.values():
        if each.pk == session.pk or activity.is_series:
            Session.objects.filter(pk=each.pk).update(drawn_at=now, draw_seed=seed)
    draw = Draw.objects.create(
        session=session,
        seed=seed,
        entrants=entrants,
        order=order,
        seats=sum(1 for _group in winners),
        first_timer_priority=activity.first_timer_priority,
        ran_at=now,
        ran_by=actor,
    )
    _record(session, "events.session.draw", actor=actor, activity=activity, session=session, seed=seed, seats=draw.seats)
    notifications.draw_results(winners, waiting)
    return draw


def run_due_draws() -> int:
    """Run the draw of every draw session whose application window has closed."""
    due = Session.objects.filter(
        activity__allocation="draw",
        activity__booking_closes_at__lte=timezone.now(),
        drawn_at__isnull=True,
        status=Session.Status.SCHEDULED,
        starts_at__gt=timezone.now(),
    ).select_related("activity")
    count = 0
    seen_series = set()
    for session in due.order_by("starts_at", "pk"):
        if session.activity.is_series:
            if session.activity.translation_key in seen_series:
                continue
            seen_series.add(session.activity.translation_key)
        try:
            run_draw(session=session)
            count += 1
        except BookingError:
            continue
    return count


# ---------------------------------------------------------------------------
# Reminders


def send_reminders(*, now: datetime.datetime | None = None) -> int:
    """E-mail confirmed participants the day before (sessions starting within 24 hours), once."""
    now = now or timezone.now()
    due = Booking.objects.filter(
        status=Booking.Status.CONFIRMED,
        reminded_at__isnull=True,
        session__status=Session.Status.SCHEDULED,
        session__starts_at__gt=now,
        session__starts_at__lte=now + datetime.timedelta(hours=24),
    ).exclude(resident=None)
    sent = 0
    for booking in due.select_related("session__activity", "resident__profile"):
        # The mark and the queued message commit together: a stopped worker loses neither, and a
        # second run finds the booking reminded (and the outbox refuses the same key twice).
        with transaction.atomic():
            if Booking.objects.filter(pk=booking.pk, reminded_at__isnull=True).update(reminded_at=now) == 1:
                notifications.reminder(booking)
                sent += 1
    return sent


# ---------------------------------------------------------------------------
# Series of sessions


@dataclass(frozen=True)
class PlannedSession:
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    holiday: str  # the public holiday's name, or ""
    makeup_workday: bool  # a weekend day that is a working day (调休)


def plan_series(
    *,
    first_day: datetime.date,
    last_day: datetime.date,
    weekdays: set[int],
    start: datetime.time,
    end: datetime.time,
    skip_holidays: bool = True,
) -> list[PlannedSession]:
    """Dates of a weekly series (weekdays 0=Monday), with Chinese public holidays flagged.

    Holidays (and make-up working days) come from the `holidays` package's China calendar.
    With skip_holidays the holidays are left out; the preview shows them either way.
    """
    if last_day < first_day:
        raise BookingError(_("The last day must not be before the first day."))
    if (last_day - first_day).days > 366:
        raise BookingError(_("A series can span at most one year."))
    if end <= start:
        raise BookingError(_("The end time must be after the start time."))
    if not weekdays:
        raise BookingError(_("Choose at least one day of the week."))
    calendar = holidays.China(years=range(first_day.year, last_day.year + 1), language="zh_CN")
    workdays = _makeup_workdays(first_day.year, last_day.year)
    tz = timezone.get_current_timezone()
    planned = []
    day = first_day
    while day <= last_day:
        if day.weekday() in weekdays:
            name = calendar.get(day) or ""
            if not (name and skip_holidays):
                planned.append(
                    PlannedSession(
                        starts_at=datetime.datetime.combine(day, start, tzinfo=tz),
                        ends_at=datetime.datetime.combine(day, end, tzinfo=tz),
                        holiday=name,
                        makeup_workday=day in workdays,
                    )
                )
        day += datetime.timedelta(days=1)
    return planned


def holiday_name(day: datetime.date) -> str:
    return holidays.China(years=day.year, language="zh_CN").get(day) or ""


def _makeup_workdays(first_year: int, last_year: int) -> set[datetime.date]:
    days: set[datetime.date] = set()
    for year in range(first_year, last_year + 1):
        calendar = holidays.China(years=year)
        days.update(getattr(calendar, "weekend_workdays", set()) or set())
    return days


@transaction.atomic
def duplicate_sessions(*, activity: ActivityPage, planned: list[PlannedSession]) -> list[PlannedSession]:
    """The planned sessions that overlap a scheduled session of the activity (any language version)."""
    if not planned:
        return []
    existing = list(
        activity.sessions()
        .filter(
            status=Session.Status.SCHEDULED,
            starts_at__lt=max(each.ends_at for each in planned),
            ends_at__gt=min(each.starts_at for each in planned),
        )
        .values_list("starts_at", "ends_at")
    )
    return [each for each in planned if any(starts < each.ends_at and each.starts_at < ends for starts, ends in existing)]


@transaction.atomic
def create_sessions(
    *, activity: ActivityPage, planned: list[PlannedSession], capacity: int, venue: str = "", venue_en: str = "", actor=None
) -> list[Session]:
    """Save a previewed series as real session rows on the activity (recorded on the activity's page)."""
    if capacity < 1:
        raise BookingError(_("A session needs at least one seat."))
    if not planned:
        raise BookingError(_("The series has no dates."))
    if actor is not None:
        _require_staff(actor, activity=activity)
    sessions = Session.objects.bulk_create(
        [
            Session(
                activity=activity,
                starts_at=each.starts_at,
                ends_at=each.ends_at,
                capacity=capacity,
                venue=venue,
                venue_en=venue_en,
                holiday_name=each.holiday,
            )
            for each in planned
        ]
    )
    audit.record(
        activity,
        "events.sessions.add",
        actor=actor,
        title=activity.title,
        sessions=[session.pk for session in sessions],
        capacity=capacity,
    )
    return sessions


def _session_label(session: Session) -> str:
    local = timezone.localtime(session.starts_at)
    return f"{session.activity.localized.title} {local:%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------------------
# Staff tools


@dataclass(frozen=True)
class SeriesPreview:
    sessions: list[PlannedSession]  # every date of the rule, holidays included
    skipped: list[PlannedSession]  # the holidays left out when saving
    makeup_workdays: list[datetime.date]  # weekend days in the range that are working days (调休)

    @property
    def to_create(self) -> list[PlannedSession]:
        return [each for each in self.sessions if each not in self.skipped]


def preview_series(
    *,
    first_day: datetime.date,
    last_day: datetime.date,
    weekdays: set[int],
    start: datetime.time,
    end: datetime.time,
    skip_holidays: bool = True,
) -> SeriesPreview:
    """What a series rule gives: every date with its holiday flagged, and the make-up working days around it."""
    planned = plan_series(first_day=first_day, last_day=last_day, weekdays=weekdays, start=start, end=end, skip_holidays=False)
    skipped = [each for each in planned if each.holiday] if skip_holidays else []
    workdays = sorted(day for day in _makeup_workdays(first_day.year, last_day.year) if first_day <= day <= last_day)
    return SeriesPreview(sessions=planned, skipped=skipped, makeup_workdays=workdays)


def add_series(
    *,
    activity: ActivityPage,
    actor,
    first_day: datetime.date,
    last_day: datetime.date,
    weekdays: set[int],
    start: datetime.time,
    end: datetime.time,
    capacity: int,
    venue: str = "",
    venue_en: str = "",
    skip_holidays: bool = True,
) -> list[Session]:
    """Staff save a previewed series rule as session rows of the activity."""
    _require_staff(actor, activity=activity)
    preview = preview_series(
        first_day=first_day, last_day=last_day, weekdays=weekdays, start=start, end=end, skip_holidays=skip_holidays
    )
    return create_sessions(
        activity=activity,
        planned=preview.to_create,
        capacity=capacity,
        venue=venue.strip(),
        venue_en=venue_en.strip(),
        actor=actor,
    )
