"""State changes of residents' councils: sessions and their agenda, roll call, recusals, voting and results.

Who may do what: the community's staff prepare sessions (create, edit, agenda, announce, cancel); the chair
(or staff) runs them (start, open and close voting, end); the secretary (or chair, or staff) marks members
present and records the votes of members in the room. Only the council's current members (on the session's
day) check in and vote.

Voting rules (`AgendaItem.Rule`), applied when voting closes; a tie never passes:

- SIMPLE: more yes than no among the votes cast; abstentions do not count either way.
- ABSOLUTE: yes from more than half of the members (current members minus those recused); an abstention,
  like a vote not cast, is not a yes.
- TWO_THIRDS: yes from at least two-thirds (rounded up) of the members; abstentions are not yes.

Without a quorum at close (present, non-recused members below the council's threshold) the outcome is
NO_QUORUM whatever the counts.

Secret ballots are sealed while voting is open (`deliberation.council.sealing`, README: Secret ballots): every vote
opens the item's ballots and seals them all again; the close opens them for good, stores them plain and deletes
the salt and the ciphertexts before counting.

Results are stored once and chained by hash: each result's digest covers its counts, rule, quorum, outcome,
time and the previous result's digest of the same council (64 zeros for the first), so `verify_results`
finds a changed, removed or inserted result.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail import hooks

from deliberation.council import audit, chain, notifications, signals
from deliberation.council.charts import result_chart
from deliberation.council.models import (
    PUBLIC_SESSION_STATUSES,
    AgendaItem,
    Attendance,
    Ballot,
    Choice,
    Council,
    CouncilMember,
    CouncilSession,
    Participation,
    Recusal,
    Result,
    Vote,
    outcome_of,
)
from deliberation.council.sealing import BallotContent, ItemSeal, new_salt, receipt_digest, unheld_receipt
from deliberation.mailbox.models import Topic
from deliberation.mailbox.services import change_topic_status, move_topic
from home.scope import for_user

GENESIS_DIGEST = "0" * 64
_shuffle = secrets.SystemRandom().shuffle
# QR and secretary check-in may start this long before the session's start time (members arrive early).
EARLY_CHECK_IN = datetime.timedelta(hours=1)
# Session fields `update_session` may change; a change to these re-mails the members once announced.
SESSION_FIELDS = ("title", "title_en", "starts_at", "ends_at", "mode", "place", "place_en")
SESSION_MAILED_FIELDS = ("starts_at", "ends_at", "place", "place_en", "mode")
ITEM_FIELDS = ("title", "title_en", "motion", "motion_en", "rule", "ballot", "public_notice", "topic")
PREPARING = (CouncilSession.Status.DRAFT, CouncilSession.Status.ANNOUNCED)


class CouncilError(Exception):
    """A council action that breaks a rule; the message is shown to the person who tried it."""


class NotAllowed(PermissionDenied):
    """The person's role (not a member, not the chair, not staff...) does not allow this."""


@dataclass(frozen=True)
class Quorum:
    """Roll call of a session or an item: `members` eligible (recused ones left out), `present` of them, `needed`."""

    members: int
    recused: int
    present: int
    needed: int
    met: bool


# --- Who may do what ----------------------------------------------------------------------


def session_day(session: CouncilSession) -> datetime.date:
    return timezone.localdate(session.starts_at)


def member_of(*, council: Council, user, on: datetime.date | None = None) -> CouncilMember | None:
    """`user`'s seat on `council` in the term that includes `on` (default today), or None."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return council.current_members(on).filter(user=user).order_by("-term_start").first()


def current_seats(user, on: datetime.date | None = None) -> QuerySet[CouncilMember]:
    """`user`'s seats whose term includes `on` (default today), with their councils: the councils they sit on."""
    if user is None or not user.is_authenticated:
        return CouncilMember.objects.none()
    on = on or timezone.localdate()
    seats = CouncilMember.objects.filter(user=user, term_start__lte=on).filter(Q(term_end__isnull=True) | Q(term_end__gte=on))
    return seats.select_related("council").order_by("council_id", "-term_start")


def member_sessions(user) -> QuerySet[CouncilSession]:
    """The sessions members see of the councils `user` sits on now (announced and later; drafts and cancelled
    ones left out): the members' portal and the API list them."""
    councils = current_seats(user).values("council_id")
    return CouncilSession.objects.filter(council__in=councils, status__in=PUBLIC_SESSION_STATUSES).select_related("council")


def is_council_staff(user, council: Council) -> bool:
    """The staff of the council's community (street managers and superusers included)."""
    return for_user(user).includes(council.community)


def _has_role(user, session: CouncilSession, roles: tuple[str, ...]) -> bool:
    member = member_of(council=session.council, user=user, on=session_day(session))
    return member is not None and member.role in roles


def can_chair(user, session: CouncilSession) -> bool:
    """The current chair, or the community's staff."""
    return _has_role(user, session, (CouncilMember.Role.CHAIR,)) or is_council_staff(user, session.council)


def can_clerk(user, session: CouncilSession) -> bool:
    """The current secretary or chair, or the community's staff."""
    return _has_role(user, session, (CouncilMember.Role.SECRETARY, CouncilMember.Role.CHAIR)) or is_council_staff(
        user, session.council
    )


def may_follow(*, session: CouncilSession, user) -> bool:
    """Whether `user` may follow a session as it happens (the live page, the API): a member on the session's day,
    the chair, the secretary or the community's staff."""
    return member_of(council=session.council, user=user, on=session_day(session)) is not None or can_clerk(user, session)


def _require_staff(actor, council: Council) -> None:
    if not is_council_staff(actor, council):
        raise NotAllowed(_("Only the staff of this community may do this."))


def _require_chair(actor, session: CouncilSession) -> None:
    if not can_chair(actor, session):
        raise NotAllowed(_("Only the council's chair or the community's staff may do this."))


def _require_clerk(actor, session: CouncilSession) -> None:
    if not can_clerk(actor, session):
        raise NotAllowed(_("Only the council's secretary or chair, or the community's staff, may do this."))


def _require_member(*, session: CouncilSession, user) -> CouncilMember:
    member = member_of(council=session.council, user=user, on=session_day(session))
    if member is None:
        raise NotAllowed(_("Only current members of this council may do this."))
    return member


def _locked_session(session: CouncilSession) -> CouncilSession:
    return CouncilSession.objects.select_for_update().select_related("council__community").get(pk=session.pk)


def _locked_item(item: AgendaItem) -> AgendaItem:
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    item.session = CouncilSession.objects.select_related("council__community").get(pk=item.session_id)
    return item


def _status_label(session: CouncilSession) -> str:
    return CouncilSession.Status(session.status).label


def _require_preparing(session: CouncilSession) -> None:
    if session.status not in PREPARING:
        raise CouncilError(_("The session is “%(status)s”: it can no longer be changed.") % {"status": _status_label(session)})


# --- Sessions -------------------------------------------------------------------------------


def _check_session_fields(*, title: str, starts_at, ends_at, mode: str) -> None:
    if not (title or "").strip():
        raise CouncilError(_("Give the session a title."))
    if starts_at is None or ends_at is None:
        raise CouncilError(_("Give the session's start and end time."))
    if ends_at <= starts_at:
        raise CouncilError(_("The session must end after it starts."))
    if mode not in CouncilSession.Mode.values:
        raise CouncilError(_("Choose how the session meets: in person, online or hybrid."))


def _check_future_start(starts_at: datetime.datetime, now: datetime.datetime | None = None) -> None:
    if starts_at <= (now or timezone.now()):
        raise CouncilError(_("The start time has passed: choose a time in the future."))


def _dated(now: datetime.datetime | None) -> datetime.datetime:
    """When a step happened: the present, or `now` for a session recorded afterwards (the demo's past
    session); never in the future."""
    present = timezone.now()
    if now is None:
        return present
    if timezone.is_naive(now) or now > present:
        raise ValueError("`now` must be an aware time that is not in the future")
    return now


@transaction.atomic
def create_session(
    *,
    council: Council,
    actor,
    title: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    mode: str,
    title_en: str = "",
    place: str = "",
    place_en: str = "",
    now: datetime.datetime | None = None,
) -> CouncilSession:
    """A draft session of `council`, prepared by the community's staff (`now`: when, see `_dated`)."""
    _require_staff(actor, council)
    _check_session_fields(title=title, starts_at=starts_at, ends_at=ends_at, mode=mode)
    _check_future_start(starts_at, _dated(now))
    session = CouncilSession.objects.create(
        council=council,
        title=title.strip(),
        title_en=title_en.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        mode=mode,
        place=place.strip(),
        place_en=place_en.strip(),
        created_by=actor,
    )
    audit.record(session, "council.session.create", actor=actor)
    return session


@transaction.atomic
def update_session(*, session: CouncilSession, actor, **fields) -> CouncilSession:
    """Change a draft or announced session; once announced, a new time, place or mode is mailed to the members."""
    unknown = set(fields) - set(SESSION_FIELDS)
    if unknown:
        raise TypeError(f"update_session() cannot change {', '.join(sorted(unknown))}")
    session = _locked_session(session)
    _require_staff(actor, session.council)
    _require_preparing(session)
    for name in ("title", "title_en", "place", "place_en"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()
    changed = [name for name, value in fields.items() if getattr(session, name) != value]
    if not changed:
        return session
    for name in changed:
        setattr(session, name, fields[name])
    _check_session_fields(title=session.title, starts_at=session.starts_at, ends_at=session.ends_at, mode=session.mode)
    if "starts_at" in changed:
        _check_future_start(session.starts_at)
    if "starts_at" in changed and session.reminded_at is not None:
        session.reminded_at = None  # a new day: remind again the day before it
        changed.append("reminded_at")
    session.save(update_fields=changed)
    audit.record(session, "council.session.edit", actor=actor, changed=changed)
    if session.status == CouncilSession.Status.ANNOUNCED and set(changed) & set(SESSION_MAILED_FIELDS):
        notifications.session_changed(session=session, members=_members_to_mail(session))
    return session


def _members_to_mail(session: CouncilSession) -> list[CouncilMember]:
    return list(session.council.current_members(session_day(session)).select_related("user__profile").order_by("pk"))


def _scheduled_topics(session: CouncilSession) -> list[Topic]:
    topic_ids = session.items.exclude(topic=None).values_list("topic_id", flat=True)
    return list(Topic.objects.filter(pk__in=topic_ids).order_by("pk"))


@transaction.atomic
def announce_session(*, session: CouncilSession, actor, now: datetime.datetime | None = None) -> CouncilSession:
    """Draft → announced: topics become scheduled, members get an invitation with a calendar file, and the
    topics' letter writers and supporters hear that their concern is on the agenda (`now`: see `_dated`)."""
    session = _locked_session(session)
    _require_staff(actor, session.council)
    if session.status != CouncilSession.Status.DRAFT:
        raise CouncilError(_("Only a draft session can be announced."))
    if not session.items.exists():
        raise CouncilError(_("Put at least one item on the agenda before announcing the session."))
    now = _dated(now)
    if session.starts_at <= now:
        raise CouncilError(_("The session's start time has passed: change it before announcing."))
    session.status, session.announced_at = CouncilSession.Status.ANNOUNCED, now
    session.save(update_fields=["status", "announced_at"])
    topics = _scheduled_topics(session)
    for topic in topics:
        _schedule_topic(topic=topic, actor=actor)
    audit.record(session, "council.session.announce", actor=actor)
    notifications.session_invitation(session=session, members=_members_to_mail(session))
    notifications.topics_on_agenda(session=session, topics=topics)
    return session


def _schedule_topic(*, topic: Topic, actor) -> None:
    """Shortlisted → scheduled (the caller is the community's staff). Not mailed letter by letter: the caller
    sends each writer and supporter one "your concern is on the agenda" message (`topics_on_agenda`)."""
    if topic.status == Topic.Status.SHORTLISTED:
        move_topic(topic=topic, actor=actor, status=Topic.Status.SCHEDULED, notify_writers=False)


def _unschedule_topic(*, topic: Topic, actor, reason: str) -> None:
    """Back to shortlisted, unless an announced or running session still has it on its agenda.

    Call it after the item left the agenda (removed, pointed elsewhere, or its session cancelled).
    """
    topic.refresh_from_db()
    if topic.status != Topic.Status.SCHEDULED:
        return
    live = (CouncilSession.Status.ANNOUNCED, CouncilSession.Status.IN_SESSION)
    if not AgendaItem.objects.filter(topic=topic, session__status__in=live).exists():
        change_topic_status(topic=topic, actor=actor, status=Topic.Status.SHORTLISTED, reason=reason)


@transaction.atomic
def cancel_session(*, session: CouncilSession, actor, reason: str) -> CouncilSession:
    """A draft or announced session is called off; members of an announced one are told; topics go back to shortlisted."""
    session = _locked_session(session)
    _require_staff(actor, session.council)
    _require_preparing(session)
    reason = (reason or "").strip()
    if not reason:
        raise CouncilError(_("Give the reason why the session is cancelled."))
    was_announced = session.status == CouncilSession.Status.ANNOUNCED
    session.status = CouncilSession.Status.CANCELLED
    session.save(update_fields=["status"])
    for topic in _scheduled_topics(session):
        _unschedule_topic(topic=topic, actor=actor, reason=reason)
    audit.record(session, "council.session.cancel", actor=actor, reason=reason)
    if was_announced:
        notifications.session_cancelled(session=session, members=_members_to_mail(session), reason=reason)
    return session


@transaction.atomic
def start_session(*, session: CouncilSession, actor, now: datetime.datetime | None = None) -> CouncilSession:
    """Announced → in session (the chair or staff); members may now check in online and vote (`now`: see `_dated`)."""
    session = _locked_session(session)
    _require_chair(actor, session)
    if session.status != CouncilSession.Status.ANNOUNCED:
        raise CouncilError(_("Only an announced session can start."))
    session.status, session.opened_at = CouncilSession.Status.IN_SESSION, _dated(now)
    session.door_rotation += 1  # a new door key: a code seen before the start no longer checks anyone in
    session.save(update_fields=["status", "opened_at", "door_rotation"])
    audit.record(session, "council.session.start", actor=actor)
    return session


@transaction.atomic
def end_session(*, session: CouncilSession, actor, now: datetime.datetime | None = None) -> CouncilSession:
    """In session → closed: members present earn their points, draft minutes follow. `now` (default the
    present) dates the end, as `close_voting`'s does its result: the chain signs it.

    Refused while a vote is open: closing it is the chair's own decision (it fixes the result and tells the
    writers and supporters), never a side effect of ending the session."""
    from points.services import PointsError, award

    session = _locked_session(session)
    _require_chair(actor, session)
    if session.status != CouncilSession.Status.IN_SESSION:
        raise CouncilError(_("Only a session in progress can be ended."))
    still_open = session.items.filter(status=AgendaItem.Status.OPEN).first()
    if still_open is not None:
        raise CouncilError(
            _("Voting on “%(item)s” is still open: close it first, then end the session.") % {"item": still_open.display_title}
        )
    session.status, session.closed_at = CouncilSession.Status.CLOSED, now or timezone.now()
    session.save(update_fields=["status", "closed_at"])
    chain.append_session(session=session)  # the keyed chain: the final attendance
    notifications.session_results(session=session, members=_members_to_mail(session))
    audit.record(session, "council.session.close", actor=actor)
    for attendance in session.attendances.select_related("member__user").order_by("pk"):
        try:
            award(
                resident=attendance.member.user,
                rule_code="council_attendance",
                source_key=f"deliberation.attendance:{attendance.pk}",
                actor=actor,
            )
        except PointsError:
            pass  # the rule is switched off or the member reached a cap: attending still counts, without points
    signals.session_ended.send(sender=CouncilSession, session=session, actor=actor)  # the follow-up drafts the minutes
    return session


def send_session_reminders(*, now: datetime.datetime | None = None) -> int:
    """Remind the members of each announced session starting within a day, once; returns the sessions reminded."""
    now = now or timezone.now()
    due = CouncilSession.objects.filter(
        status=CouncilSession.Status.ANNOUNCED,
        reminded_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + datetime.timedelta(days=1),
    )
    reminded = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            session = (
                CouncilSession.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, reminded_at__isnull=True, status=CouncilSession.Status.ANNOUNCED)
                .select_related("council__community")
                .first()
            )
            if session is None:
                continue
            session.reminded_at = now
            session.save(update_fields=["reminded_at"])
            notifications.session_reminder(session=session, members=_members_to_mail(session))
            reminded += 1
    return reminded


# --- Agenda ---------------------------------------------------------------------------------


def _check_item_fields(*, title: str, motion: str, rule: str, ballot: str) -> None:
    if not (title or "").strip():
        raise CouncilError(_("Give the item a title."))
    if not (motion or "").strip():
        raise CouncilError(_("Write the motion the council votes on."))
    if rule not in AgendaItem.Rule.values:
        raise CouncilError(_("Choose a voting rule."))
    if ballot not in AgendaItem.Ballot.values:
        raise CouncilError(_("Choose an open or a secret ballot."))


# Sessions whose agenda holds a topic: one that has not taken place yet or is taking place.
AGENDA_HOLDS = (*PREPARING, CouncilSession.Status.IN_SESSION)


# The apps built on the council register here the topics they have decided (a queryset of rows with `topic_id`,
# as values_list("topic_id", flat=True)), so that a
# decided topic goes on no agenda again: the follow-up registers its decisions that are not withdrawn.
DECIDED_TOPICS = "linli_decided_topics"


def _decided_topic_ids() -> list:
    return [decided() for decided in hooks.get_hooks(DECIDED_TOPICS)]


def agenda_topics(community_id: int, *, item: AgendaItem | None = None):
    """Topics of the community that may go on an agenda (or stay on `item`): shortlisted or scheduled, not on
    the agenda of a session that has not ended, and not decided."""
    on_agendas = AgendaItem.objects.filter(topic__isnull=False, session__status__in=AGENDA_HOLDS)
    if item is not None:
        on_agendas = on_agendas.exclude(pk=item.pk)
    topics = Topic.objects.filter(community=community_id, status__in=[Topic.Status.SHORTLISTED, Topic.Status.SCHEDULED])
    topics = topics.exclude(pk__in=on_agendas.values("topic_id"))
    for decided in _decided_topic_ids():
        topics = topics.exclude(pk__in=decided)
    return topics


def _check_topic(topic: Topic | None, session: CouncilSession, item: AgendaItem | None = None) -> None:
    if topic is None:
        return
    if topic.community_id != session.council.community_id:
        raise CouncilError(_("The topic belongs to another community."))
    if topic.status not in (Topic.Status.SHORTLISTED, Topic.Status.SCHEDULED):
        raise CouncilError(
            _("Only a shortlisted topic can go on the agenda; this one is “%(status)s”.")
            % {"status": Topic.Status(topic.status).label}
        )
    if any(decided.filter(topic_id=topic.pk).exists() for decided in _decided_topic_ids()):
        raise CouncilError(_("The council has already decided this topic."))
    elsewhere = AgendaItem.objects.filter(topic=topic, session__status__in=AGENDA_HOLDS).select_related("session")
    if item is not None:
        elsewhere = elsewhere.exclude(pk=item.pk)
    held = elsewhere.order_by("session__starts_at").first()
    if held is not None:
        raise CouncilError(
            _("This topic is already on the agenda of “%(session)s”: take it off there first.")
            % {"session": held.session.display_title}
        )


@transaction.atomic
def add_item(
    *,
    session: CouncilSession,
    actor,
    title: str,
    motion: str,
    rule: str,
    ballot: str,
    title_en: str = "",
    motion_en: str = "",
    topic: Topic | None = None,
    public_notice: bool = True,
) -> AgendaItem:
    """Append an item to the agenda of a session that has not started."""
    session = _locked_session(session)
    _require_staff(actor, session.council)
    _require_preparing(session)
    _check_item_fields(title=title, motion=motion, rule=rule, ballot=ballot)
    if topic is not None:
        topic = Topic.objects.select_for_update().get(pk=topic.pk)
    _check_topic(topic, session)
    last = session.items.aggregate(last=Max("position"))["last"] or 0
    item = AgendaItem.objects.create(
        session=session,
        position=last + 1,
        topic=topic,
        title=title.strip(),
        title_en=title_en.strip(),
        motion=motion.strip(),
        motion_en=motion_en.strip(),
        rule=rule,
        ballot=ballot,
        public_notice=bool(public_notice),
    )
    audit.record(session, "council.agenda.edit", actor=actor, added=item.pk)
    if topic is not None and session.status == CouncilSession.Status.ANNOUNCED:
        scheduled_before = topic.status == Topic.Status.SCHEDULED
        _schedule_topic(topic=topic, actor=actor)
        if not scheduled_before:
            notifications.topics_on_agenda(session=session, topics=[topic])
    return item


@transaction.atomic
def update_item(*, item: AgendaItem, actor, **fields) -> AgendaItem:
    """Change an item's text, rule, ballot, notice period or topic before the session starts."""
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise TypeError(f"update_item() cannot change {', '.join(sorted(unknown))}")
    item = _locked_item(item)
    session = item.session
    _require_staff(actor, session.council)
    _require_preparing(session)
    for name in ("title", "title_en", "motion", "motion_en"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()
    old_topic = item.topic
    changed = [name for name, value in fields.items() if getattr(item, name) != value]
    if not changed:
        return item
    for name in changed:
        setattr(item, name, fields[name])
    _check_item_fields(title=item.title, motion=item.motion, rule=item.rule, ballot=item.ballot)
    if "topic" in changed:
        _check_topic(item.topic, session, item)
    item.save(update_fields=changed)
    audit.record(session, "council.agenda.edit", actor=actor, changed=item.pk, fields=changed)
    if "topic" in changed and session.status == CouncilSession.Status.ANNOUNCED:
        if old_topic is not None:
            _unschedule_topic(topic=old_topic, actor=actor, reason=_("Taken off the agenda."))
        if item.topic is not None and item.topic.status == Topic.Status.SHORTLISTED:
            _schedule_topic(topic=item.topic, actor=actor)
            notifications.topics_on_agenda(session=session, topics=[item.topic])
    return item


def _renumber(session: CouncilSession, ordered: list[AgendaItem]) -> None:
    """Positions 1..n in the given order; moved out of the way first so the unique (session, position) holds."""
    offset = max([item.position for item in ordered] + [len(ordered)]) + 1
    for number, item in enumerate(ordered, start=1):
        AgendaItem.objects.filter(pk=item.pk).update(position=offset + number)
    for number, item in enumerate(ordered, start=1):
        AgendaItem.objects.filter(pk=item.pk).update(position=number)
        item.position = number


@transaction.atomic
def remove_item(*, item: AgendaItem, actor) -> None:
    """Take an item off the agenda of a session that has not started; its topic goes back to shortlisted."""
    item = _locked_item(item)
    session = item.session
    _require_staff(actor, session.council)
    _require_preparing(session)
    topic = item.topic
    pk = item.pk
    item.delete()
    _renumber(session, list(AgendaItem.objects.filter(session=session).order_by("position")))
    audit.record(session, "council.agenda.edit", actor=actor, removed=pk)
    if topic is not None and session.status == CouncilSession.Status.ANNOUNCED:
        _unschedule_topic(topic=topic, actor=actor, reason=_("Taken off the agenda."))


@transaction.atomic
def move_item(*, item: AgendaItem, actor, position: int) -> AgendaItem:
    """Put an item at `position` (1 = first) of the agenda of a session that has not started."""
    item = _locked_item(item)
    session = item.session
    _require_staff(actor, session.council)
    _require_preparing(session)
    others = [other for other in AgendaItem.objects.filter(session=session).order_by("position") if other.pk != item.pk]
    if not 1 <= position <= len(others) + 1:
        raise CouncilError(_("Choose a position from 1 to %(last)s.") % {"last": len(others) + 1})
    if position == item.position:
        return item
    others.insert(position - 1, item)
    _renumber(session, others)
    audit.record(session, "council.agenda.edit", actor=actor, moved=item.pk, position=position)
    return item


# --- Roll call and recusals -----------------------------------------------------------------


@transaction.atomic
def check_in(
    *, session: CouncilSession, user, method: str, door_key: str = "", actor=None, now: datetime.datetime | None = None
) -> Attendance:
    """Record `user` present: by the door QR code (its current key, on the session's day), online during an
    online or hybrid session, or marked by the secretary (`actor`). A second check-in returns the first one.
    `now`: see `_dated`."""
    # Locked: a check-in racing `end_session` waits for it and is then refused, instead of landing after the
    # session's final attendance was signed into the chain.
    session = CouncilSession.objects.select_for_update(of=("self",)).select_related("council__community").get(pk=session.pk)
    if method not in Attendance.Method.values:
        raise CouncilError(_("Unknown way of checking in."))
    now = _dated(now)
    in_session = session.status == CouncilSession.Status.IN_SESSION
    about_to_start = session.status == CouncilSession.Status.ANNOUNCED and now >= session.starts_at - EARLY_CHECK_IN
    recorded_by = None
    if method == Attendance.Method.SECRETARY:
        _require_clerk(actor, session)
        recorded_by = actor
    member = member_of(council=session.council, user=user, on=session_day(session))
    if member is None:
        if method == Attendance.Method.SECRETARY:
            raise CouncilError(_("This person is not a current member of the council."))
        raise NotAllowed(_("Only current members of this council may check in."))
    if method == Attendance.Method.ONLINE:
        if session.mode == CouncilSession.Mode.IN_PERSON:
            raise CouncilError(_("This session meets in person: check in with the QR code at the door."))
        if not in_session:
            raise CouncilError(_("Online check-in opens when the chair starts the session."))
    else:
        if method == Attendance.Method.QR and session.mode == CouncilSession.Mode.ONLINE:
            raise CouncilError(_("This session meets online: use “I am here” on the session's page."))
        if not (in_session or about_to_start):
            raise CouncilError(_("Check-in opens an hour before the session starts and closes when it ends."))
    if method == Attendance.Method.QR:
        check_door_key(session=session, door_key=door_key, now=now)
    existing = Attendance.objects.filter(session=session, member=member).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            attendance = Attendance.objects.create(
                session=session, member=member, method=method, recorded_by=recorded_by, checked_in_at=now
            )
    except IntegrityError:  # a second tab or a double scan won the race: the same attendance
        return Attendance.objects.get(session=session, member=member)
    audit.record(session, "council.attendance", actor=actor or user, member=member.pk, method=method)
    return attendance


def _door_key_days(session: CouncilSession) -> tuple[datetime.date, datetime.date]:
    """The days a door key works: the session's day (from the early check-in, to its planned end if that is
    after midnight)."""
    return timezone.localdate(session.starts_at - EARLY_CHECK_IN), timezone.localdate(session.ends_at)


def check_door_key(*, session: CouncilSession, door_key: str, now: datetime.datetime) -> None:
    """The key of the door QR code: this session's current one (since the chair started it), on its day.

    Raises CouncilError saying why not; the door page asks it before offering to check in."""
    first, last = _door_key_days(session)
    if timezone.localdate(now) < first:
        raise CouncilError(
            _("This check-in code is not valid yet: it works only on the day of the session (%(day)s).")
            % {"day": session_day(session).isoformat()}
        )
    if timezone.localdate(now) > last:
        raise CouncilError(
            _("This check-in code has expired: it works only on the day of the session (%(day)s).")
            % {"day": session_day(session).isoformat()}
        )
    # As bytes: compare_digest refuses a str with characters beyond ASCII, which anyone may put in the link.
    if not secrets.compare_digest(str(door_key or "").encode(), session.door_key.encode()):
        raise CouncilError(_("This check-in code has expired or is not this session's: scan the QR code at the door again."))


def _current_member_ids(session: CouncilSession) -> set[int]:
    return set(session.council.current_members(session_day(session)).values_list("pk", flat=True))


def agenda_with_results(session: CouncilSession) -> list[AgendaItem]:
    """The session's items in order, each with `result_obj` and its `chart` once its voting has closed
    (None and "" before): no page shows a count while an item is open; a passed one with its `decision_obj`."""
    items = list(session.items.select_related("result", "topic", "decision").order_by("position"))
    for item in items:
        item.result_obj = shown_result(item)
        item.chart = result_chart(item.result_obj) if item.result_obj else ""
        decision = getattr(item, "decision", None)  # a passed item's decision (the follow-up's), unless withdrawn
        item.decision_obj = decision if decision is not None and not decision.withdrawn else None
    return items


def shown_result(item: AgendaItem) -> Result | None:
    """The item's stored result once its voting has closed; None before (no count is shown while it is open)."""
    return getattr(item, "result", None) if item.status == AgendaItem.Status.CLOSED else None


def session_quorum(*, session: CouncilSession) -> Quorum:
    """Current members on the session's day, how many are present, and whether that makes a quorum."""
    members = _current_member_ids(session)
    present = Attendance.objects.filter(session=session, member_id__in=members).count()
    needed = session.council.quorum_needed(len(members))
    return Quorum(members=len(members), recused=0, present=present, needed=needed, met=present >= needed)


def quorum(*, item: AgendaItem) -> Quorum:
    """An item's quorum: recused members count neither as members nor as present."""
    session = item.session
    current = _current_member_ids(session)
    recused = set(Recusal.objects.filter(item=item, member_id__in=current).values_list("member_id", flat=True))
    eligible = current - recused
    present = Attendance.objects.filter(session=session, member_id__in=eligible).count()
    needed = session.council.quorum_needed(len(eligible))
    return Quorum(members=len(eligible), recused=len(recused), present=present, needed=needed, met=present >= needed)


def _recuse(*, item: AgendaItem, member: CouncilMember, reason: str, actor, recorded_by=None) -> Recusal:
    """The rules shared by a member's own recusal and one the secretary records (the item and member locked)."""
    if item.status == AgendaItem.Status.CLOSED or item.session.status not in (*PREPARING, CouncilSession.Status.IN_SESSION):
        raise CouncilError(_("Voting on this item is over: a recusal can no longer be declared."))
    if Recusal.objects.filter(item=item, member=member).exists():
        raise CouncilError(_("A conflict of interest has already been declared for this member on this item."))
    voted = Participation if item.ballot == AgendaItem.Ballot.SECRET else Vote
    if voted.objects.filter(item=item, member=member).exists():
        # Refused, never a silent change: a recusal would otherwise take back a vote already counted.
        raise CouncilError(
            _("This member has already voted on this item: a conflict of interest must be declared before voting.")
        )
    recusal = Recusal.objects.create(item=item, member=member, reason=(reason or "").strip()[:200], recorded_by=recorded_by)
    audit.record(item, "council.recusal", actor=actor, member=member.pk, recorded_by=recorded_by.pk if recorded_by else None)
    return recusal


@transaction.atomic
def declare_recusal(*, item: AgendaItem, user, reason: str = "") -> Recusal:
    """A member's own conflict of interest on an item, declared before they vote on it."""
    item = _locked_item(item)
    member = _require_member(session=item.session, user=user)
    member = CouncilMember.objects.select_for_update().get(pk=member.pk)
    return _recuse(item=item, member=member, reason=reason, actor=user)


@transaction.atomic
def record_recusal(*, item: AgendaItem, member: CouncilMember, actor, reason: str) -> Recusal:
    """The secretary (or chair, or staff) records the conflict of interest of a member present in the room,
    with the reason the member states (the record says someone else entered it).

    Only for a member checked in: the recused count neither as members nor as present, so recording one for
    an absent member would lower the quorum needed."""
    item = _locked_item(item)
    session = item.session
    _require_clerk(actor, session)
    if session.mode == CouncilSession.Mode.ONLINE:
        raise CouncilError(_("In an online session every member declares a conflict of interest on their own device."))
    if member.council_id != session.council_id or not member.is_current(session_day(session)):
        raise CouncilError(_("This person is not a current member of the council."))
    member = CouncilMember.objects.select_for_update().get(pk=member.pk)
    if not Attendance.objects.filter(session=session, member=member).exists():
        raise CouncilError(_("Mark the member present first: a recusal is recorded for a member in the room."))
    if not (reason or "").strip():
        raise CouncilError(_("Give the reason the member states for the recusal."))
    return _recuse(item=item, member=member, reason=reason, actor=actor, recorded_by=actor)


@transaction.atomic
def withdraw_recusal(*, recusal: Recusal, actor) -> None:
    """The member (or the secretary, chair or staff) takes a recusal back, before voting on the item opens."""
    recusal = Recusal.objects.select_related("member").get(pk=recusal.pk)
    item = _locked_item(recusal.item)
    session = item.session
    if recusal.member.user_id != getattr(actor, "pk", None) and not can_clerk(actor, session):
        raise NotAllowed(_("Only the member, or the council's secretary or chair, or the community's staff, may do this."))
    if item.status != AgendaItem.Status.PENDING:
        raise CouncilError(_("Voting on this item has opened: the recusal can no longer be withdrawn."))
    if session.status not in (*PREPARING, CouncilSession.Status.IN_SESSION):
        raise CouncilError(_("The session is over: the recusal can no longer be withdrawn."))
    member_pk = recusal.member_id
    recusal.delete()
    audit.record(item, "council.recusal.withdraw", actor=actor, member=member_pk)


def votes_cast(*, item: AgendaItem) -> tuple[int, int]:
    """(voted, eligible): how many of the members present and not recused have voted on the item, never how.

    Shown to the chair and secretary while voting is open so they can tell when to close it."""
    session = item.session
    current = _current_member_ids(session)
    recused = set(Recusal.objects.filter(item=item).values_list("member_id", flat=True))
    eligible = set(
        Attendance.objects.filter(session=session, member_id__in=current - recused).values_list("member_id", flat=True)
    )
    rows = Participation if item.ballot == AgendaItem.Ballot.SECRET else Vote
    voted = rows.objects.filter(item=item, member_id__in=eligible).count()
    return voted, len(eligible)


# --- Voting ----------------------------------------------------------------------------------


@transaction.atomic
def open_voting(
    *, item: AgendaItem, actor, closes_at: datetime.datetime | None = None, now: datetime.datetime | None = None
) -> AgendaItem:
    """Open voting on one item of a session in progress (the chair or staff), if its quorum is met (`now`: see `_dated`)."""
    # The session first (as end_session does), then the item: one open item per session, openers queue here.
    session = _locked_session(CouncilSession(pk=AgendaItem.objects.values_list("session_id", flat=True).get(pk=item.pk)))
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    item.session = session
    _require_chair(actor, session)
    if session.status != CouncilSession.Status.IN_SESSION:
        raise CouncilError(_("Voting opens only while the session is in progress."))
    if item.status != AgendaItem.Status.PENDING:
        raise CouncilError(_("Voting on this item has already been opened."))
    if session.items.filter(status=AgendaItem.Status.OPEN).exclude(pk=item.pk).exists():
        raise CouncilError(_("Close the vote on the other open item first: one item is voted on at a time."))
    now = _dated(now)
    if closes_at is not None and closes_at <= now:
        raise CouncilError(_("The closing time must be in the future."))
    counted = quorum(item=item)
    if not counted.met:
        raise CouncilError(
            _("No quorum: %(present)s of %(members)s members are present, %(needed)s are needed.")
            % {"present": counted.present, "members": counted.members, "needed": counted.needed}
        )
    item.status, item.opened_at, item.opened_by, item.closes_at = AgendaItem.Status.OPEN, now, actor, closes_at
    # A secret vote's ballots are sealed with a key of this item's own (derived with this salt) until it closes.
    item.ballot_salt = new_salt() if item.ballot == AgendaItem.Ballot.SECRET else None
    item.save(update_fields=["status", "opened_at", "opened_by", "closes_at", "ballot_salt"])
    audit.record(item, "council.vote.open", actor=actor, closes_at=closes_at.isoformat() if closes_at else None)
    return item


def _voting_member(item: AgendaItem, user=None, member: CouncilMember | None = None) -> CouncilMember:
    """Checks shared by casting and recording a vote; returns the member's locked row."""
    session = item.session
    if item.status != AgendaItem.Status.OPEN or (item.closes_at is not None and timezone.now() >= item.closes_at):
        raise CouncilError(_("Voting on this item is not open."))
    if member is None:
        member = _require_member(session=session, user=user)
    elif member.council_id != session.council_id or not member.is_current(session_day(session)):
        raise CouncilError(_("This person is not a current member of the council."))
    member = CouncilMember.objects.select_for_update().get(pk=member.pk)
    if not Attendance.objects.filter(session=session, member=member).exists():
        raise CouncilError(_("Check in to the session before voting."))
    if Recusal.objects.filter(item=item, member=member).exists():
        raise CouncilError(_("A conflict of interest was declared: no vote on this item."))
    return member


def _sealed_ballots(item: AgendaItem) -> tuple[ItemSeal, list[BallotContent]]:
    """The open secret item's seal and its ballots, opened (SealingError if any does not open: nothing is guessed)."""
    seal = ItemSeal.for_item(item)
    return seal, [seal.unseal(sealed) for sealed in Ballot.objects.filter(item=item).values_list("sealed", flat=True)]


def _rewrite_ballots(item: AgendaItem, seal: ItemSeal, ballots: list[BallotContent]) -> None:
    """Store the item's secret ballots again, every one sealed anew (fresh nonce), under a new random key, in a
    random order.

    Nothing stored may tell which ballot came or changed when: every ciphertext and every key changes at each
    vote (a changed vote and a new one look alike), and the physical order changes too -- SQLite numbers rows
    in insertion order (rowid), PostgreSQL keeps them in insertion order (ctid) and stamps each with its
    inserting transaction (xmin), the voter's Participation row's transaction. Written again together, all of
    an item's ballots carry the latest vote's stamp and a random place. Councils are small: a few dozen rows.
    """
    ballots = list(ballots)
    _shuffle(ballots)
    _delete_ballots(item)
    Ballot.objects.bulk_create([Ballot(item=item, sealed=seal.seal(content)) for content in ballots])


def _delete_ballots(item: AgendaItem) -> None:
    """One DELETE for all of an item's ballots. `QuerySet.delete()` would first fetch every row (a project-wide
    post_delete receiver makes Django collect them), inside the lock every vote on the item queues on."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(Ballot._meta.db_table)} WHERE item_id = %s", [item.pk])


def _mine(ballots: list[BallotContent], receipt: str) -> int | None:
    """The place of the ballot `receipt` may change, if any."""
    if not receipt:
        return None
    digest = receipt_digest(receipt)
    return next((n for n, ballot in enumerate(ballots) if secrets.compare_digest(ballot.receipt, digest)), None)


def _unseal_ballots(item: AgendaItem) -> None:
    """At the close of a secret vote, before counting: the ballots are opened and stored plain -- item and choice
    only, under new random keys, in a random order -- and the item's salt and every ciphertext are deleted, so
    no receipt matches anything any more and no plain row can be matched to a sealed one. A ballot that does
    not open stops the close (SealingError) with nothing changed."""
    if item.ballot != AgendaItem.Ballot.SECRET:
        return
    if Ballot.objects.filter(item=item).exists():
        _seal, ballots = _sealed_ballots(item)
        _shuffle(ballots)
        _delete_ballots(item)
        Ballot.objects.bulk_create([Ballot(item=item, choice=ballot.choice) for ballot in ballots])
    item.ballot_salt = None
    item.save(update_fields=["ballot_salt"])


def _check_choice(choice: str) -> None:
    if choice not in Choice.values:
        raise CouncilError(_("Choose in favour, against or abstain."))


@transaction.atomic
def cast_vote(*, item: AgendaItem, user, choice: str, receipt: str = "") -> str:
    """A present member's vote; it may change until voting closes.

    Open ballot: one `Vote` per member, changed in place; returns "". Secret ballot: the first vote stores
    that the member took part and, apart, a sealed ballot with no member; the returned receipt (kept by the
    member's device, its digest sealed in the ballot) is the only way to change that ballot while voting is
    open. Every secret vote, first or changed, seals all of the item's ballots again.
    """
    _check_choice(choice)
    item = _locked_item(item)  # every vote on the item queues here: counts and limits are decided one at a time
    member = _voting_member(item, user=user)
    now = timezone.now()
    if item.ballot == AgendaItem.Ballot.OPEN:
        vote = Vote.objects.filter(item=item, member=member).first()
        if vote is None:
            Vote.objects.create(item=item, member=member, choice=choice, cast_at=now)
        elif vote.choice != choice or vote.recorded_by_id:
            vote.choice, vote.changed_at, vote.recorded_by = choice, now, None
            vote.save(update_fields=["choice", "changed_at", "recorded_by"])
        return ""
    seal, ballots = _sealed_ballots(item)
    if Participation.objects.filter(item=item, member=member).exists():
        mine = _mine(ballots, receipt)
        if mine is None:
            raise CouncilError(
                _(
                    "You already voted by secret ballot on another device (or your receipt was lost): "
                    "a secret vote can be changed only on the device it was cast on."
                )
            )
        ballots[mine] = BallotContent(choice=choice, receipt=ballots[mine].receipt)
        _rewrite_ballots(item, seal, ballots)  # even for the same choice: a change and a repeat look alike
        return receipt
    receipt = secrets.token_urlsafe(24)
    Participation.objects.create(item=item, member=member)
    _rewrite_ballots(item, seal, [*ballots, BallotContent(choice=choice, receipt=receipt_digest(receipt))])
    return receipt


@transaction.atomic
def record_vote(*, item: AgendaItem, member: CouncilMember, choice: str, actor) -> None:
    """The secretary (or chair, or staff) records the vote of a present member in the room (in-person or hybrid)."""
    _check_choice(choice)
    item = _locked_item(item)
    session = item.session
    _require_clerk(actor, session)
    if session.mode == CouncilSession.Mode.ONLINE:
        raise CouncilError(_("In an online session every member votes on their own device."))
    member = _voting_member(item, member=member)
    now = timezone.now()
    if item.ballot == AgendaItem.Ballot.OPEN:
        vote = Vote.objects.filter(item=item, member=member).first()
        if vote is None:
            Vote.objects.create(item=item, member=member, choice=choice, recorded_by=actor, cast_at=now)
        elif vote.recorded_by_id is None:
            raise CouncilError(_("This member has already voted on their own device; only they can change that vote."))
        else:
            vote.choice, vote.recorded_by, vote.changed_at = choice, actor, now
            vote.save(update_fields=["choice", "recorded_by", "changed_at"])
    else:
        if Participation.objects.filter(item=item, member=member).exists():
            raise CouncilError(_("This member has already voted by secret ballot on this item."))
        seal, ballots = _sealed_ballots(item)
        Participation.objects.create(item=item, member=member, recorded_by=actor)
        # Nobody holds this receipt: a ballot cast in the room is final.
        _rewrite_ballots(item, seal, [*ballots, BallotContent(choice=choice, receipt=unheld_receipt())])
    audit.record(item, "council.vote.record", actor=actor, member=member.pk)


def my_choice(*, item: AgendaItem, user) -> str | None:
    """The member's current choice on an open-ballot item; None if none or the ballot is secret."""
    if item.ballot == AgendaItem.Ballot.SECRET or user is None or not user.is_authenticated:
        return None
    return Vote.objects.filter(item=item, member__user=user).values_list("choice", flat=True).first()


def my_secret_choice(*, item: AgendaItem, receipt: str) -> str | None:
    """The choice of the secret ballot that `receipt` (from the voter's device) may change, while voting is open;
    None once it closed (the ballots are plain then and no receipt matches any), or without a matching ballot."""
    if item.ballot != AgendaItem.Ballot.SECRET or item.status != AgendaItem.Status.OPEN or not receipt:
        return None
    if not item.ballot_salt:
        return None
    _seal, ballots = _sealed_ballots(item)
    mine = _mine(ballots, receipt)
    return None if mine is None else ballots[mine].choice


def has_voted(*, item: AgendaItem, user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    rows = Participation if item.ballot == AgendaItem.Ballot.SECRET else Vote
    return rows.objects.filter(item=item, member__user=user).exists()


# --- Results -----------------------------------------------------------------------------------


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def result_digest(result: Result) -> str:
    """SHA-256 of the canonical JSON (sorted keys, UTC times) of a result's fields and the previous digest."""
    canonical = {
        "council": result.council_id,
        "sequence": result.sequence,
        "item": result.item_id,
        "rule": result.rule,
        "ballot": result.ballot,
        "members": result.members,
        "present": result.present,
        "recused": result.recused,
        "quorum_needed": result.quorum_needed,
        "yes": result.yes,
        "no": result.no,
        "abstain": result.abstain,
        "outcome": result.outcome,
        "closed_at": _utc(result.closed_at),
        "previous_digest": result.previous_digest,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _counts(item: AgendaItem) -> dict[str, int]:
    rows = Ballot if item.ballot == AgendaItem.Ballot.SECRET else Vote
    counted = dict(rows.objects.filter(item=item).values_list("choice").annotate(n=Count("pk")).order_by())
    return {choice: counted.get(choice, 0) for choice in Choice.values}


@transaction.atomic
def close_voting(*, item: AgendaItem, actor=None, now: datetime.datetime | None = None) -> Result:
    """Close an item's vote (the chair or staff; `actor` None: the scheduler, once `closes_at` has passed),
    count it, apply its rule and store the result at the end of the council's hash chain."""
    now = now or timezone.now()
    item = _locked_item(item)
    session = item.session
    if actor is not None:
        _require_chair(actor, session)
    if item.status != AgendaItem.Status.OPEN:
        raise CouncilError(_("Voting on this item is not open."))
    if actor is None and (item.closes_at is None or item.closes_at > now):
        raise CouncilError(_("This vote has no closing time yet to pass."))
    council = Council.objects.select_for_update().get(pk=session.council_id)  # one chain writer per council
    previous = Result.objects.filter(council=council).order_by("-sequence").first()
    _unseal_ballots(item)
    counts = _counts(item)
    counted = quorum(item=item)
    closed_at = now
    result = Result(
        item=item,
        council=council,
        sequence=previous.sequence + 1 if previous else 1,
        rule=item.rule,
        ballot=item.ballot,
        members=counted.members,
        present=counted.present,
        recused=counted.recused,
        quorum_needed=counted.needed,
        yes=counts[Choice.YES],
        no=counts[Choice.NO],
        abstain=counts[Choice.ABSTAIN],
        outcome=outcome_of(
            rule=item.rule, yes=counts[Choice.YES], no=counts[Choice.NO], members=counted.members, quorum_met=counted.met
        ),
        closed_at=closed_at,
        closed_by=actor,
        previous_digest=previous.digest if previous else GENESIS_DIGEST,
    )
    result.digest = result_digest(result)
    result.save()
    chain.append_item(item=item, result=result)  # the keyed chain: result, votes or ballots, recusals, attendance
    item.status, item.closed_at, item.closed_by = AgendaItem.Status.CLOSED, closed_at, actor
    item.save(update_fields=["status", "closed_at", "closed_by"])
    audit.record(item, "council.vote.close", actor=actor)
    audit.record(result, "council.result.store", actor=actor, council=council.pk, sequence=result.sequence, digest=result.digest)
    signals.result_stored.send(sender=Result, result=result, actor=actor)  # the follow-up: a decision's notice
    return result


def close_due_items(*, now: datetime.datetime | None = None) -> int:
    """Close every open vote whose closing time has passed; returns how many were closed."""
    now = now or timezone.now()
    closed = 0
    for item in AgendaItem.objects.filter(status=AgendaItem.Status.OPEN, closes_at__lte=now).order_by("closes_at", "pk"):
        try:
            close_voting(item=item, now=now)
        except CouncilError:
            continue  # closed meanwhile by the chair or another run
        closed += 1
    return closed


def _logged_digests(council: Council) -> dict[str, int]:
    """digest → sequence of every result the audit log says was stored for `council`."""
    from wagtail.models import ModelLogEntry

    logged = ModelLogEntry.objects.filter(action="council.result.store", data__council=council.pk)
    return {entry["digest"]: entry["sequence"] for entry in logged.values_list("data", flat=True)}


def verify_results(*, council: Council | None = None, against: Path | None = None) -> list[str]:
    """Problems in the councils' result chains (a changed digest, a broken link, a gap, a stored result gone
    missing from the end, as the audit log remembers it), in their keyed chains (`chain.verify_chain`: a
    changed vote, ballot, attendance, recusal, result or published minutes, a link not signed with the key)
    and, with `against`, differences from the exported copy (`chain.verify_against`); empty when all is well."""
    councils = [council] if council is not None else list(Council.objects.order_by("pk"))
    problems = []
    if against is not None:
        problems += chain.verify_against(path=against, council=council)
    for each in councils:
        problems += chain.verify_chain(council=each)
        previous_digest, expected = GENESIS_DIGEST, 1
        stored = list(Result.objects.filter(council=each).order_by("sequence"))
        present = {result.digest for result in stored}
        for digest, sequence in sorted(_logged_digests(each).items(), key=lambda pair: pair[1]):
            if digest not in present:
                problems.append(
                    _("Council %(council)s: result #%(sequence)s, stored according to the audit log, is missing or changed.")
                    % {"council": each.pk, "sequence": sequence}
                )
        for result in stored:
            where = {"council": each.pk, "sequence": result.sequence, "pk": result.pk}
            if result.sequence != expected:
                problems.append(
                    _("Council %(council)s: result #%(sequence)s (id %(pk)s) follows #%(expected)s: a result is missing.")
                    % {**where, "expected": expected - 1}
                )
            if result.previous_digest != previous_digest:
                problems.append(
                    _("Council %(council)s: result #%(sequence)s (id %(pk)s) does not chain to the result before it.") % where
                )
            if result_digest(result) != result.digest:
                problems.append(
                    _("Council %(council)s: result #%(sequence)s (id %(pk)s) was changed after it was stored.") % where
                )
            previous_digest, expected = result.digest, result.sequence + 1
    return problems
