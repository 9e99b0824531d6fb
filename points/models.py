"""Points (积分): an append-only ledger, per-resident accounts, lots for expiry, rules and rewards.

The invariants, each also a database constraint where a database can hold it:
- an account's balance never goes below zero and always equals the sum of its entries;
- an entry is never edited or deleted; a correction is a reversal entry pointing at it,
  and an entry can be reversed at most once (one-to-one);
- each idempotency key writes one entry at most, however often a caller retries;
- each lot's remainder equals its amount less what spending, reversal and expiry took
  from it (`LotUse`), and the remainders of an account add up to its balance.
Rules and rewards are one row each, labelled in both languages (`name` / `name_en`, see `home.i18n`).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.search import index

from home.i18n import label


class EarningRule(models.Model):
    """How points are earned: attending, volunteering, garbage sorting... (积分规则)."""

    class AwardedBy(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatically (by the portal)")
        GRID_WORKER = "grid_worker", _("Grid workers and staff")
        STAFF = "staff", _("Community staff")

    code = models.SlugField(
        _("code"), max_length=40, unique=True, help_text=_("Stable name used by the portal, e.g. attendance.")
    )
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    points = models.PositiveIntegerField(_("points"), help_text=_("Points per award (per hour for hourly rules)."))
    per_hour = models.BooleanField(_("per hour"), default=False, help_text=_("Points are given per hour volunteered."))
    max_points = models.PositiveIntegerField(
        _("most points per award"),
        default=100,
        validators=[MinValueValidator(1)],
        help_text=_("Staff cannot award more at once."),
    )
    daily_cap = models.PositiveIntegerField(_("cap per day"), null=True, blank=True, help_text=_("Points per resident per day."))
    monthly_cap = models.PositiveIntegerField(
        _("cap per month"), null=True, blank=True, help_text=_("Points per resident per calendar month.")
    )
    awarded_by = models.CharField(_("awarded by"), max_length=20, choices=AwardedBy.choices, default=AwardedBy.STAFF)
    reason_required = models.BooleanField(_("reason required"), default=False)
    active = models.BooleanField(_("active"), default=True)

    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("name_en")]),
        FieldPanel("code"),
        FieldRowPanel([FieldPanel("description"), FieldPanel("description_en")]),
        FieldRowPanel([FieldPanel("points"), FieldPanel("per_hour"), FieldPanel("max_points")]),
        FieldRowPanel([FieldPanel("daily_cap"), FieldPanel("monthly_cap")]),
        FieldRowPanel([FieldPanel("awarded_by"), FieldPanel("reason_required"), FieldPanel("active")]),
    ]

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(max_points__gte=1), name="points_rule_max_points_positive")]

    def __str__(self) -> str:
        return label(self)

    def clean(self) -> None:
        if not self.per_hour and self.points > self.max_points:
            raise ValidationError({"points": _("The points per award cannot exceed the most points per award.")})


class Account(models.Model):
    """One resident's points: the balance, changed only with a ledger entry, under this row's lock."""

    resident = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="points_account"
    )
    balance = models.IntegerField(_("balance"), default=0)
    volunteer_hours = models.DecimalField(_("volunteer hours"), max_digits=9, decimal_places=2, default=Decimal("0"))
    honours_opt_in = models.BooleanField(
        _("show me on the honours roll"), default=False, help_text=_("Your display name and points earned, per month and year.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_account_balance_not_negative"),
            models.CheckConstraint(condition=Q(volunteer_hours__gte=0), name="points_account_hours_not_negative"),
        ]

    def __str__(self) -> str:
        return str(self.resident)


class ImmutableModel(models.Model):
    """Rows written once: saving an existing row or deleting one is refused."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("Ledger records are never changed; write a reversal instead."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Ledger records are never deleted; write a reversal instead."))


class LedgerEntry(ImmutableModel):
    """One change of a resident's points (流水). Never edited, never deleted."""

    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        SPEND = "spend", _("Spent")
        EXPIRE = "expire", _("Expired")
        ADJUST = "adjust", _("Adjusted")
        REVERSE = "reverse", _("Reversed")

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = models.IntegerField(_("points"))
    balance_after = models.IntegerField(_("balance after"))
    rule = models.ForeignKey(
        EarningRule, verbose_name=_("rule"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # What caused it, in the caller's words (e.g. events.attendance:123); awards are idempotent by it.
    source_key = models.CharField(_("source"), max_length=120, blank=True, db_index=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=160, unique=True)
    reverses = models.OneToOneField(
        "self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    # The day of the source event (a bulk sheet may record last week's checks); caps count by it.
    occurred_on = models.DateField(_("day"), default=timezone.localdate)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["account", "-id"], name="points_entry_statement"),
            models.Index(fields=["account", "rule", "occurred_on"], name="points_entry_caps"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="points_entry_balance_after_not_negative"),
            models.CheckConstraint(
                condition=(
                    Q(kind="earn", amount__gt=0)
                    | Q(kind__in=["spend", "expire"], amount__lt=0)
                    | Q(kind="adjust", amount__lt=0)
                    | Q(kind="adjust", amount__gt=0)
                    | Q(kind="reverse", reverses__isnull=False)
                ),
                name="points_entry_amount_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+d}"


class Lot(models.Model):
    """Points earned together, expiring together; spending takes the soonest-expiring first."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lots")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="lot")
    amount = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()
    expires_on = models.DateField(null=True, blank=True, help_text="Valid up to and including this day; empty: never.")

    class Meta:
        verbose_name = _("lot")
        indexes = [models.Index(fields=["account", "expires_on"], name="points_lot_fifo", condition=Q(remaining__gt=0))]
        constraints = [
            models.CheckConstraint(condition=Q(remaining__lte=models.F("amount")), name="points_lot_remaining_within_amount"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="points_lot_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.amount} until {self.expires_on or '-'}"


class LotUse(ImmutableModel):
    """How much an entry took from (positive) or gave back to (negative) one lot."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="uses")
    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="lot_uses")
    amount = models.IntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="points_lotuse_amount_not_zero")]

    def __str__(self) -> str:
        return f"lot {self.lot_id}: {self.amount:+d}"


class VolunteerHours(ImmutableModel):
    """Hours volunteered (志愿时长): kept apart from points, never expire; a reversal is a negative row."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="hours")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="volunteer_hours")
    hours = models.DecimalField(_("hours"), max_digits=7, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("volunteer hours")
        verbose_name_plural = _("volunteer hours")
        constraints = [models.CheckConstraint(condition=~Q(hours=0), name="points_hours_not_zero")]

    def __str__(self) -> str:
        return f"{self.hours:+}"


class ExpiryWarning(models.Model):
    """A warning e-mail sent (once) about points expiring on a day."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    expires_on = models.DateField()
    days_ahead = models.PositiveSmallIntegerField()
    points = models.PositiveIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "expires_on", "days_ahead"], name="points_warning_once")]

    def __str__(self) -> str:
        return f"{self.points} on {self.expires_on} ({self.days_ahead} days ahead)"


class Reward(index.Indexed, models.Model):
    """A gift or small privilege residents exchange points for (兑换礼品)."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image", verbose_name=_("picture"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cost = models.PositiveIntegerField(_("cost in points"), validators=[MinValueValidator(1)])
    stock = models.PositiveIntegerField(_("stock"), default=0)
    monthly_limit = models.PositiveSmallIntegerField(
        _("limit per resident per month"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    community = models.ForeignKey(
        "home.Community",
        verbose_name=_("community"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: for residents of every community."),
    )
    available_from = models.DateField(_("available from"), null=True, blank=True)
    available_until = models.DateField(_("available until"), null=True, blank=True)
    pickup_place = models.CharField(_("pickup place"), max_length=200, blank=True)
    pickup_place_en = models.CharField(_("pickup place (English)"), max_length=200, blank=True)
    pickup_hours = models.CharField(_("pickup hours"), max_length=200, blank=True)
    pickup_hours_en = models.CharField(_("pickup hours (English)"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("name_en")]),
        FieldRowPanel([FieldPanel("description"), FieldPanel("description_en")]),
        FieldPanel("image"),
        FieldRowPanel([FieldPanel("cost"), FieldPanel("stock"), FieldPanel("monthly_limit")]),
        FieldPanel("community"),
        FieldRowPanel([FieldPanel("available_from"), FieldPanel("available_until"), FieldPanel("active")]),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("pickup_place"), FieldPanel("pickup_place_en")]),
                FieldRowPanel([FieldPanel("pickup_hours"), FieldPanel("pickup_hours_en")]),
            ],
            heading=_("Pickup"),
        ),
    ]
    search_fields = [
        index.SearchField("name"),
        index.SearchField("name_en"),
        index.AutocompleteField("name"),
        index.AutocompleteField("name_en"),
    ]

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["cost", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="points_reward_stock_not_negative"),
            models.CheckConstraint(condition=Q(cost__gte=1), name="points_reward_cost_positive"),
        ]

    def __str__(self) -> str:
        return label(self)

    def is_available(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return (
            self.active
            and (self.available_from is None or self.available_from <= on)
            and (self.available_until is None or on <= self.available_until)
        )


class Reservation(models.Model):
    """A reward reserved with points, waiting at the service desk to be collected."""

    class Status(models.TextChoices):
        RESERVED = "reserved", _("Waiting for pickup")
        COLLECTED = "collected", _("Collected")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Not collected in time")

    resident = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reservations")
    reward = models.ForeignKey(Reward, verbose_name=_("reward"), on_delete=models.PROTECT, related_name="reservations")
    cost = models.PositiveIntegerField(_("points"))
    code = models.CharField(_("pickup code"), max_length=12, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RESERVED)
    spend_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="reservation")
    refund_entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="refunded_reservation"
    )
    created_at = models.DateTimeField(_("reserved at"), default=timezone.now)
    collect_by = models.DateTimeField(_("collect by"))
    collected_at = models.DateTimeField(_("collected at"), null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The client's key for this request (the API's Idempotency-Key): a retry returns this reservation.
    request_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "collect_by"], name="points_reservation_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["cancelled", "expired"], refund_entry__isnull=False)
                | Q(status__in=["reserved", "collected"], refund_entry__isnull=True),
                name="points_reservation_refund_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return self.code
