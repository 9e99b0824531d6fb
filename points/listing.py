"""What the resident's points pages and the API show, read in one place: the rewards one may exchange, the
statement with its descriptions, one's reservations, what expires soon, the pick-up code's address."""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from home.i18n import labels
from plumbing.links import absolute_url
from plumbing.parsing import parse_pk

from . import services
from .models import Account, EarningRule, LedgerEntry, Reservation, Reward

EXPIRING_SOON_DAYS = 30  # points expiring within this many days are pointed out


def rewards_for(resident) -> list[Reward]:
    """Rewards this resident may exchange today (any stock), cheapest first, in the active language."""
    today = timezone.localdate()
    community_id = services.resident_community_id(resident)
    rewards = Reward.objects.filter(active=True).filter(
        Q(available_from__isnull=True) | Q(available_from__lte=today),
        Q(available_until__isnull=True) | Q(available_until__gte=today),
        Q(community__isnull=True) | Q(community_id=community_id),
    )
    rewards = list(rewards.select_related("image").order_by("cost", "pk"))
    taken = services.exchanged_this_month(resident=resident, rewards=rewards)
    for reward in rewards:
        reward.at_monthly_limit = reward.monthly_limit is not None and taken.get(reward.pk, 0) >= reward.monthly_limit
    return rewards


def can_exchange(reward: Reward, account: Account) -> bool:
    """Whether the resident can have this reward (of `rewards_for`) now: in stock, affordable, within the limit."""
    return reward.cost <= account.balance and reward.stock > 0 and not reward.at_monthly_limit


def expiring_soon(expiring: list[services.Expiring]) -> list[services.Expiring]:
    """Of `services.expiring_points`, what expires within EXPIRING_SOON_DAYS."""
    soon = timezone.localdate() + datetime.timedelta(days=EXPIRING_SOON_DAYS)
    return [item for item in expiring if item.expires_on <= soon]


def reservations_of(resident):
    """The resident's reservations, latest first (cancelled ones are left out, as on the overview)."""
    return Reservation.objects.filter(resident=resident).exclude(status=Reservation.Status.CANCELLED).order_by("-pk")


def describe(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Give each entry a `description` in the active language (two queries for a whole page)."""
    rule_names = labels(EarningRule, [entry.rule_id for entry in entries], mark_missing=True)
    reward_ids = {}
    for entry in entries:
        reservation = getattr(entry, "reservation", None) or getattr(entry, "refunded_reservation", None)
        if reservation is not None:
            reward_ids[entry.pk] = reservation.reward_id
    reward_names = labels(Reward, reward_ids.values(), mark_missing=True)
    attended = attended_sessions(entries)
    for entry in entries:
        if entry.source_key in attended:
            title, day = attended[entry.source_key]
            rule = rule_names.get(entry.rule_id) or entry.get_kind_display()
            entry.description = _("%(rule)s: %(activity)s, %(date)s") % {"rule": rule, "activity": title, "date": day}
            if entry.kind == LedgerEntry.Kind.REVERSE:
                entry.description = _("Reversed: %(entry)s") % {"entry": entry.description}
        elif entry.pk in reward_ids:
            name = reward_names.get(reward_ids[entry.pk], "")
            if entry.kind == LedgerEntry.Kind.SPEND:
                entry.description = _("Exchanged for %(reward)s") % {"reward": name}
            else:
                entry.description = _("Refund: %(reward)s (%(reason)s)") % {"reward": name, "reason": entry.reason}
        elif entry.kind == LedgerEntry.Kind.EXPIRE:
            entry.description = _("Expired")
        else:
            entry.description = rule_names.get(entry.rule_id) or entry.get_kind_display()
            if entry.reason and entry.kind != LedgerEntry.Kind.EXPIRE:
                entry.description += f" · {entry.reason}"
    return entries


def attended_sessions(entries: list[LedgerEntry]) -> dict[str, tuple[str, str]]:
    """For entries earned by attending (source "events.attendance:<booking>"): the activity's title in the
    active language and the session's day, by source key; two queries for a whole page, none without."""
    from events.models import ActivityPage, Booking
    from events.services import attendance_source_key

    booking_ids = {
        parse_pk(entry.source_key.partition(":")[2]) for entry in entries if entry.source_key.startswith("events.attendance:")
    }
    booking_ids.discard(None)
    if not booking_ids:
        return {}
    bookings = list(Booking.objects.filter(pk__in=booking_ids).select_related("session__activity"))
    keys = {booking.session.activity.translation_key for booking in bookings}
    titles = dict(
        ActivityPage.objects.filter(translation_key__in=keys, locale__language_code=translation.get_language()).values_list(
            "translation_key", "title"
        )
    )
    return {
        attendance_source_key(booking): (
            titles.get(booking.session.activity.translation_key) or booking.session.activity.title,
            f"{timezone.localtime(booking.session.starts_at):%Y-%m-%d}",
        )
        for booking in bookings
    }


def statement_entries(account: Account, *, before: int | None, limit: int):
    """The account's entries, newest first, older than entry `before` (keyset: flat cost however long the ledger)."""
    entries = LedgerEntry.objects.filter(account=account).select_related("reservation", "refunded_reservation")
    if before is not None:
        entries = entries.filter(pk__lt=before)
    return list(entries.order_by("-pk")[:limit])


def pickup_url(code: str) -> str:
    """What the pick-up QR code holds: the hand-over form with the code filled in, at the portal's address."""
    return absolute_url(reverse("points_admin:hand_over") + f"?code={code}")
