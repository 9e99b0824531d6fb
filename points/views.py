"""The resident's points pages and the public honours roll: thin views over `services` and `listing`."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from home.i18n import label, labels
from home.models import Community
from plumbing.parsing import parse_pk
from plumbing.qr import qr_data_uri
from plumbing.spreadsheets import csv_writer

from . import services
from .listing import can_exchange, describe, expiring_soon, pickup_url, reservations_of, rewards_for, statement_entries
from .models import Account, LedgerEntry, Reservation, Reward

STATEMENT_PAGE = 25


def _int_param(request: HttpRequest, name: str) -> int | None:
    return parse_pk(request.GET.get(name))


# ---------------------------------------------------------------------------
# Resident pages


@login_required
@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    account = services.get_account(resident=request.user)
    expiring = services.expiring_points(account=account)
    rewards = rewards_for(request.user)
    affordable = [reward for reward in rewards if can_exchange(reward, account)]
    reservations = list(reservations_of(request.user)[:10])
    names = labels(Reward, [reservation.reward_id for reservation in reservations], mark_missing=True)
    for reservation in reservations:
        reservation.reward_name = names.get(reservation.reward_id, "")
        reservation.display_code = services.format_code(reservation.code)
    context = {
        "account": account,
        "expiring": expiring,
        "expiring_soon": expiring_soon(expiring),
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
    return qr_data_uri(pickup_url(code))


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
        community.display_name = label(community, mark_missing=True)
    community = next((c for c in communities if c.code == request.GET.get("community")), communities[0] if communities else None)
    period = request.GET.get("period") if request.GET.get("period") in {"month", "year"} else "month"
    today = timezone.localdate()
    start = today.replace(day=1) if period == "month" else today.replace(month=1, day=1)
    rows = cached_honours_rows(community=community, period=period, start=start) if community is not None else []
    context = {"communities": communities, "community": community, "period": period, "rows": rows, "start": start}
    return render(request, "points/honours.html", context)
