"""The resident's points pages and the public honours roll: thin views over `services`."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from home.i18n import label, labels
from home.models import Community
from plumbing.links import absolute_url
from plumbing.parsing import parse_pk
from plumbing.qr import qr_data_uri
from plumbing.spreadsheets import csv_writer

from . import services
from .models import Account, EarningRule, LedgerEntry, Reservation, Reward

STATEMENT_PAGE = 25


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


def describe(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Give each entry a `description` in the active language (two queries for a whole page)."""
    rule_names = labels(EarningRule, [entry.rule_id for entry in entries])
    reward_ids = {}
    for entry in entries:
        reservation = getattr(entry, "reservation", None) or getattr(entry, "refunded_reservation", None)
        if reservation is not None:
            reward_ids[entry.pk] = reservation.reward_id
    reward_names = labels(Reward, reward_ids.values())
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
    entries = LedgerEntry.objects.filter(account=account).select_related("reservation", "refunded_reservation")
    if before is not None:
        entries = entries.filter(pk__lt=before)
    return list(entries.order_by("-pk")[:limit])


def _int_param(request: HttpRequest, name: str) -> int | None:
    return parse_pk(request.GET.get(name))


# ---------------------------------------------------------------------------
# Resident pages


@login_required
@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    account = services.get_account(resident=request.user)
    expiring = services.expiring_points(account=account)
    soon = timezone.localdate() + datetime.timedelta(days=30)
    rewards = rewards_for(request.user)
    affordable = [
        reward for reward in rewards if reward.cost <= account.balance and reward.stock > 0 and not reward.at_monthly_limit
    ]
    reservations = list(
        Reservation.objects.filter(resident=request.user).exclude(status=Reservation.Status.CANCELLED).order_by("-pk")[:10]
    )
    names = labels(Reward, [reservation.reward_id for reservation in reservations])
    for reservation in reservations:
        reservation.reward_name = names.get(reservation.reward_id, "")
        reservation.display_code = services.format_code(reservation.code)
    context = {
        "account": account,
        "expiring": expiring,
        "expiring_soon": [item for item in expiring if item.expires_on <= soon],
        "affordable": affordable[:6],
        "more_rewards": len(rewards) > len(affordable[:6]),
        "reservations": reservations,
    }
    return render(request, "points/overview.html", context)


@login_required
@require_safe
def statement(request: HttpRequest) -> HttpResponse:
    """All entries, newest first, a page at a time (keyset: flat cost however long the ledger)."""
    account = services.get_account(resident=request.user)
    before = _int_param(request, "before")
    entries = statement_entries(account, before=before, limit=STATEMENT_PAGE + 1)
    older = entries[STATEMENT_PAGE].pk + 1 if len(entries) > STATEMENT_PAGE else None
    entries = describe(entries[:STATEMENT_PAGE])
    return render(request, "points/statement.html", {"account": account, "entries": entries, "older": older, "before": before})


class Echo:
    def write(self, value):
        return value


@login_required
@require_safe
def statement_csv(request: HttpRequest) -> HttpResponse:
    account = services.get_account(resident=request.user)
    entries = describe(statement_entries(account, before=None, limit=100_000))
    rows = [[_("Date"), _("Kind"), _("Points"), _("Balance"), _("Description")]]
    for entry in entries:
        rows.append(
            [
                timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M"),
                entry.get_kind_display(),
                entry.amount,
                entry.balance_after,
                entry.description,
            ]
        )
    writer = csv_writer(Echo())
    # A byte-order mark, so that spreadsheet programs read the Chinese correctly.
    response = HttpResponse("\ufeff" + "".join(writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="linli-points.csv"'
    return response


@login_required
@require_safe
def rewards(request: HttpRequest) -> HttpResponse:
    account = services.get_account(resident=request.user)
    return render(request, "points/rewards.html", {"account": account, "rewards": rewards_for(request.user)})


@login_required
@require_POST
def redeem(request: HttpRequest, pk: int) -> HttpResponse:
    reward = get_object_or_404(Reward, pk=pk)
    try:
        reservation = services.redeem(resident=request.user, reward=reward)
    except (services.PointsError, PermissionDenied) as error:
        messages.error(request, str(error))
        return redirect("points:rewards")
    messages.success(request, _("Reserved. Show this code at the pickup place."))
    return redirect("points:reservation", pk=reservation.pk)


def _own_reservation(request: HttpRequest, pk: int) -> Reservation:
    reservation = Reservation.objects.select_related("reward").filter(pk=pk, resident=request.user).first()
    if reservation is None:
        raise Http404(_("No such reservation."))
    return reservation


def pickup_qr(code: str) -> str:
    """An SVG data URI of the QR code staff scan: it opens the hand-over form with the code filled in."""
    url = absolute_url(reverse("points_admin:hand_over") + f"?code={code}")
    return qr_data_uri(url)


@login_required
@require_safe
def reservation(request: HttpRequest, pk: int) -> HttpResponse:
    reservation = _own_reservation(request, pk)
    reward = reservation.reward
    context = {
        "reservation": reservation,
        "reward": reward,
        "display_code": services.format_code(reservation.code),
        "qr": pickup_qr(reservation.code) if reservation.status == Reservation.Status.RESERVED else None,
    }
    return render(request, "points/reservation.html", context)


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    reservation = _own_reservation(request, pk)
    try:
        services.cancel_reservation(reservation=reservation, actor=request.user)
    except services.PointsError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Reservation cancelled; your points are back."))
    return redirect("points:reservation", pk=reservation.pk)


@login_required
@require_POST
def honours_opt_in(request: HttpRequest) -> HttpResponse:
    opt_in = request.POST.get("opt_in") == "1"
    services.set_honours_opt_in(resident=request.user, opt_in=opt_in)
    if opt_in:
        messages.success(request, _("You will appear on the honours roll."))
    else:
        messages.success(request, _("You no longer appear on the honours roll."))
    return redirect("points:overview")


# ---------------------------------------------------------------------------
# The honours roll (光荣榜): public, opt-in only


HONOURS_SIZE = 20


def honours_rows(*, community: Community, since: datetime.datetime, until: datetime.datetime) -> list[dict]:
    """Opted-in residents of a community by points earned (net of reversed awards) in a period."""
    earned = (
        LedgerEntry.objects.filter(
            created_at__gte=since,
            created_at__lt=until,
            rule__isnull=False,
            account__honours_opt_in=True,
            account__resident__profile__community=community,
        )
        .values("account_id", "account__resident__profile__display_name")
        .annotate(points=Sum("amount"))
        .filter(points__gt=0)
        .order_by("-points", "account_id")[:HONOURS_SIZE]
    )
    rows = list(earned)
    hours = dict(
        Account.objects.filter(pk__in=[row["account_id"] for row in rows])
        .annotate(period_hours=Sum("hours__hours", filter=Q(hours__created_at__gte=since, hours__created_at__lt=until)))
        .values_list("pk", "period_hours")
    )
    return [
        {
            "name": row["account__resident__profile__display_name"],
            "points": row["points"],
            "hours": hours.get(row["account_id"]) or 0,
        }
        for row in rows
    ]


HONOURS_CACHE_SECONDS = 600


def cached_honours_rows(*, community: Community, period: str, start: datetime.date) -> list[dict]:
    """The roll changes slowly and costs a scan of the period's entries: kept 10 minutes."""
    key = f"points:honours:{services.honours_generation()}:{community.pk}:{period}:{start.isoformat()}"
    rows = cache.get(key)
    if rows is None:
        since = services.day_start(start)
        until = services.day_start(timezone.localdate() + datetime.timedelta(days=1))
        rows = honours_rows(community=community, since=since, until=until)
        cache.set(key, rows, HONOURS_CACHE_SECONDS)
    return rows


@require_safe
def honours(request: HttpRequest) -> HttpResponse:
    communities = list(Community.objects.order_by("code"))
    for community in communities:
        community.display_name = label(community)
    community = next((c for c in communities if c.code == request.GET.get("community")), communities[0] if communities else None)
    period = request.GET.get("period") if request.GET.get("period") in {"month", "year"} else "month"
    today = timezone.localdate()
    start = today.replace(day=1) if period == "month" else today.replace(month=1, day=1)
    rows = cached_honours_rows(community=community, period=period, start=start) if community is not None else []
    context = {"communities": communities, "community": community, "period": period, "rows": rows, "start": start}
    return render(request, "points/honours.html", context)
