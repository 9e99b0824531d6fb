"""Classes and activities: pages editors publish, the sessions they run, and residents' bookings.

Seats, waiting lists and bookings are shared by every language version of an activity:
a session belongs to the page it was created on, and each language's page finds its
sessions through the page's `translation_key` (see `ActivityPage.sessions`).
"""

from __future__ import annotations

import datetime
import functools
import secrets
import uuid
from collections.abc import Callable
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index
from wagtail_localize.fields import SynchronizedField

from home.blocks import BaseStreamBlock
from home.i18n import english_active, in_reader_language
from home.models import Community
from plumbing.middleware import generation

# Short codes people read aloud and type: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 8


def new_ticket_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Kind(models.TextChoices):
    CLASS = "class", _("Class")
    ACTIVITY = "activity", _("Activity")
    VOLUNTEERING = "volunteering", _("Volunteering")


class Category(models.TextChoices):
    HANDICRAFT = "handicraft", _("Handicraft")
    HERITAGE = "heritage", _("Intangible heritage")
    SKILLS = "skills", _("Skills")
    INTEREST = "interest", _("Interests and hobbies")
    HEALTH = "health", _("Health")
    CULTURE = "culture", _("Culture")
    SPORTS = "sports", _("Sports")
    SERVICE = "service", _("Community service")


class AgeBand(models.TextChoices):
    ALL = "all", _("All ages")
    PRESCHOOL = "3-6", _("Ages 3-6")
    CHILDREN = "7-12", _("Ages 7-12")
    TEENS = "13-17", _("Ages 13-17")
    ADULTS = "adults", _("Adults (18+)")
    SENIORS = "60+", _("Seniors (60+)")

    @classmethod
    def ages(cls, band: str) -> tuple[int, int]:
        """The inclusive range of ages a band admits."""
        return {
            cls.ALL: (0, 150),
            cls.PRESCHOOL: (3, 6),
            cls.CHILDREN: (7, 12),
            cls.TEENS: (13, 17),
            cls.ADULTS: (18, 150),
            cls.SENIORS: (60, 150),
        }[band]


class Allocation(models.TextChoices):
    FIRST_COME = "first_come", _("First come, first served")
    DRAW = "draw", _("Draw (摇号) at the close of applications")


class BookingUnit(models.TextChoices):
    SESSION = "session", _("Each session is booked on its own")
    SERIES = "series", _("The whole course is booked at once")


class ActivityIndexPage(Page):
    """The list of classes and activities, with filters, search and a week/month calendar."""

    intro = models.CharField(_("introduction"), max_length=300, blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["home.HomePage", "home.CommunityPage"]
    subpage_types = ["events.ActivityPage"]
    search_fields = Page.search_fields + [index.SearchField("intro")]

    class Meta:
        verbose_name = _("activity list")

    # What the list and the calendar show: `listing.activity_list_context`, set by `EventsConfig.ready()` so
    # that the models import no view code (the listing queries these models).
    build_context: ClassVar[Callable[..., dict]]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(self.build_context(request))
        return context

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        response.page_cache_seconds = settings.LINLI_SEATS_CACHE_SECONDS
        response.shared_with_residents = True  # nothing on it is personal but the messages
        return response


class ActivityPage(Page):
    """A class (课程), activity (活动) or volunteering (志愿服务) with its booking rules."""

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ACTIVITY)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.INTEREST)
    age_band = models.CharField(_("age band"), max_length=10, choices=AgeBand.choices, default=AgeBand.ALL)
    summary = models.CharField(_("summary"), max_length=240, blank=True)
    description = StreamField(BaseStreamBlock(), verbose_name=_("description"), blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image", verbose_name=_("image"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organiser = models.CharField(_("teacher or organiser"), max_length=120, blank=True)
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    community = models.ForeignKey(
        Community,
        verbose_name=_("for community"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Only residents of this community may book. Leave empty to open it to everyone."),
    )
    points = models.PositiveSmallIntegerField(_("points for attending"), default=0, validators=[MaxValueValidator(1000)])
    booking_opens_at = models.DateTimeField(_("booking opens at"), null=True, blank=True)
    booking_closes_at = models.DateTimeField(
        _("booking closes at"),
        null=True,
        blank=True,
        help_text=_("For a draw: the end of applications, when the draw runs. Empty: until each session starts."),
    )
    cancellation_hours = models.PositiveSmallIntegerField(
        _("cancellation deadline (hours before start)"),
        default=24,
        help_text=_("Cancelling later than this counts as a late cancellation."),
    )
    allocation = models.CharField(_("allocation"), max_length=20, choices=Allocation.choices, default=Allocation.FIRST_COME)
    first_timer_priority = models.BooleanField(
        _("draw: priority for first-time participants"),
        default=False,
        help_text=_("Residents who have never attended this activity are drawn before the others."),
    )
    booking_unit = models.CharField(_("booked as"), max_length=20, choices=BookingUnit.choices, default=BookingUnit.SESSION)
    household_limit = models.PositiveSmallIntegerField(
        _("places per household"),
        default=2,
        validators=[MinValueValidator(1)],
        help_text=_("How many people of one household may book this activity (per session)."),
    )

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("kind"), FieldPanel("category"), FieldPanel("age_band")]),
                FieldPanel("organiser"),
                FieldPanel("venue"),
                FieldPanel("community"),
                FieldPanel("points"),
            ],
            heading=_("About the activity"),
        ),
        FieldPanel("image"),
        FieldPanel("description"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("booking_opens_at"), FieldPanel("booking_closes_at")]),
                FieldPanel("cancellation_hours"),
                FieldRowPanel([FieldPanel("allocation"), FieldPanel("first_timer_priority")]),
                FieldRowPanel([FieldPanel("booking_unit"), FieldPanel("household_limit")]),
            ],
            heading=_("Booking rules"),
        ),
    ]
    parent_page_types = ["events.ActivityIndexPage"]
    subpage_types: list[str] = []
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("organiser"),
        index.SearchField("venue"),
        index.SearchField("description"),
        index.FilterField("kind"),
        index.FilterField("category"),
        index.FilterField("age_band"),
    ]
    override_translatable_fields = [
        SynchronizedField("kind"),
        SynchronizedField("category"),
        SynchronizedField("age_band"),
        SynchronizedField("image"),
        SynchronizedField("community"),
        SynchronizedField("points"),
        SynchronizedField("booking_opens_at"),
        SynchronizedField("booking_closes_at"),
        SynchronizedField("cancellation_hours"),
        SynchronizedField("allocation"),
        SynchronizedField("first_timer_priority"),
        SynchronizedField("booking_unit"),
        SynchronizedField("household_limit"),
    ]

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")

    def sessions(self) -> models.QuerySet[Session]:
        """Sessions of this activity in any language version, soonest first."""
        return Session.objects.filter(activity__translation_key=self.translation_key).order_by("starts_at", "pk")

    def upcoming_sessions(self) -> models.QuerySet[Session]:
        return self.sessions().filter(starts_at__gt=timezone.now(), status=Session.Status.SCHEDULED)

    @property
    def is_draw(self) -> bool:
        return self.allocation == Allocation.DRAW

    @property
    def is_series(self) -> bool:
        return self.booking_unit == BookingUnit.SERIES

    def booking_window_state(self, now: datetime.datetime | None = None) -> str:
        """'not_open', 'open' or 'closed' by the activity's own window (sessions have their own end)."""
        now = now or timezone.now()
        if self.booking_opens_at and now < self.booking_opens_at:
            return "not_open"
        if self.booking_closes_at and now >= self.booking_closes_at:
            return "closed"
        return "open"

    # The sessions with seats and the visitor's own bookings and booking forms are a personal part of the page
    # (`{% personal "events.sessions" %}`: `listing.sessions_part`), so logged-in residents share the rest.
    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        # Seats left are live: a cached copy lives only a few seconds.
        response.page_cache_seconds = settings.LINLI_SEATS_CACHE_SECONDS
        response.shared_with_residents = True
        return response


class Session(models.Model):
    """One meeting of an activity: a real row with its own date, venue and seats."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")

    activity = models.ForeignKey(ActivityPage, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    venue = models.CharField(_("venue"), max_length=200, blank=True, help_text=_("Empty: the activity's venue."))
    venue_en = models.CharField(_("venue (English)"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("seats"), validators=[MinValueValidator(1), MaxValueValidator(10000)])
    # Seats held by confirmed, attended and no-show bookings; changed only by events.services
    # in the same transaction as the booking, under the session's row lock.
    seats_taken = models.PositiveIntegerField(_("seats taken"), default=0, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    holiday_name = models.CharField(_("public holiday"), max_length=60, blank=True)
    cancelled_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    draw_seed = models.CharField(_("draw seed"), max_length=64, blank=True, editable=False)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("attendance closed at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["starts_at", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(seats_taken__lte=models.F("capacity")), name="session_never_overbooked"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{self.activity.title} · {local:%Y-%m-%d %H:%M}"

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        return self.seats_taken >= self.capacity

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()

    @property
    def place(self) -> str:
        """The venue in the reader's language: the session's own, else its activity's (on English pages the
        English page's venue, which wagtail-localize translates)."""
        if self.venue:
            return in_reader_language(self.venue, self.venue_en)
        if not english_active():
            return self.activity.venue
        page = self.activity.localized
        translated = page.venue if page.pk != self.activity.pk else ""
        return in_reader_language(self.activity.venue, translated)


class NextSession(models.Model):
    """The next session of an activity, for the activity list's order: one row per activity (its source page's
    translation key, as sessions are keyed, so that all its language versions share it), naming its next upcoming
    session and when it starts, or neither when it has none. Not its seats: they change with every booking, and the
    list joins the session for them.

    A speed-up only: the list reads an activity without a row, or whose row's session has started or gone, from its
    sessions as before (`listing.filtered_activities`), and so is one whose session was cancelled, moved or deleted
    since. The services' adding and cancelling of sessions set the row in their own transaction (`sessions_recorded`,
    a receiver of their audit records); everything else (time passing, new activities, sessions changed outside the
    services) is caught by `refresh`, which each process runs when the earliest row's session starts, when a page is
    published or a session saved or deleted, and at least every minute (`listing.next_sessions_fresh`)."""

    translation_key = models.UUIDField(primary_key=True)
    # SET_NULL: a deleted session leaves its row naming no session but a start, which the list does not trust.
    session = models.ForeignKey(Session, null=True, on_delete=models.SET_NULL, related_name="+")
    starts_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("next session")
        verbose_name_plural = _("next sessions")

    def __str__(self) -> str:
        return f"{self.translation_key} · {self.starts_at}"

    @staticmethod
    def upcoming(now: datetime.datetime | None = None) -> models.QuerySet[Session]:
        return Session.objects.filter(starts_at__gt=now or timezone.now(), status=Session.Status.SCHEDULED)

    @classmethod
    def refresh(cls, now: datetime.datetime | None = None) -> datetime.datetime | None:
        """Make every activity's row name its next session as the sessions say now (one query to read, and writes
        only where a row differs); the earliest start among them (None when no activity has an upcoming session):
        until then no row can go stale by time alone.

        Safe beside other refreshes and the services' writes: a row is changed only where it still holds what was
        read before the sessions were (a compare-and-set), and a missing one is added only if nobody added it
        meanwhile, so a refresh that read the sessions before another's commit never undoes that commit."""
        now = now or timezone.now()
        no_id, no_time = models.Value(None, models.BigIntegerField()), models.Value(None, models.DateTimeField())
        rows, activities, due = {}, set(), {}
        # The rows, the upcoming sessions and every activity's key, in one query.
        for kind, key, session_id, starts_at in (
            cls.objects.order_by()
            .values_list(models.Value("row"), "translation_key", "session_id", "starts_at")
            .union(
                cls.upcoming(now).order_by().values_list(models.Value("session"), "activity__translation_key", "pk", "starts_at"),
                ActivityPage.objects.order_by().values_list(models.Value("activity"), "translation_key", no_id, no_time),
                all=True,
            )
        ):
            if kind == "row":
                rows[key] = (session_id, starts_at)
            elif kind == "activity":
                activities.add(key)
            elif key not in due or (starts_at, session_id) < (due[key][1], due[key][0]):
                due[key] = (session_id, starts_at)
        missing = [
            cls(translation_key=key, session_id=due.get(key, (None, None))[0], starts_at=due.get(key, (None, None))[1])
            for key in activities | set(due)
            if key not in rows
        ]
        if missing:
            cls.objects.bulk_create(missing, ignore_conflicts=True)
        for key, held in rows.items():
            wanted = due.get(key, (None, None))
            if wanted != held:
                cls.objects.filter(translation_key=key, session_id=held[0], starts_at=held[1]).update(
                    session_id=wanted[0], starts_at=wanted[1]
                )
        return min((starts_at for _session_id, starts_at in due.values()), default=None)

    @classmethod
    def refresh_activity(cls, translation_key: uuid.UUID) -> None:
        """Set one activity's row from its sessions, holding the row's lock: in the transaction that changed them."""
        with transaction.atomic():
            cls.objects.bulk_create([cls(translation_key=translation_key)], ignore_conflicts=True)
            list(cls.objects.select_for_update().filter(translation_key=translation_key))
            following = (
                cls.upcoming()
                .filter(activity__translation_key=translation_key)
                .order_by("starts_at", "pk")
                .values_list("pk", "starts_at")
                .first()
            )
            session_id, starts_at = following or (None, None)
            cls.objects.filter(translation_key=translation_key).update(session_id=session_id, starts_at=starts_at)


# The services' changes to an activity's sessions, as their audit records name them (events/audit.py).
SESSIONS_RECORDED = frozenset({"events.sessions.add", "events.session.cancel"})


def sessions_recorded(sender, instance, action: str, **_signal) -> None:
    """A receiver of the audit records (plumbing.audit.recorded, connected in EventsConfig.ready()): sessions were
    added to an activity (in bulk, which sends no save signal) or one was cancelled. Its next session is set again in
    the same transaction, and the lists' kept copies of the sessions are stale."""
    if action not in SESSIONS_RECORDED:
        return
    if isinstance(instance, Session):
        activity = instance.activity
    elif isinstance(instance, ActivityPage):
        activity = instance
    else:  # a record of these actions about something else (the audit path's own tests make some)
        return
    NextSession.refresh_activity(activity.translation_key)
    sessions_changed()


# The sessions as the activity list and calendars keep them in each process (which sessions there are, when they
# start, whether cancelled; not their seats, read on every request): any save or deletion of a session row (the
# signals connected in EventsConfig.ready()) and the services' sessions added in bulk (`sessions_recorded`) start a
# new generation, at once and again on commit, as `bookings_changed` does.
SESSIONS_GENERATION = "events:sessions-generation"


def sessions_generation() -> str:
    return generation.current(SESSIONS_GENERATION)


def _new_sessions_generation() -> None:
    """A new generation, announced to every process (as the bookings generation is)."""
    generation.publish(SESSIONS_GENERATION)


def sessions_changed(**_signal) -> None:
    """As bookings_changed(): now, and again on commit when inside a transaction."""
    _new_sessions_generation()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_new_sessions_generation)


class HouseholdMember(models.Model):
    """A child or elderly relative a resident books for (PIPL: only a name and birth year)."""

    class Relation(models.TextChoices):
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        SPOUSE = "spouse", _("Spouse")
        OTHER = "other", _("Other relative")

    resident = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="household_members")
    name = models.CharField(_("name"), max_length=60)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), validators=[MinValueValidator(1900), MaxValueValidator(2100)])
    relation = models.CharField(_("relation"), max_length=20, choices=Relation.choices, default=Relation.CHILD)
    guardian_consent_at = models.DateTimeField(_("guardian's consent given at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        ordering = ["birth_year", "pk"]

    def __str__(self) -> str:
        return self.name

    def age_in(self, year: int) -> int:
        return year - self.birth_year


# Residents' booking lists as the API answers them are kept in the shared cache under this generation
# (events/api.py: my_bookings). Any change to a booking or a session's row starts a new one: save() and
# delete() through the signals connected in EventsConfig.ready(), a bookings' update() here, and the services'
# bookings made in bulk (services._place, outside the session's lock) by calling bookings_changed(). A session's
# update() touches only seats and the draw, which the lists do not show.
BOOKINGS_GENERATION = "events:bookings-generation"


def bookings_generation() -> str:
    return generation.current(BOOKINGS_GENERATION)


def _new_bookings_generation() -> None:
    """A new generation, announced to every process: those that keep a copy of it (with Redis) see it at once."""
    generation.publish(BOOKINGS_GENERATION)


def bookings_changed(**_signal) -> None:
    """A booking or session changed: the kept lists are stale. A new generation now (this process reads its own
    change at once) and again on commit, so that a list built from rows read before the commit is never kept under
    the generation after it (the anonymous page cache's rule). Outside a transaction the change has committed
    already: once is enough."""
    _new_bookings_generation()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_new_bookings_generation)


class BookingQuerySet(models.QuerySet):
    def update(self, **fields) -> int:
        rows = super().update(**fields)
        if rows:
            bookings_changed()
        return rows

    def active(self):
        return self.filter(status__in=Booking.ACTIVE)

    def holding_seat(self):
        return self.filter(status__in=Booking.HOLDING_SEAT)

    def waiting(self):
        return self.filter(status=Booking.Status.WAITLISTED).order_by("queued_at", "pk")


class Booking(models.Model):
    """One participant's place (or place in the queue) at one session.

    A course booked as a whole has one booking per session, all with the same `group`,
    created, promoted and cancelled together.
    """

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied for the draw")
        WAITLISTED = "waitlisted", _("On the waiting list")
        CONFIRMED = "confirmed", _("Confirmed")
        ATTENDED = "attended", _("Attended")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE = (Status.APPLIED, Status.WAITLISTED, Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW)
    HOLDING_SEAT = (Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW)

    session = models.ForeignKey(Session, verbose_name=_("session"), on_delete=models.PROTECT, related_name="bookings")
    group = models.UUIDField(default=uuid.uuid4, db_index=True, editable=False)
    # Who made the booking and whose household it counts against; empty for a walk-in
    # booked by staff for someone without an account.
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bookings",
    )
    member = models.ForeignKey(
        HouseholdMember, verbose_name=_("household member"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "u<id>" for the resident, "m<id>" for a household member, "p<phone>" for a walk-in:
    # one active booking per participant and session is a database constraint on it.
    participant_key = models.CharField(max_length=40, editable=False)
    participant_name = models.CharField(_("participant"), max_length=60)
    participant_birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    code = models.CharField(_("ticket code"), max_length=CODE_LENGTH, unique=True, default=new_ticket_code, editable=False)
    request_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    draw_rank = models.PositiveIntegerField(_("place in the draw"), null=True, blank=True)
    age_override = models.BooleanField(_("age band overridden by staff"), default=False)
    guardian_consent_at = models.DateTimeField(_("guardian's consent given at"), null=True, blank=True)
    late_cancellation = models.BooleanField(_("late cancellation"), default=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # A resident's booking commits its seat first and its audit entry and message in a second transaction: set on
    # the group's chosen booking by the INSERT, cleared by that second transaction, or by the sweep
    # (services.follow_up_bookings) when the process died between the two.
    follow_up_pending = models.BooleanField(default=False, editable=False)

    objects = BookingQuerySet.as_manager()

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["session__starts_at", "queued_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "participant_key"],
                condition=Q(status__in=["applied", "waitlisted", "confirmed", "attended", "no_show"]),
                name="one_active_booking_per_participant_and_session",
            )
        ]
        indexes = [
            models.Index(fields=["session", "status", "queued_at"]),
            models.Index(fields=["created_at"], condition=Q(follow_up_pending=True), name="booking_follow_up_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.participant_name}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def holds_seat(self) -> bool:
        return self.status in self.HOLDING_SEAT

    @property
    def display_code(self) -> str:
        return f"{self.code[:4]}-{self.code[4:]}"

    @property
    def ticket_text(self) -> str:
        """What the ticket's QR code holds: the check-in scanner reads it (services.normalise_code)."""
        return f"LINLI:{self.code}"

    known_position: int | None = None  # set by the seat decision that put it on the waiting list

    def waiting_position(self) -> int:
        """1-based place in the session's waiting list (as decided, for a booking just made)."""
        if self.known_position is not None:
            return self.known_position
        earlier = Q(queued_at__lt=self.queued_at) | Q(queued_at=self.queued_at, pk__lt=self.pk)
        return Booking.objects.filter(session_id=self.session_id, status=Booking.Status.WAITLISTED).filter(earlier).count() + 1

    def cancellation_deadline(self) -> datetime.datetime:
        return self.session.starts_at - datetime.timedelta(hours=self.session.activity.cancellation_hours)

    def cancelling_is_late(self, now: datetime.datetime | None = None) -> bool:
        """Whether the resident cancelling now counts as a late cancellation (only a held seat can be)."""
        return self.status in self.HOLDING_SEAT and (now or timezone.now()) > self.cancellation_deadline()


class BookingRequest(models.Model):
    """A resident's booking of a first-come session, sent from its page and decided in the order of arrival (its id)
    together with the others waiting for the same session (services.decide_booking_requests): in a rush the form is
    answered at once, and the decisions of many residents cost a few queries, not a dozen each. Kept a week."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    resident = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(HouseholdMember, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    guardian_consent = models.BooleanField(default=False)
    # The form's token, or a new one: the booking made carries it too (Booking.request_token), which links the two.
    request_token = models.UUIDField(default=uuid.uuid4, unique=True)
    language = models.CharField(max_length=10)  # the page's: a refusal is written in it
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    refusal = models.TextField(blank=True)  # why no booking was made, when none was

    class Meta:
        indexes = [
            models.Index(fields=["session", "id"], condition=Q(decided_at__isnull=True), name="booking_request_pending"),
            models.Index(fields=["resident", "created_at"], name="booking_request_of_resident"),
        ]

    def __str__(self) -> str:
        return f"{self.pk} · {self.session_id}"

    @functools.cached_property
    def booking(self) -> Booking | None:
        """The booking made, once decided and not refused (the deciding process sets it on the requests it decided)."""
        if self.decided_at is None or self.refusal:
            return None
        return Booking.objects.filter(request_token=self.request_token).first()


class CalendarFeed(models.Model):
    """A resident's private calendar feed address (unguessable token, can be reset)."""

    resident = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")

    def __str__(self) -> str:
        return str(self.resident)


class Draw(models.Model):
    """A published draw (摇号): its seed and the resulting order, so anyone can re-run it."""

    session = models.OneToOneField(Session, verbose_name=_("session"), on_delete=models.PROTECT, related_name="draw")
    seed = models.CharField(_("seed"), max_length=64)
    # The draw's input (application numbers = booking ids, with first-timer flags) and output.
    entrants = models.JSONField(_("entrants"), default=list)
    order = models.JSONField(_("order"), default=list)
    seats = models.PositiveIntegerField(_("seats drawn"))
    first_timer_priority = models.BooleanField(default=False)
    ran_at = models.DateTimeField(_("ran at"), default=timezone.now)
    ran_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("draw")
        verbose_name_plural = _("draws")

    def __str__(self) -> str:
        return f"{self.session} · {self.seed}"


@register_setting(icon="calendar")
class BookingPolicy(BaseGenericSetting):
    """The no-show policy and limits for bookings."""

    no_show_limit = models.PositiveSmallIntegerField(
        _("no-shows or late cancellations allowed"),
        default=3,
        validators=[MinValueValidator(1)],
        help_text=_("Reaching this many within the period suspends new bookings."),
    )
    period_days = models.PositiveSmallIntegerField(_("counted over (days)"), default=90, validators=[MinValueValidator(1)])
    suspension_days = models.PositiveSmallIntegerField(_("suspension (days)"), default=30, validators=[MinValueValidator(1)])

    panels = [FieldPanel("no_show_limit"), FieldPanel("period_days"), FieldPanel("suspension_days")]

    class Meta:
        verbose_name = _("booking policy")
