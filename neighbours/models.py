"""Neighbour help (邻里互助): requests and offers inside a grid, the neighbours who answer them, thanks, reports.

A post belongs to one grid and is read only by that grid's residents and its community's staff. Who helps whom
depends on the kind: on a request or a donation drive the neighbours who respond give (help, items); on an
offer, a loan, a gift or a charity-sale item the poster gives and the neighbours who respond receive.

The limits that must never break are database constraints too: a post accepts at most `helpers_wanted`
neighbours (`accepted_count`, kept under the post's row lock), a neighbour responds to a post once.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from home.models import Community, Grid

MAX_HELPERS = 20


class Kind(models.TextChoices):
    REQUEST = "request", _("Request for help")
    OFFER = "offer", _("Offer of help")
    LEND = "lend", _("To lend")
    GIVE = "give", _("To give away")
    SALE = "sale", _("Charity sale")
    DONATION = "donation", _("Donation drive")


# Kinds whose responders give (help, items): the poster receives. On the others the poster gives.
RESPONDER_GIVES = frozenset({Kind.REQUEST, Kind.DONATION})
# Things rather than time: claimed first come, first served (no acceptance step).
ITEM_KINDS = frozenset({Kind.LEND, Kind.GIVE, Kind.SALE})
# Help with time: completing it earns the helper points and volunteer hours.
HELP_KINDS = frozenset({Kind.REQUEST, Kind.OFFER})


class Category(models.TextChoices):
    ERRANDS = "errands", _("Errands and shopping")
    ELDERLY = "elderly", _("Accompanying the elderly")
    CHILDCARE = "childcare", _("Child care for an hour")
    REPAIRS = "repairs", _("Repairs")
    TOOLS = "tools", _("Lending tools")
    TUTORING = "tutoring", _("Tutoring")
    ITEMS = "items", _("Items to give away")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    # The values sort from the least to the most urgent (the board orders by them, descending).
    LOW = "low", _("Whenever convenient")
    NORMAL = "normal", _("This week")
    URGENT = "urgent", _("Today")


class Post(models.Model):
    """A resident's request or offer in their grid (求助 / 帮忙 / 出借 / 赠送 / 义卖 / 捐赠)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MATCHED = "matched", _("Matched")
        DONE = "done", _("Done")
        CLOSED = "closed", pgettext_lazy("neighbour help", "Closed")
        EXPIRED = "expired", pgettext_lazy("neighbour help", "Expired")
        HIDDEN = "hidden", _("Hidden by staff")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.REQUEST)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices, default=Category.OTHER)
    title = models.CharField(_("title"), max_length=80)
    text = models.TextField(pgettext_lazy("neighbour help", "text"), max_length=2000)
    when_text = models.CharField(_("when"), max_length=100, blank=True)
    when_from = models.DateField(_("from"), null=True, blank=True)
    when_until = models.DateField(_("until"), null=True, blank=True)
    # A place in the grid everyone may read (the gate, building 3's door): never a home address.
    place = models.CharField(_("where"), max_length=100, blank=True)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    grid = models.ForeignKey(Grid, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="neighbour_posts")
    # Staff who posted for a resident without a phone.
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    helpers_wanted = models.PositiveSmallIntegerField(
        _("neighbours wanted"), default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_HELPERS)]
    )
    accepted_count = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    # Shown as a standard warning: the post asks for money or for medical treatment.
    asks_money = models.BooleanField(default=False)
    asks_medical = models.BooleanField(default=False)
    expires_at = models.DateTimeField(_("expires at"))
    created_at = models.DateTimeField(_("posted at"), default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)  # unanswered after 48 hours: told the grid worker
    hidden_reason = models.CharField(_("reason for hiding"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("neighbour post")
        verbose_name_plural = _("neighbour posts")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["grid", "status", "-urgency", "-created_at"], name="neighbours_post_board"),
            models.Index(fields=["status", "expires_at"], name="neighbours_post_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(helpers_wanted__gte=1) & Q(helpers_wanted__lte=MAX_HELPERS), name="neighbours_post_helpers_bounded"
            ),
            models.CheckConstraint(
                condition=Q(accepted_count__lte=models.F("helpers_wanted")), name="neighbours_post_accepted_within_wanted"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN and self.expires_at > timezone.now()

    @property
    def is_item(self) -> bool:
        return self.kind in ITEM_KINDS

    @property
    def responder_gives(self) -> bool:
        return self.kind in RESPONDER_GIVES

    @property
    def is_public(self) -> bool:
        """Listed for the grid's residents (hidden posts are for staff and the author only)."""
        return self.status != self.Status.HIDDEN

    @property
    def places_left(self) -> int:
        return max(self.helpers_wanted - self.accepted_count, 0)

    @property
    def when_display(self) -> str:
        if self.when_from and self.when_until and self.when_until != self.when_from:
            return f"{self.when_from:%Y-%m-%d} – {self.when_until:%Y-%m-%d}" + (f" {self.when_text}" if self.when_text else "")
        if self.when_from:
            return f"{self.when_from:%Y-%m-%d}" + (f" {self.when_text}" if self.when_text else "")
        return self.when_text


class PostPhoto(models.Model):
    """A photo of a post, re-encoded without EXIF or location (plumbing.photos); served only to who may read the post."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="photos")
    content_type = models.CharField(max_length=40)
    data = models.BinaryField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("photo")

    def __str__(self) -> str:
        return f"{self.post_id}/{self.pk}"


class Response(models.Model):
    """A neighbour's answer to a post: an offer to help, or a claim of the item."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", pgettext_lazy("neighbour help", "Accepted")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        DONE = "done", _("Done")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="responses")
    responder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="neighbour_responses")
    message = models.CharField(_("message"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OFFERED)
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # Both sides confirm that it happened; points only once both did.
    poster_confirmed_at = models.DateTimeField(null=True, blank=True)
    responder_confirmed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1, null=True, blank=True)
    # What a charity sale raised or a donation gave, recorded on completion: never paid through the portal.
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True)
    amount_note = models.CharField(_("what was given"), max_length=200, blank=True)
    points_awarded = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["post", "responder"], name="neighbours_response_once"),
            models.CheckConstraint(condition=Q(hours__isnull=True) | Q(hours__gt=0), name="neighbours_response_hours_positive"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="neighbours_response_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.post_id}/{self.responder_id}"

    @property
    def is_matched(self) -> bool:
        """Accepted (or done): the two may see each other's contact."""
        return self.status in (self.Status.ACCEPTED, self.Status.DONE)

    def giver(self):
        """The one who helped or gave: the responder on a request or donation, else the poster."""
        return self.responder if self.post.responder_gives else self.post.author

    def receiver(self):
        return self.post.author if self.post.responder_gives else self.responder


class Thanks(models.Model):
    """The requester's thanks to whoever helped, shown on the grid's page."""

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="thanks")
    text = models.CharField(_("thanks"), max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("thanks")
        verbose_name_plural = _("thanks")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.text[:40]


class Report(models.Model):
    """A resident's report of a post or a person to the community's staff."""

    class Reason(models.TextChoices):
        SCAM = "scam", _("Scam or asking for money")
        UNSAFE = "unsafe", _("Unsafe or illegal")
        OFFENSIVE = "offensive", _("Offensive")
        PRIVACY = "privacy", _("Shares someone's private details")
        OTHER = "other", _("Other")

    class Outcome(models.TextChoices):
        PENDING = "", _("Not handled yet")
        DISMISSED = "dismissed", _("Dismissed")
        HIDDEN = "hidden", _("Post hidden")
        WARNED = "warned", _("Resident warned")
        SUSPENDED = "suspended", _("Posting suspended")

    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(pgettext_lazy("neighbour help", "reason"), max_length=10, choices=Reason.choices)
    text = models.CharField(_("what happened"), max_length=500, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(post__isnull=False) | Q(person__isnull=False), name="neighbours_report_has_target"
            ),
            # One open report per reporter and post: pressing the button twice files one.
            models.UniqueConstraint(
                fields=["post", "reported_by"], condition=Q(handled_at__isnull=True), name="neighbours_report_once_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.created_at:%Y-%m-%d})"


class PostingSuspension(models.Model):
    """Staff stopped a resident from posting and responding in a community until a day."""

    resident = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    until = models.DateTimeField(_("until"))
    reason = models.CharField(pgettext_lazy("neighbour help", "reason"), max_length=200)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("posting suspension")
        verbose_name_plural = _("posting suspensions")
        indexes = [models.Index(fields=["resident", "community", "until"], name="neighbours_suspension_lookup")]

    def __str__(self) -> str:
        return f"{self.resident_id} until {self.until:%Y-%m-%d}"


class Availability(models.TextChoices):
    WEEKDAY_DAYTIME = "weekday_day", _("Weekday daytime")
    WEEKDAY_EVENING = "weekday_evening", _("Weekday evenings")
    WEEKEND = "weekend", _("Weekends")


class HelperProfile(models.Model):
    """What a resident says they can help with and when: open requests that match are suggested to them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="neighbour_skills")
    categories = models.JSONField(_("I can help with"), default=list, blank=True)
    availability = models.JSONField(_("I am usually free"), default=list, blank=True)
    note = models.CharField(_("anything else"), max_length=200, blank=True)
    weekly_digest = models.BooleanField(_("send me a weekly digest of matching requests"), default=False)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("helper profile")
        verbose_name_plural = _("helper profiles")

    def __str__(self) -> str:
        return f"{self.user_id}: {', '.join(self.categories)}"


def default_expiry(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) + datetime.timedelta(days=settings.LINLI_NEIGHBOUR_POST_DAYS)
