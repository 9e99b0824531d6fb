"""Figures for the staff dashboard, its server-side SVG charts and its CSV/XLSX export."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from home.i18n import labels
from home.scope import StaffScope
from plumbing.charts import bar_chart
from plumbing.spreadsheets import csv_writer, xlsx_row

from . import services
from .models import EarningRule, LedgerEntry, Lot, Reservation, Reward

LOW_STOCK = 3


@dataclass
class Dashboard:
    months: list[datetime.date]
    issued: list[tuple[str, list[int]]]  # rule name, points per month
    spent: list[tuple[str, int, int]]  # reward name, reservations, points
    expiring_30: int
    low_stock: list[Reward]
    top_earners: list[tuple[str, int]]
    issued_per_month: list[int] = field(default_factory=list)
    spent_per_month: list[int] = field(default_factory=list)


def dashboard(*, scope: StaffScope, months: int = 12) -> Dashboard:
    """The figures of the communities in `scope` (the street's for the street office)."""
    today = timezone.localdate()
    first = today.replace(day=1)
    month_list = []
    for _index in range(months):
        month_list.insert(0, first)
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    entries = scope.filter(LedgerEntry.objects.all(), "account__resident__profile__community")
    issued_rows = (
        entries.filter(rule__isnull=False, occurred_on__gte=month_list[0])
        .annotate(month=TruncMonth("occurred_on"))
        .values("rule_id", "month")
        .annotate(points=Sum("amount"))
    )
    rule_names = labels(EarningRule, {row["rule_id"] for row in issued_rows})
    index = {month: position for position, month in enumerate(month_list)}
    issued: dict[int, list[int]] = {}
    for row in issued_rows:
        month = row["month"].date() if isinstance(row["month"], datetime.datetime) else row["month"]
        issued.setdefault(row["rule_id"], [0] * len(month_list))[index[month]] += row["points"]
    spent_rows = (
        scope.filter(Reservation.objects.all(), "resident__profile__community")
        .filter(status__in=[Reservation.Status.RESERVED, Reservation.Status.COLLECTED])
        .values("reward_id")
        .annotate(count=Count("pk"), points=Sum("cost"))
        .order_by("-points")
    )
    reward_names = labels(Reward, {row["reward_id"] for row in spent_rows})
    spent_by_month = (
        scope.filter(Reservation.objects.all(), "resident__profile__community")
        .filter(
            status__in=[Reservation.Status.RESERVED, Reservation.Status.COLLECTED],
            created_at__gte=services.day_start(month_list[0]),
        )
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(points=Sum("cost"))
    )
    spent_per_month = [0] * len(month_list)
    for row in spent_by_month:
        spent_per_month[index[timezone.localtime(row["month"]).date().replace(day=1)]] += row["points"]
    expiring = scope.filter(Lot.objects.all(), "account__resident__profile__community").filter(
        remaining__gt=0, expires_on__gte=today, expires_on__lte=today + datetime.timedelta(days=30)
    )
    rewards = Reward.objects.filter(active=True, stock__lte=LOW_STOCK)
    rewards = scope.filter(rewards, "community", street_wide=True)  # the street's own rewards too
    year_start = services.day_start(today.replace(month=1, day=1))
    top = (
        entries.filter(rule__isnull=False, created_at__gte=year_start)
        .values("account__resident__profile__display_name", "account__resident__email")
        .annotate(points=Sum("amount"))
        .order_by("-points")[:10]
    )
    issued_list = sorted(((rule_names.get(pk, "?"), values) for pk, values in issued.items()), key=lambda item: -sum(item[1]))
    return Dashboard(
        months=month_list,
        issued=issued_list,
        spent=[(reward_names.get(row["reward_id"], "?"), row["count"], row["points"]) for row in spent_rows],
        expiring_30=expiring.aggregate(total=Sum("remaining"))["total"] or 0,
        low_stock=list(rewards.order_by("stock", "pk")),
        top_earners=[
            (row["account__resident__profile__display_name"] or row["account__resident__email"], row["points"]) for row in top
        ],
        issued_per_month=[sum(values[position] for _name, values in issued_list) for position in range(len(month_list))],
        spent_per_month=spent_per_month,
    )


def column_chart(*, title: str, labels: list[str], series: list[tuple[str, list[int], str]], height: int = 220) -> str:
    """A grouped bar chart as inline SVG (no JavaScript); `series` is (name, values, colour)."""
    width = 640
    left, bottom, top = 48, 28, 24
    plot_h = height - bottom - top
    biggest = max([max(values, default=0) for _name, values, _colour in series] + [1])
    slot = (width - left - 8) / max(len(labels), 1)
    bar = max((slot - 6) / max(len(series), 1), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-{id(series)}" class="points-chart">',
        f'<title id="chart-{id(series)}">{escape(title)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" stroke="#888"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11">{biggest}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    for position, label in enumerate(labels):
        x0 = left + position * slot + 3
        for number, (name, values, colour) in enumerate(series):
            value = values[position] if position < len(values) else 0
            h = plot_h * value / biggest
            parts.append(
                f'<rect x="{x0 + number * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(name)} {escape(label)}: {value}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + slot / 2 - 3:.1f}" y="{height - 10}" text-anchor="middle" font-size="11">{escape(label)}</text>'
        )
    for number, (name, _values, colour) in enumerate(series):
        parts.append(f'<rect x="{left + number * 120}" y="4" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{left + number * 120 + 14}" y="13" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(*, key: str, title: str, desc: str, rows: list[tuple[str, int]], colour: str = "#1565c0") -> str:
    """Horizontal bars, one per (label, value); the table beside the chart is its text alternative."""
    return bar_chart(
        rows,
        title=title,
        desc=desc,
        key=key,
        colour=colour,
        label_width=180,
        bar_width=400,
        row=26,
        font_size=12,
        label_chars=14,
        css_class="points-chart",
    )


def charts(data: Dashboard) -> dict[str, str]:
    """The dashboard's charts by rule, by reward and by resident (empty when there is nothing to draw)."""
    issued = [(name, sum(values)) for name, values in data.issued]
    spent = [(name, points) for name, _count, points in data.spent]
    found = {}
    if issued:
        found["issued"] = hbar_chart(
            key="chart-issued",
            title=_("Points issued by rule"),
            desc=_("Points issued in the last 12 months, per rule; the table below gives each month."),
            rows=issued,
            colour="#2e7d32",
        )
    if spent:
        found["spent"] = hbar_chart(
            key="chart-spent",
            title=_("Points spent by reward"),
            desc=_("Points spent on reservations, per reward; the table below gives the figures."),
            rows=spent,
            colour="#c62828",
        )
    if data.top_earners:
        found["top"] = hbar_chart(
            key="chart-top",
            title=_("Top earners this year"),
            desc=_("Points earned this year by the ten residents who earned most; the list below gives the figures."),
            rows=data.top_earners,
            colour="#1565c0",
        )
    return found


def export_rows(data: Dashboard) -> list[tuple[str, list[list]]]:
    """The dashboard's tables, each as (sheet name, rows with a header)."""
    months = [month.strftime("%Y-%m") for month in data.months]
    return [
        (
            _("Issued by rule"),
            [[_("Rule"), *months, _("Total")]] + [[name, *values, sum(values)] for name, values in data.issued],
        ),
        (_("Spent by reward"), [[_("Reward"), _("Reservations"), _("Points")]] + [list(row) for row in data.spent]),
        (_("Top earners"), [[_("Resident"), _("Points earned this year")]] + [list(row) for row in data.top_earners]),
        (_("Low stock"), [[_("Reward"), _("Stock")]] + [[reward.name, reward.stock] for reward in data.low_stock]),
    ]


def export_csv(data: Dashboard) -> str:
    out = io.StringIO()
    writer = csv_writer(out)
    for name, rows in export_rows(data):
        writer.writerow([name])
        writer.writerows(rows)
        writer.writerow([])
    return "\ufeff" + out.getvalue()


def export_xlsx(data: Dashboard) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in export_rows(data):
        sheet = workbook.create_sheet(title=name[:31])
        for row in rows:
            sheet.append(xlsx_row(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
