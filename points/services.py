"""State changes of the points ledger: awards, reversals, spending, expiry, rewards and reservations.

Locking: every change of one resident's points locks that resident's `Account` row and
nothing shared, so residents never queue behind each other. Where more rows are locked,
always in this order: reservation → account → reward. Lots, caps and monthly limits are
read under the account lock, which makes their checks atomic too.
"""

from __future__ import annotations

import datetime
import secrets
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from home.i18n import label
from home.scope import NotStaff, StaffScope, for_user
from home.services import require_verified_resident
from outbox.services import Content, channels_for, notify
from plumbing.links import absolute_url

from . import audit as audit_log
from .models import (
    Account,
    EarningRule,
    ExpiryWarning,
    LedgerEntry,
    Lot,
    LotUse,
    Reservation,
    Reward,
    VolunteerHours,
)

Kind = LedgerEntry.Kind
MAX_HOURS_PER_AWARD = Decimal("24")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at the desk
CODE_LENGTH = 8
WARNING_DAYS = (30, 7)
REFUND_GRACE_DAYS = 30


class PointsError(Exception):
    """A points operation that breaks a rule; the message is shown to the person who tried."""


class NotAllowed(PermissionDenied):
    """The person acting may not do this although they are staff of the resident's community (a rule the
    portal awards by itself). Acting outside one's communities is `home.scope.NotStaff`."""


# ---------------------------------------------------------------------------
# Settings and small helpers


def moment(at: datetime.datetime | None) -> datetime.datetime:
    """When a change happened: now, or `at` for one recorded afterwards (a paper list typed in later,
    the demo's history); never in the future."""
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        raise ValueError("`at` needs a time zone")
    if at > now:
        raise PointsError(_("A change of points cannot be recorded for a moment in the future."))
    return at


def pickup_days() -> int:
    return settings.LINLI_POINTS_PICKUP_DAYS


def default_expiry(earned_on: datetime.date) -> datetime.date | None:
    """Points are valid until the end of the following calendar year, or LINLI_POINTS_VALID_DAYS days."""
    days = settings.LINLI_POINTS_VALID_DAYS
    if days:
        return earned_on + datetime.timedelta(days=days)
    return datetime.date(earned_on.year + 1, 12, 31)


def day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def get_account(*, resident) -> Account:
    account, _created = Account.objects.get_or_create(resident=resident)
    return account


def _lock_account(resident) -> Account:
    get_account(resident=resident)  # its own savepoint: a racing creator makes no difference
    account = Account.objects.select_for_update().get(resident=resident)
    account.resident = resident  # known already: the audit log names it without a query
    return account


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


# ---------------------------------------------------------------------------
# Rules

BUILTIN_RULES = [
    # code, zh name, en name, points, per hour, max per award, daily cap, monthly cap, awarded by, reason required
    ("attendance", "参加活动", "Attending an activity", 5, False, 100, None, None, "automatic", False),
    ("volunteering", "志愿服务", "Volunteering", 10, True, 80, 80, None, "staff", False),
    ("garbage_sorting", "垃圾分类检查", "Garbage-sorting check", 2, False, 2, 2, 60, "grid_worker", False),
    ("adopted_suggestion", "建议被采纳", "Adopted suggestion", 20, False, 50, None, 100, "automatic", False),
    ("health_checkin", "健康运动打卡", "Health exercise check-in", 1, False, 1, 1, 31, "grid_worker", False),
    ("staff_award", "工作人员奖励", "Discretionary staff award", 10, False, 50, None, 200, "staff", True),
    ("council_attendance", "参加居民议事会", "Attending a council session", 5, False, 20, 20, None, "automatic", False),
    # Neighbour help (neighbours/): both sides confirmed; also capped per pair of neighbours a month there.
    ("neighbour_help", "邻里互助", "Neighbour help", 5, False, 10, 10, 40, "automatic", False),
]


@transaction.atomic
def ensure_builtin_rules() -> list[EarningRule]:
    """The built-in rules, named in both languages (idempotent; edits are kept)."""
    rules = []
    for code, name, name_en, points, per_hour, max_points, daily, monthly, awarded_by, reason in BUILTIN_RULES:
        rule, _created = EarningRule.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "points": points,
                "per_hour": per_hour,
                "max_points": max_points,
                "daily_cap": daily,
                "monthly_cap": monthly,
                "awarded_by": awarded_by,
                "reason_required": reason,
            },
        )
        rules.append(rule)
    return rules


def get_rule(code: str) -> EarningRule:
    """The rule of this code (the built-in ones are made on first use)."""
    rule = EarningRule.objects.filter(code=code).first()
    if rule is None and code in {row[0] for row in BUILTIN_RULES}:
        ensure_builtin_rules()
        rule = EarningRule.objects.filter(code=code).first()
    if rule is None:
        raise PointsError(_("There is no earning rule “%(code)s”.") % {"code": code})
    return rule


def _points_for(rule: EarningRule, amount: int | None, hours: Decimal | None) -> int:
    if hours is not None:
        hours = Decimal(hours)
        if hours <= 0 or hours > MAX_HOURS_PER_AWARD:
            raise PointsError(_("Hours must be more than 0 and at most %(most)s.") % {"most": MAX_HOURS_PER_AWARD})
    if rule.per_hour and hours is None:
        raise PointsError(_("This rule gives points per hour: enter the hours."))
    if amount is None:
        amount = int((rule.points * hours).quantize(Decimal("1"), ROUND_HALF_UP)) if rule.per_hour else rule.points
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise PointsError(_("Points must be a whole number."))
    if amount < 1:
        raise PointsError(_("Points must be at least 1."))
    if amount > rule.max_points:
        raise PointsError(_("“%(rule)s” gives at most %(most)s points at a time.") % {"rule": rule.name, "most": rule.max_points})
    return amount


def _check_caps(account: Account, rule: EarningRule, amount: int, day: datetime.date) -> None:
    """Net points of this rule on that day and in its month (reversals count back); under the account lock."""
    month_start = day.replace(day=1)
    next_month = (month_start + datetime.timedelta(days=32)).replace(day=1)
    for cap, days, message in (
        (rule.daily_cap, (day, day), _("“%(rule)s” is capped at %(cap)s points a day; %(left)s left that day.")),
        (
            rule.monthly_cap,
            (month_start, next_month - datetime.timedelta(days=1)),
            _("“%(rule)s” is capped at %(cap)s points a month; %(left)s left that month."),
        ),
    ):
        if cap is None:
            continue
        used = LedgerEntry.objects.filter(account=account, rule=rule, occurred_on__range=days).aggregate(
            total=Coalesce(Sum("amount"), 0)
        )["total"]
        if used + amount > cap:
            raise PointsError(message % {"rule": rule.name, "cap": cap, "left": max(cap - used, 0)})


# ---------------------------------------------------------------------------
# Writing entries (inside a transaction, with the account locked)


def _write(account: Account, *, kind: str, amount: int, key: str, actor=None, **fields) -> LedgerEntry:
    created_at = fields.setdefault("created_at", timezone.now())
    fields.setdefault("occurred_on", timezone.localdate(created_at))
    account.balance += amount
    if account.balance < 0:
        raise PointsError(_("Not enough points."))
    account.save(update_fields=["balance", "volunteer_hours"])
    return LedgerEntry.objects.create(
        account=account, kind=kind, amount=amount, balance_after=account.balance, idempotency_key=key, actor=actor, **fields
    )


def _take_from_lots(account: Account, entry: LedgerEntry, points: int, *, first: Lot | None = None) -> None:
    """Take points from the soonest-expiring lots (a given lot first), recording each use."""
    lots = list(Lot.objects.filter(account=account, remaining__gt=0).order_by(F("expires_on").asc(nulls_last=True), "pk"))
    if first is not None:
        lots.sort(key=lambda lot: lot.pk != first.pk)
    for lot in lots:
        if points == 0:
            break
        taken = min(lot.remaining, points)
        lot.remaining -= taken
        lot.save(update_fields=["remaining"])
        LotUse.objects.create(lot=lot, entry=entry, amount=taken)
        points -= taken
    if points:
        raise PointsError(_("Not enough points."))  # cannot happen while the ledger is consistent


def _earn(account: Account, *, kind: str, amount: int, key: str, now: datetime.datetime, expires_on=None, **fields):
    entry = _write(account, kind=kind, amount=amount, key=key, created_at=now, **fields)
    Lot.objects.create(
        account=account,
        entry=entry,
        amount=amount,
        remaining=amount,
        expires_on=expires_on if expires_on is not None else default_expiry(timezone.localdate(now)),
    )
    return entry


def _spend(account: Account, *, kind: str, amount: int, key: str, now: datetime.datetime, **fields) -> LedgerEntry:
    if amount > account.balance:
        raise PointsError(
            ngettext(
                "You need %(needed)s point but have %(balance)s.", "You need %(needed)s points but have %(balance)s.", amount
            )
            % {"needed": amount, "balance": account.balance}
        )
    entry = _write(account, kind=kind, amount=-amount, key=key, created_at=now, **fields)
    _take_from_lots(account, entry, amount)
    return entry


# ---------------------------------------------------------------------------
# Awards and reversals: the interface other apps call


def award(
    *,
    resident,
    rule_code: str,
    source_key: str,
    amount: int | None = None,
    hours: Decimal | None = None,
    actor=None,
    reason: str = "",
    on: datetime.date | None = None,
    at: datetime.datetime | None = None,
) -> LedgerEntry | None:
    """Award points for one source event (e.g. "events.attendance:123"), at most once.

    A repeated call for the same source returns None and writes nothing; after the award
    was reversed (the source undone), a new call awards again. `amount` None means the
    rule's points (per hour × `hours` for hourly rules). Checks the rule's limits and caps,
    not who is acting: callers check that (see `award_by_staff`). `on` is the day of the
    event (default today); caps count by it and its points are valid from it. `at` is when
    the award is recorded (default now; see `moment`), and `on` may not be after its day.
    """
    terms = _award_terms(rule_code=rule_code, source_key=source_key, amount=amount, hours=hours, reason=reason, on=on, at=at)
    with transaction.atomic():
        return _write_award(resident, terms, actor=actor)


@dataclass(frozen=True)
class _Award:
    """An award's checked terms, before the account is locked."""

    rule: EarningRule
    source_key: str
    amount: int
    hours: Decimal | None
    reason: str
    day: datetime.date
    now: datetime.datetime


def _award_terms(*, rule_code: str, source_key: str, amount, hours, reason: str, on, at=None) -> _Award:
    source_key = (source_key or "").strip()
    if not source_key or len(source_key) > 120:
        raise PointsError(_("An award needs a source of at most 120 characters."))
    rule = get_rule(rule_code)
    if not rule.active:
        raise PointsError(_("The rule “%(rule)s” is not active.") % {"rule": rule.name})
    amount = _points_for(rule, amount, hours)
    reason = (reason or "").strip()
    if rule.reason_required and not reason:
        raise PointsError(_("Please give a reason for this award."))
    now = moment(at)
    day = on or timezone.localdate(now)
    if day > timezone.localdate(now):
        raise PointsError(_("Points cannot be awarded for a day in the future."))
    return _Award(rule, source_key, amount, hours, reason, day, now)


def _write_award(resident, terms: _Award, *, actor) -> LedgerEntry | None:
    """The award itself, inside the caller's transaction: None if its source already earned."""
    rule, source_key, amount, hours = terms.rule, terms.source_key, terms.amount, terms.hours
    account = _lock_account(resident)
    earlier = list(LedgerEntry.objects.filter(source_key=source_key, kind=Kind.EARN).select_related("reversed_by").order_by("pk"))
    if earlier and earlier[0].account_id != account.pk:
        raise PointsError(_("This source has already earned points for another resident."))
    if any(not hasattr(entry, "reversed_by") for entry in earlier):
        return None
    _check_caps(account, rule, amount, terms.day)
    key = f"award:{source_key}" + (f"#{len(earlier) + 1}" if earlier else "")
    if hours is not None:
        account.volunteer_hours += Decimal(hours)
    entry = _earn(
        account,
        kind=Kind.EARN,
        amount=amount,
        key=key,
        now=terms.now,
        expires_on=default_expiry(terms.day),
        occurred_on=terms.day,
        rule=rule,
        source_key=source_key,
        actor=actor,
        reason=terms.reason,
    )
    if hours is not None:
        VolunteerHours.objects.create(account=account, entry=entry, hours=Decimal(hours), created_at=terms.now)
    return entry


def reverse_award(*, source_key: str, actor=None, reason: str = "") -> LedgerEntry | None:
    """Take back the award of this source (its check-in was removed...); None if there is none to reverse."""
    entry = (
        LedgerEntry.objects.filter(source_key=source_key, kind=Kind.EARN, reversed_by__isnull=True)
        .select_related("account")
        .order_by("-pk")
        .first()
    )
    if entry is None:
        return None
    return reverse_entry(entry=entry, actor=actor, reason=reason, quiet=True)


def reverse_entry(*, entry: LedgerEntry, actor=None, reason: str = "", quiet: bool = False) -> LedgerEntry | None:
    """A correction: the opposite of `entry`, pointing at it. Earned points already spent are
    taken back only as far as the balance allows (it never goes below zero)."""
    _check_reversible(entry)
    with transaction.atomic():
        return _reverse_locked(entry, actor=actor, reason=reason, quiet=quiet)


def _check_reversible(entry: LedgerEntry) -> None:
    if entry.kind in (Kind.EXPIRE, Kind.REVERSE):
        raise PointsError(_("Expiry and reversal entries cannot be reversed; make an adjustment instead."))
    if entry.kind == Kind.SPEND and hasattr(entry, "reservation"):
        raise PointsError(_("A reservation is refunded by cancelling it."))


def _reverse_locked(entry: LedgerEntry, *, actor, reason: str, quiet: bool) -> LedgerEntry | None:
    """Inside the caller's transaction: lock the account, refuse a second reversal, reverse."""
    account = Account.objects.select_for_update().get(pk=entry.account_id)
    if LedgerEntry.objects.filter(reverses=entry).exists():
        if quiet:
            return None
        raise PointsError(_("This entry has already been reversed."))
    return _reverse(account, entry, actor=actor, reason=reason, now=timezone.now())


def _reverse(account: Account, entry: LedgerEntry, *, actor, reason: str, now: datetime.datetime) -> LedgerEntry:
    key = f"reverse:{entry.pk}"
    fields = {
        "rule": entry.rule,
        "source_key": entry.source_key,
        "reverses": entry,
        "actor": actor,
        "reason": reason,
        "occurred_on": entry.occurred_on,
    }
    if entry.amount < 0:  # give back what a spend or a negative adjustment took, into the same lots
        entry_out = _write(account, kind=Kind.REVERSE, amount=-entry.amount, key=key, created_at=now, **fields)
        today = timezone.localdate(now)
        lapsed = 0
        for use in LotUse.objects.filter(entry=entry).select_related("lot"):
            lot = use.lot
            if lot.expires_on is not None and lot.expires_on < today:
                lapsed += use.amount
                continue
            lot.remaining += use.amount
            lot.save(update_fields=["remaining"])
            LotUse.objects.create(lot=lot, entry=entry_out, amount=-use.amount)
        if lapsed:  # points whose lot has expired meanwhile get a short new life
            Lot.objects.create(
                account=account,
                entry=entry_out,
                amount=lapsed,
                remaining=lapsed,
                expires_on=today + datetime.timedelta(days=REFUND_GRACE_DAYS),
            )
        return entry_out
    lot = getattr(entry, "lot", None)
    expired = 0
    if lot is not None:
        expired = LotUse.objects.filter(lot=lot, entry__kind=Kind.EXPIRE).aggregate(total=Coalesce(Sum("amount"), 0))["total"]
    take = min(entry.amount - expired, account.balance)
    hours = getattr(entry, "volunteer_hours", None)
    if hours is not None:
        account.volunteer_hours -= hours.hours
    entry_out = _write(account, kind=Kind.REVERSE, amount=-take, key=key, created_at=now, **fields)
    if take:
        _take_from_lots(account, entry_out, take, first=lot)
    if hours is not None:
        VolunteerHours.objects.create(account=account, entry=entry_out, hours=-hours.hours, created_at=now)
    return entry_out


# ---------------------------------------------------------------------------
# Staff: who may award, manual awards and adjustments


def resident_community_id(resident) -> int | None:
    profile = getattr(resident, "profile", None)
    return profile.community_id if profile is not None else None


def check_staff_for(*, actor, resident, scope: StaffScope | None = None) -> StaffScope:
    """Refuse (`NotStaff`) unless `actor` is staff of the resident's community; returns the actor's scope.
    `scope`: the actor's scope when the caller has it already (one per request or sheet)."""
    if not actor.is_active:
        raise NotStaff(_("Your account is not active."))
    scope = scope or for_user(actor)
    if not scope.everything:
        profile = getattr(resident, "profile", None)
        community = profile.community if profile is not None and profile.community_id is not None else None
        scope.require(community, message=_("You may act only for residents of your own community."))
    return scope


def award_by_staff(
    *,
    actor,
    resident,
    rule_code: str,
    amount: int | None = None,
    hours: Decimal | None = None,
    reason: str = "",
    source_key: str = "",
    on: datetime.date | None = None,
) -> LedgerEntry | None:
    """A staff member awards points by hand (admin form); recorded with its author, in the ledger and the audit log."""
    return _award_by_staff(
        actor=actor,
        resident=resident,
        rule_code=rule_code,
        amount=amount,
        hours=hours,
        reason=reason,
        source_key=source_key,
        on=on,
        action="points.award",
    )


def _award_by_staff(
    *, actor, resident, rule_code, amount, hours, reason, source_key, on, action: str, scope: StaffScope | None = None
) -> LedgerEntry | None:
    scope = check_staff_for(actor=actor, resident=resident, scope=scope)
    rule = get_rule(rule_code)
    if rule.awarded_by == EarningRule.AwardedBy.AUTOMATIC and not scope.everything:
        raise NotAllowed(_("“%(rule)s” is awarded by the portal itself, not by hand.") % {"rule": rule.name})
    terms = _award_terms(
        rule_code=rule_code,
        source_key=source_key or f"manual:{secrets.token_hex(8)}",
        amount=amount,
        hours=hours,
        reason=reason,
        on=on,
    )
    with transaction.atomic():
        entry = _write_award(resident, terms, actor=actor)
        if entry is not None:
            audit_log.record(
                entry.account,
                action,
                actor=actor,
                entry=entry.pk,
                points=entry.amount,
                rule=rule.code,
                day=terms.day.isoformat(),
                reason=terms.reason,
            )
    return entry


def reverse_by_staff(*, actor, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Staff take back one entry (a manual award or adjustment) with a reason; in the audit log with its author."""
    check_staff_for(actor=actor, resident=entry.account.resident)
    _check_reversible(entry)
    with transaction.atomic():
        reversal = _reverse_locked(entry, actor=actor, reason=reason, quiet=False)
        audit_log.record(reversal.account, "points.reverse", actor=actor, entry=entry.pk, points=reversal.amount, reason=reason)
    return reversal


def adjust(*, actor, resident, amount: int, reason: str, key: str = "") -> LedgerEntry:
    """A correction by staff, up or down, with a reason; never below zero; in the audit log with its author."""
    check_staff_for(actor=actor, resident=resident)
    reason = (reason or "").strip()
    if not reason:
        raise PointsError(_("Please give a reason for this adjustment."))
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0 or abs(amount) > 1000:
        raise PointsError(_("An adjustment is a whole number of points between -1000 and 1000, not zero."))
    now = timezone.now()
    key = f"adjust:{key or secrets.token_hex(8)}"
    with transaction.atomic():
        account = _lock_account(resident)
        if LedgerEntry.objects.filter(idempotency_key=key).exists():
            raise PointsError(_("This adjustment has already been made."))
        if amount > 0:
            entry = _earn(account, kind=Kind.ADJUST, amount=amount, key=key, now=now, actor=actor, reason=reason)
        else:
            entry = _spend(account, kind=Kind.ADJUST, amount=-amount, key=key, now=now, actor=actor, reason=reason)
        audit_log.record(account, "points.adjust", actor=actor, entry=entry.pk, points=entry.amount, reason=reason)
    return entry


# ---------------------------------------------------------------------------
# Rewards and reservations


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _index in range(CODE_LENGTH))


def may_redeem(*, resident, reward: Reward) -> bool:
    return reward.community_id is None or reward.community_id == resident_community_id(resident)


def exchanged_this_month(*, resident, rewards: list[Reward], now: datetime.datetime | None = None) -> dict[int, int]:
    """How many times this calendar month the resident exchanged each of the rewards that have a
    monthly limit (reserved or collected), by reward id; one query for them all."""
    limited = [reward.pk for reward in rewards if reward.monthly_limit is not None]
    if not limited:
        return {}
    month_start = day_start(timezone.localdate(now or timezone.now()).replace(day=1))
    rows = (
        Reservation.objects.filter(
            resident=resident,
            reward_id__in=limited,
            created_at__gte=month_start,
            status__in=[Reservation.Status.RESERVED, Reservation.Status.COLLECTED],
        )
        .values("reward_id")
        .annotate(count=Count("pk"))
    )
    return {row["reward_id"]: row["count"] for row in rows}


def redeem(
    *, resident, reward: Reward, at: datetime.datetime | None = None, request_token: uuid.UUID | None = None
) -> Reservation:
    """Reserve a reward: the points are debited and the stock counted down in one transaction.
    `at` is when it was reserved (default now; see `moment`): availability, the monthly limit and
    the pickup deadline count from it. A replayed request (same `request_token`) returns the
    reservation it made the first time and spends nothing more."""
    if request_token is not None and (first := _replayed(resident=resident, request_token=request_token)) is not None:
        return first
    require_verified_resident(resident)
    now = moment(at)
    if not reward.is_available(timezone.localdate(now)):
        raise PointsError(_("“%(reward)s” is not available now.") % {"reward": label(reward, mark_missing=True)})
    if not may_redeem(resident=resident, reward=reward):
        raise PointsError(
            _("“%(reward)s” is only for residents of its community.") % {"reward": label(reward, mark_missing=True)}
        )
    with transaction.atomic():
        account = _lock_account(resident)
        # Under the account lock: a retry racing its first request waits for it, then finds its reservation.
        if request_token is not None and (first := _replayed(resident=resident, request_token=request_token)) is not None:
            return first
        reward = Reward.objects.select_for_update().get(pk=reward.pk)
        if reward.stock < 1:
            raise PointsError(_("“%(reward)s” is out of stock.") % {"reward": label(reward, mark_missing=True)})
        if reward.monthly_limit is not None:
            taken = exchanged_this_month(resident=resident, rewards=[reward], now=now).get(reward.pk, 0)
            if taken >= reward.monthly_limit:
                raise PointsError(
                    _("You may exchange “%(reward)s” at most %(limit)s times a month.")
                    % {"reward": label(reward, mark_missing=True), "limit": reward.monthly_limit}
                )
        code = _new_code()
        entry = _spend(
            account, kind=Kind.SPEND, amount=reward.cost, key=f"reservation:{code}", now=now, reason=reward.name, actor=resident
        )
        reward.stock -= 1
        reward.save(update_fields=["stock"])
        try:
            reservation = Reservation.objects.create(
                resident=resident,
                reward=reward,
                cost=reward.cost,
                code=code,
                spend_entry=entry,
                created_at=now,
                collect_by=now + datetime.timedelta(days=pickup_days()),
                request_token=request_token,
            )
        except IntegrityError as error:
            if request_token is None:
                raise
            # Another resident's request with the same token won the race (the locks are per resident).
            raise PointsError(_("This request was already used. Please reload the page.")) from error
        _tell_about_reservation(reservation, kind="points.reward_reserved")
        return reservation


def _replayed(*, resident, request_token: uuid.UUID) -> Reservation | None:
    """The reservation an earlier request with this token made; another resident's token is refused."""
    first = Reservation.objects.filter(request_token=request_token).first()
    if first is not None and first.resident_id != resident.pk:
        raise PointsError(_("This request was already used. Please reload the page."))
    return first


def _tell_about_reservation(reservation: Reservation, *, kind: str) -> None:
    """The pick-up code and where and until when to collect it (`points.reward_reserved`), or that it was
    not collected in time and the points are back (`points.reservation_expired`); queued with the change."""
    resident = reservation.resident
    profile = getattr(resident, "profile", None)

    def render() -> Content:
        language = translation.get_language()
        reward = reservation.reward
        collect_by = timezone.localtime(reservation.collect_by)
        context = {
            "name": (profile and profile.display_name) or resident.email or (profile and profile.mobile) or "",
            "reward": label(reward),
            "code": format_code(reservation.code),
            "collect_by": collect_by,
            "place": label(reward, "pickup_place"),
            "hours": label(reward, "pickup_hours"),
            "points": reservation.cost,
            "url": absolute_url(f"/{language}/me/points/"),
        }
        if kind == "points.reward_reserved":
            subject = _("Pick-up code %(code)s: %(reward)s") % {"code": context["code"], "reward": context["reward"]}
            params = {
                "reward": context["reward"],
                "code": context["code"],
                "date": collect_by.date().isoformat(),
                "place": context["place"],
            }
        else:
            subject = _("Not collected: %(reward)s, your points are back") % {"reward": context["reward"]}
            params = {"reward": context["reward"], "date": collect_by.date().isoformat(), "points": reservation.cost}
        body = render_to_string(f"points/mail/{kind.split('.', 1)[1]}.txt", context)
        return Content(subject=subject, body=body, params=params)

    notify(kind=kind, recipient=resident, render=render, idempotency_key=f"{kind}:{reservation.pk}")


def _refund(reservation: Reservation, *, status: str, actor, reason: str) -> Reservation:
    """With the reservation locked: points back by a reversal, stock back, status set."""
    now = timezone.now()
    account = Account.objects.select_for_update().get(resident_id=reservation.resident_id)
    refund = _reverse(account, reservation.spend_entry, actor=actor, reason=reason, now=now)
    Reward.objects.filter(pk=reservation.reward_id).update(stock=F("stock") + 1)
    reservation.status = status
    reservation.refund_entry = refund
    reservation.save(update_fields=["status", "refund_entry"])
    return reservation


def cancel_reservation(*, reservation: Reservation, actor) -> Reservation:
    """The resident (or staff of their community) cancels before pickup; the points come back. Staff cancelling
    for the resident is in the audit log."""
    by_staff = actor.pk != reservation.resident_id
    if by_staff:
        resident = reservation.resident
        check_staff_for(actor=actor, resident=resident)
    with transaction.atomic():
        reservation = Reservation.objects.select_for_update().select_related("spend_entry").get(pk=reservation.pk)
        if reservation.status != Reservation.Status.RESERVED:
            raise PointsError(_("Only a reservation waiting for pickup can be cancelled."))
        _refund(reservation, status=Reservation.Status.CANCELLED, actor=actor, reason=_("Reservation cancelled"))
        if by_staff:
            account = reservation.refund_entry.account
            account.resident = resident
            audit_log.record(
                account,
                "points.reservation.cancel",
                actor=actor,
                reservation=reservation.pk,
                reward=reservation.reward_id,
                points=reservation.refund_entry.amount,
            )
        return reservation


def find_reservation(*, code: str, actor) -> Reservation:
    """The reservation of a pickup code, for staff of the resident's or reward's community."""
    reservation = (
        Reservation.objects.select_related("reward", "resident__profile__community", "resident__points_account")
        .filter(code=normalise_code(code))
        .first()
    )
    if reservation is None:
        raise PointsError(_("No reservation has this code."))
    check_staff_for(actor=actor, resident=reservation.resident)
    return reservation


def hand_over(*, code: str, actor, at: datetime.datetime | None = None) -> Reservation:
    """Staff at the service desk hand the gift over against its code (typed or scanned). `at` is
    when it was handed over (default now; see `moment`), not before it was reserved."""
    now = moment(at)
    reservation = find_reservation(code=code, actor=actor)
    resident = reservation.resident
    with transaction.atomic():
        reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if reservation.status == Reservation.Status.COLLECTED:
            raise PointsError(
                _("This gift was already handed over on %(date)s.")
                % {"date": timezone.localtime(reservation.collected_at).strftime("%Y-%m-%d %H:%M")}
            )
        if reservation.status != Reservation.Status.RESERVED:
            raise PointsError(
                _("This reservation is %(status)s; nothing to hand over.") % {"status": reservation.get_status_display()}
            )
        if now < reservation.created_at:
            raise PointsError(_("A gift cannot be handed over before it was reserved."))
        if reservation.collect_by < now:
            raise PointsError(_("This reservation was not collected in time; its points are being refunded."))
        reservation.status = Reservation.Status.COLLECTED
        reservation.collected_at = now
        reservation.handed_over_by = actor
        reservation.save(update_fields=["status", "collected_at", "handed_over_by"])
        audit_log.record(
            resident.points_account,  # its points were spent when reserving: nothing on it changes
            "points.reward.hand_over",
            actor=actor,
            reservation=reservation.pk,
            reward=reservation.reward_id,
            code=format_code(reservation.code),
        )
    return reservation


def expire_reservations(*, now: datetime.datetime | None = None) -> int:
    """Refund reservations not collected in time (each in its own transaction); returns how many."""
    now = now or timezone.now()
    count = 0
    due = Reservation.objects.filter(status=Reservation.Status.RESERVED, collect_by__lt=now).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            reservation = Reservation.objects.select_for_update().select_related("spend_entry").get(pk=pk)
            if reservation.status != Reservation.Status.RESERVED:
                continue
            _refund(reservation, status=Reservation.Status.EXPIRED, actor=None, reason=_("Not collected in time"))
            _tell_about_reservation(reservation, kind="points.reservation_expired")
            count += 1
    return count


# ---------------------------------------------------------------------------
# Expiry of points


def expire_points(*, today: datetime.date | None = None) -> int:
    """Write an expiry entry for each lot past its last valid day (idempotent); returns points expired."""
    today = today or timezone.localdate()
    total = 0
    accounts = Lot.objects.filter(remaining__gt=0, expires_on__lt=today).values_list("account_id", flat=True).distinct()
    for account_id in list(accounts):
        with transaction.atomic():
            account = Account.objects.select_for_update().get(pk=account_id)
            for lot in Lot.objects.filter(account=account, remaining__gt=0, expires_on__lt=today).order_by("expires_on", "pk"):
                entry = _write(
                    account,
                    kind=Kind.EXPIRE,
                    amount=-lot.remaining,
                    key=f"expire:lot:{lot.pk}",
                    reason=_("Points earned up to %(date)s expired") % {"date": lot.expires_on.isoformat()},
                )
                LotUse.objects.create(lot=lot, entry=entry, amount=lot.remaining)
                total += lot.remaining
                lot.remaining = 0
                lot.save(update_fields=["remaining"])
    return total


@dataclass(frozen=True)
class Expiring:
    expires_on: datetime.date
    points: int


def expiring_points(*, account: Account, within_days: int | None = None) -> list[Expiring]:
    """What expires when, soonest first (points that never expire are left out)."""
    lots = Lot.objects.filter(account=account, remaining__gt=0, expires_on__isnull=False)
    if within_days is not None:
        lots = lots.filter(expires_on__lte=timezone.localdate() + datetime.timedelta(days=within_days))
    rows = lots.values("expires_on").annotate(points=Sum("remaining")).order_by("expires_on")
    return [Expiring(row["expires_on"], row["points"]) for row in rows]


def send_expiry_warnings(*, today: datetime.date | None = None) -> int:
    """E-mail residents whose points expire in 30 or 7 days (once per day and warning); returns mails sent."""
    today = today or timezone.localdate()
    sent = 0
    horizon = today + datetime.timedelta(days=max(WARNING_DAYS))
    rows = (
        Lot.objects.filter(remaining__gt=0, expires_on__gte=today, expires_on__lte=horizon)
        .values("account_id", "expires_on")
        .annotate(points=Sum("remaining"))
        .order_by("account_id", "expires_on")
    )
    for row in rows:
        days_left = (row["expires_on"] - today).days
        days_ahead = min(days for days in WARNING_DAYS if days >= days_left)
        if ExpiryWarning.objects.filter(
            account_id=row["account_id"], expires_on=row["expires_on"], days_ahead__lte=days_ahead
        ).exists():
            continue
        account = Account.objects.select_related("resident__profile").get(pk=row["account_id"])
        if not channels_for(account.resident, "points.expiry_warning"):
            continue
        with transaction.atomic():
            warning = ExpiryWarning.objects.create(
                account=account, expires_on=row["expires_on"], days_ahead=days_ahead, points=row["points"]
            )
            _mail_expiry_warning(account, warning=warning)
        sent += 1
    return sent


def _mail_expiry_warning(account: Account, *, warning: ExpiryWarning) -> None:
    expires_on, points = warning.expires_on, warning.points
    resident = account.resident
    profile = getattr(resident, "profile", None)

    def render() -> Content:
        language = translation.get_language()
        context = {"name": (profile and profile.display_name) or resident.email, "points": points, "date": expires_on}
        context["url"] = absolute_url(f"/{language}/me/points/")
        subject = ngettext("%(points)s point expires on %(date)s", "%(points)s points expire on %(date)s", points) % {
            "points": points,
            "date": expires_on.isoformat(),
        }
        body = render_to_string("points/mail/expiry_warning.txt", context)
        return Content(subject=subject, body=body, params={"points": points, "date": expires_on.isoformat()})

    notify(
        kind="points.expiry_warning",
        recipient=resident,
        render=render,
        idempotency_key=f"points.expiry_warning:{warning.pk}",
    )


HONOURS_GENERATION_KEY = "points:honours:generation"


def honours_generation() -> str:
    """Part of the cached honours roll's key: a new one whenever somebody joins or leaves the roll."""
    from django.core.cache import cache

    generation = cache.get(HONOURS_GENERATION_KEY)
    if generation is None:
        generation = secrets.token_hex(6)
        cache.add(HONOURS_GENERATION_KEY, generation, None)
        generation = cache.get(HONOURS_GENERATION_KEY, generation)
    return generation


def set_honours_opt_in(*, resident, opt_in: bool) -> Account:
    """Join or leave the honours roll; leaving takes effect at once (the cached roll is dropped)."""
    from django.core.cache import cache

    account = get_account(resident=resident)
    account.honours_opt_in = bool(opt_in)
    account.save(update_fields=["honours_opt_in"])
    from home.signals import invalidate_page_cache

    def forget_roll() -> None:
        cache.set(HONOURS_GENERATION_KEY, secrets.token_hex(6), None)

    # At once and again at commit, as for publishing: a roll computed meanwhile is never served.
    forget_roll()
    transaction.on_commit(forget_roll)
    invalidate_page_cache()  # anonymous visitors' cached copy of the roll too
    return account


# ---------------------------------------------------------------------------
# Audit


def audit() -> list[str]:
    """Every inconsistency of the ledger, as readable lines; empty when all is well.

    Checked with a handful of grouped queries, so it stays fast on millions of entries:
    balance == sum of entries == sum of lot remainders; hours == sum of hour records;
    each lot's remainder == amount - its uses; each entry's balance_after chain ends at the balance.
    """
    problems: list[str] = []
    entry_sums = dict(LedgerEntry.objects.values("account_id").annotate(total=Sum("amount")).values_list("account_id", "total"))
    lot_sums = dict(Lot.objects.values("account_id").annotate(total=Sum("remaining")).values_list("account_id", "total"))
    hour_sums = dict(VolunteerHours.objects.values("account_id").annotate(total=Sum("hours")).values_list("account_id", "total"))
    last_balance = dict(
        LedgerEntry.objects.filter(
            pk__in=LedgerEntry.objects.values("account_id").annotate(last=Max("pk")).values("last")
        ).values_list("account_id", "balance_after")
    )
    for account in Account.objects.only("pk", "balance", "volunteer_hours").iterator():
        entries = entry_sums.get(account.pk) or 0
        lots = lot_sums.get(account.pk) or 0
        hours = hour_sums.get(account.pk) or Decimal("0")
        if account.balance != entries:
            problems.append(f"account {account.pk}: balance {account.balance} != sum of entries {entries}")
        if account.balance != lots:
            problems.append(f"account {account.pk}: balance {account.balance} != sum of lot remainders {lots}")
        if account.volunteer_hours != hours:
            problems.append(f"account {account.pk}: volunteer hours {account.volunteer_hours} != sum of records {hours}")
        if account.pk in last_balance and last_balance[account.pk] != account.balance:
            problems.append(f"account {account.pk}: last entry says {last_balance[account.pk]}, balance is {account.balance}")
        if account.balance < 0:
            problems.append(f"account {account.pk}: negative balance {account.balance}")
    used = Lot.objects.annotate(used=Coalesce(Sum("uses__amount"), 0)).exclude(remaining=F("amount") - F("used"))
    for lot in used.only("pk", "amount", "remaining")[:100]:
        problems.append(f"lot {lot.pk}: remaining {lot.remaining} != amount {lot.amount} - uses {lot.used}")
    for reward in Reward.objects.filter(stock__lt=0).only("pk", "stock"):
        problems.append(f"reward {reward.pk}: negative stock {reward.stock}")
    doubled = LedgerEntry.objects.filter(kind=Kind.EARN).exclude(source_key="").values("source_key")
    doubled = doubled.annotate(live=Count("pk", filter=Q(reversed_by__isnull=True))).filter(live__gt=1)
    for row in doubled[:100]:
        problems.append(f"source {row['source_key']}: awarded {row['live']} times")
    return problems


# ---------------------------------------------------------------------------
# Bulk awards from a sheet


class _DryRun(Exception):
    """Raised to roll a dry run back after every row was really tried."""


@dataclass
class RowResult:
    number: int
    resident: str
    rule: str
    date: str
    points: int | None = None
    status: str = ""  # awarded, repeat, error
    message: str = ""


def find_resident(*, actor, identifier: str, scope: StaffScope | None = None):
    """A resident of `actor`'s communities by mobile number or e-mail address."""
    from django.contrib.auth import get_user_model

    from home.phone import mobile_or_none

    identifier = identifier.strip()
    users = get_user_model().objects.filter(is_active=True)
    if "@" in identifier:
        users = users.filter(email__iexact=identifier)
    else:
        identifier = mobile_or_none(identifier) or identifier.replace(" ", "").replace("-", "")
        users = users.filter(profile__mobile=identifier)
    users = (scope or for_user(actor)).filter(users, "profile__community")
    found = list(users.select_related("profile__community")[:2])
    if len(found) != 1:
        raise PointsError(
            _("No resident of your community has the mobile number or e-mail “%(id)s”.") % {"id": identifier}
            if not found
            else _("More than one resident has “%(id)s”; award them one by one.") % {"id": identifier}
        )
    return found[0]


def bulk_award(*, actor, rows: list, dry_run: bool) -> list[RowResult]:
    """Award every row of a sheet, each on its own; a dry run tries them all and rolls back.

    Each row's source is its rule, resident and day, so uploading the same sheet again
    awards nothing new, and a dry run shows exactly what a real run would do (caps too).
    """
    results: list[RowResult] = []
    scope = for_user(actor)  # the actor's communities, read once for the whole sheet
    try:
        with transaction.atomic():
            for row in rows:
                result = RowResult(number=row.number, resident=row.resident, rule=row.rule, date=row.date)
                results.append(result)
                try:
                    with transaction.atomic():
                        entry = _award_row(actor=actor, row=row, scope=scope)
                except (PointsError, PermissionDenied) as error:
                    result.status, result.message = "error", str(error)
                    continue
                if entry is None:
                    result.status, result.message = "repeat", _("Already awarded; nothing new.")
                else:
                    result.status, result.points = "awarded", entry.amount
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return results


def _award_row(*, actor, row, scope: StaffScope) -> LedgerEntry | None:
    resident = find_resident(actor=actor, identifier=row.resident, scope=scope)
    try:
        day = datetime.date.fromisoformat(row.date)
    except ValueError:
        raise PointsError(_("“%(date)s” is not a date like 2026-11-23.") % {"date": row.date}) from None
    amount = hours = None
    if row.points:
        if not row.points.lstrip("-").isdigit() or len(row.points) > 9:
            raise PointsError(_("“%(points)s” is not a whole number of points.") % {"points": row.points})
        amount = int(row.points)
    if row.hours:
        try:
            hours = Decimal(row.hours)
        except ArithmeticError:
            raise PointsError(_("“%(hours)s” is not a number of hours.") % {"hours": row.hours}) from None
        if not hours.is_finite():
            raise PointsError(_("“%(hours)s” is not a number of hours.") % {"hours": row.hours})
    rule = get_rule(row.rule.strip())
    source_key = f"bulk:{rule.code}:{resident.pk}:{day.isoformat()}"
    return _award_by_staff(
        actor=actor,
        resident=resident,
        rule_code=rule.code,
        amount=amount,
        hours=hours,
        reason=row.reason,
        source_key=source_key,
        on=day,
        action="points.award.sheet",
        scope=scope,
    )
