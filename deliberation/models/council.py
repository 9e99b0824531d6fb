"""Residents' councils (居民议事会): members and terms, sessions with agendas, attendance, votes and results,
minutes, decisions with their notice period (公示期) and follow-up (督办).

Councils point at the source-language (zh-hans) community, like topics and letters. Text that residents
read is kept in both languages side by side (`title` / `title_en`); `localized()` picks the active one.

Secret ballots: who voted (`Participation`, one row per member and item) is stored apart from what was
chosen (`Ballot`: no member, no time, a random primary key, so no join links them). While the item's voting is
open every ballot is sealed (AES-GCM, `deliberation.sealing`) with a key derived from COUNCIL_BALLOT_KEY, which is
not in the database, and the item's salt; each vote seals all of the item's ballots again, with fresh nonces and
new random keys, in a random order, so neither a ciphertext, a row's key nor the row order tells which ballot
came or changed when. A member changes a secret vote with the receipt their device keeps; its digest is sealed
inside the ballot. At close the ballots are opened, counted and stored plain (item and choice only, new keys,
shuffled) and the salt and every ciphertext are deleted: from then on no receipt matches anything.
"""

from __future__ import annotations

import base64
import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, Panel
from wagtail.fields import RichTextField
from wagtail.models import Page, PagePermissionTester
from wagtail.search import index

from home.i18n import in_reader_language
from home.models import Community, display_name

from .mailbox import Topic


def localized(obj, field: str) -> str:
    """`obj.<field>_en` when English is active and it is filled in, else the Chinese `obj.<field>` (on English
    pages marked "(no English yet)", home.i18n.in_reader_language)."""
    return in_reader_language(getattr(obj, field), getattr(obj, f"{field}_en", ""))


class Council(models.Model):
    """A community's residents' council; only its current members vote in it."""

    class Quorum(models.TextChoices):
        MORE_THAN_HALF = "half", _("More than half of current members present")
        TWO_THIRDS = "two_thirds", _("At least two-thirds of current members present")

    community = models.OneToOneField(Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="council")
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    quorum = models.CharField(_("quorum"), max_length=12, choices=Quorum.choices, default=Quorum.MORE_THAN_HALF)
    notice_days = models.PositiveSmallIntegerField(
        _("notice period (working days)"), default=5, help_text=_("How long a passed decision is posted for objections.")
    )

    class Meta:
        verbose_name = _("council")
        verbose_name_plural = _("councils")
        ordering = ["community__code"]

    def __str__(self) -> str:
        return localized(self, "name")

    def current_members(self, on: datetime.date | None = None) -> models.QuerySet[CouncilMember]:
        """Members whose term includes `on` (default today)."""
        on = on or timezone.localdate()
        return self.members.filter(Q(term_end__isnull=True) | Q(term_end__gte=on), term_start__lte=on)

    def quorum_needed(self, members: int) -> int:
        """Members that must be present for a quorum among `members` eligible ones."""
        if self.quorum == self.Quorum.TWO_THIRDS:
            return -(-2 * members // 3)  # ceiling of 2/3
        return members // 2 + 1


class CouncilMember(models.Model):
    """A resident's seat on a council for a term (from/to); a later term is a new row."""

    class Role(models.TextChoices):
        CHAIR = "chair", _("Chair")
        SECRETARY = "secretary", _("Secretary")
        MEMBER = "member", _("Member")

    council = models.ForeignKey(Council, verbose_name=_("council"), on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="council_seats"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    term_start = models.DateField(_("term from"))
    term_end = models.DateField(_("term to"), null=True, blank=True)

    class Meta:
        verbose_name = _("council member")
        verbose_name_plural = _("council members")
        ordering = ["council", "role", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["council", "user", "term_start"], name="deliberation_one_seat_per_term"),
            models.CheckConstraint(
                condition=Q(term_end__isnull=True) | Q(term_end__gte=models.F("term_start")),
                name="deliberation_member_term_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    def is_current(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.term_start <= on and (self.term_end is None or self.term_end >= on)


class CouncilSession(models.Model):
    """A council session (议事会会议): draft → announced → in session → closed → minutes published."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        ONLINE = "online", _("Online")
        HYBRID = "hybrid", _("Hybrid")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ANNOUNCED = "announced", _("Announced")
        IN_SESSION = "in_session", _("In session")
        CLOSED = "closed", _("Closed")
        MINUTES_PUBLISHED = "minutes_published", _("Minutes published")
        CANCELLED = "cancelled", _("Cancelled")

    council = models.ForeignKey(Council, verbose_name=_("council"), on_delete=models.PROTECT, related_name="sessions")
    title = models.CharField(_("title (Chinese)"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=120, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("place (Chinese)"), max_length=120, blank=True)
    place_en = models.CharField(_("place (English)"), max_length=120, blank=True)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.IN_PERSON)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    # The door QR code's key is derived (`door_key`); starting the session turns this counter, so a code
    # printed or photographed before the start stops working.
    door_rotation = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    announced_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("council session")
        verbose_name_plural = _("council sessions")
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["status", "starts_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="deliberation_session_ends_after_start")
        ]

    def __str__(self) -> str:
        return localized(self, "title")

    @property
    def display_title(self) -> str:
        return localized(self, "title")

    @property
    def display_place(self) -> str:
        return localized(self, "place")

    @property
    def is_public(self) -> bool:
        return self.status not in (self.Status.DRAFT, self.Status.CANCELLED)

    @property
    def door_key(self) -> str:
        """The secret in the door QR code: an HMAC (with SECRET_KEY) of the session, its day and its rotation,
        so it is this session's only, changes with the session's day and when the session starts, and a
        database copy alone cannot forge it."""
        if self.pk is None:
            return ""
        value = f"{self.pk}:{timezone.localdate(self.starts_at).isoformat()}:{self.door_rotation}"
        digest = salted_hmac("deliberation.council.door", value, algorithm="sha256").digest()
        return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


class AgendaItem(models.Model):
    """One item of a session's agenda: a motion about a topic, or free-standing, with its voting rule."""

    class Rule(models.TextChoices):
        SIMPLE = "simple", _("Simple majority of votes cast")
        ABSOLUTE = "absolute", _("Absolute majority of members")
        TWO_THIRDS = "two_thirds", _("Two-thirds of members")

    class Ballot(models.TextChoices):
        OPEN = "open", _("Open ballot")
        SECRET = "secret", _("Secret ballot")

    class Status(models.TextChoices):
        PENDING = "pending", _("Not yet voted")
        OPEN = "open", _("Voting open")
        CLOSED = "closed", _("Voting closed")

    session = models.ForeignKey(CouncilSession, verbose_name=_("session"), on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("position"))
    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.PROTECT, related_name="agenda_items"
    )
    title = models.CharField(_("title (Chinese)"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=120, blank=True)
    motion = models.TextField(_("motion (Chinese)"))
    motion_en = models.TextField(_("motion (English)"), blank=True)
    rule = models.CharField(_("voting rule"), max_length=12, choices=Rule.choices, default=Rule.SIMPLE)
    ballot = models.CharField(_("ballot"), max_length=8, choices=Ballot.choices, default=Ballot.OPEN)
    public_notice = models.BooleanField(
        _("public notice period if passed"),
        default=True,
        help_text=_("Off for procedural items such as approving the minutes: if passed, they take effect at once."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    opened_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True, help_text=_("Voting closes by itself at this time."))
    closed_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The random salt of this item's ballot key (deliberation.sealing), set when a secret vote opens and deleted
    # when it closes: with it goes the only way to open the item's sealed ballots.
    ballot_salt = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="deliberation_agenda_position_once"),
            models.CheckConstraint(
                condition=Q(ballot_salt__isnull=True) | Q(status="open", ballot="secret"),
                name="deliberation_ballot_salt_only_while_secret_vote_open",
            ),
        ]

    def __str__(self) -> str:
        return localized(self, "title")

    @property
    def display_title(self) -> str:
        return localized(self, "title")

    @property
    def display_motion(self) -> str:
        return localized(self, "motion")


class Choice(models.TextChoices):
    YES = "yes", _("In favour")
    NO = "no", _("Against")
    ABSTAIN = "abstain", _("Abstain")


class Attendance(models.Model):
    """A member present at a session: by the door QR code, online, or marked by the secretary."""

    class Method(models.TextChoices):
        QR = "qr", _("QR code at the door")
        ONLINE = "online", _("Online")
        SECRETARY = "secretary", _("Marked by the secretary")

    session = models.ForeignKey(CouncilSession, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(CouncilMember, on_delete=models.PROTECT, related_name="attendances")
    method = models.CharField(max_length=10, choices=Method.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    checked_in_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attendance")
        constraints = [models.UniqueConstraint(fields=["session", "member"], name="deliberation_attend_once")]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.member_id}"


class Recusal(models.Model):
    """A member's declared conflict of interest on an item: they do not vote on it and do not count for its quorum.

    Declared by the member on their device, or recorded by the secretary for a member in the room
    (`recorded_by`); withdrawn (the row deleted, the audit log keeps both steps) only before voting opens."""

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="recusals")
    member = models.ForeignKey(CouncilMember, on_delete=models.PROTECT, related_name="recusals")
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The secretary (or chair, or staff) who recorded the recusal of a member in the room."),
    )  # fmt: skip
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("recusal")
        constraints = [models.UniqueConstraint(fields=["item", "member"], name="deliberation_recuse_once")]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.member_id}"


class Vote(models.Model):
    """A member's vote on an open-ballot item (one per member and item; changed in place until voting closes)."""

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(CouncilMember, on_delete=models.PROTECT, related_name="votes")
    choice = models.CharField(max_length=8, choices=Choice.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The secretary who recorded the vote of a member in the room."),
    )  # fmt: skip
    cast_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("vote")
        constraints = [models.UniqueConstraint(fields=["item", "member"], name="deliberation_one_vote_per_member")]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.member_id}"


class Participation(models.Model):
    """That a member voted on a secret-ballot item (one per member and item); never what they chose."""

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="participations")
    member = models.ForeignKey(CouncilMember, on_delete=models.PROTECT, related_name="participations")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("participation")
        constraints = [models.UniqueConstraint(fields=["item", "member"], name="deliberation_one_ballot_per_member")]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.member_id}"


class Ballot(models.Model):
    """A secret ballot: no member, no time, a random key; sealed while voting is open, plain once it closed.

    Open vote: `sealed` holds the AES-GCM ciphertext (choice and receipt digest, fixed length) and `choice` is
    empty; every vote on the item writes all its ballots again with new keys. Closed: `choice` alone, the
    ciphertext gone, written once more at close with new keys in a random order (`services.council`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="ballots")
    choice = models.CharField(max_length=8, choices=Choice.choices, blank=True)
    sealed = models.BinaryField(null=True, editable=False)

    class Meta:
        verbose_name = _("secret ballot")
        constraints = [
            models.CheckConstraint(
                condition=Q(sealed__isnull=False, choice="") | Q(sealed__isnull=True, choice__in=Choice.values),
                name="deliberation_ballot_sealed_or_counted",
            )
        ]

    def __str__(self) -> str:
        return str(self.id)


class Result(models.Model):
    """The stored result of an item's vote; never changed, chained by hash to the council's previous result.

    `digest` is the SHA-256 of the canonical form of every field below and `previous_digest`, so a later
    change to any stored result breaks the chain (`manage.py verify_results`).
    """

    class Outcome(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Not passed")
        NO_QUORUM = "no_quorum", _("No quorum")

    item = models.OneToOneField(AgendaItem, on_delete=models.PROTECT, related_name="result")
    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="results")
    sequence = models.PositiveIntegerField()
    rule = models.CharField(max_length=12, choices=AgendaItem.Rule.choices)
    ballot = models.CharField(max_length=8, choices=AgendaItem.Ballot.choices)
    members = models.PositiveIntegerField(help_text=_("Current members, not counting those recused."))
    present = models.PositiveIntegerField()
    recused = models.PositiveIntegerField()
    quorum_needed = models.PositiveIntegerField()
    yes = models.PositiveIntegerField()
    no = models.PositiveIntegerField()
    abstain = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    closed_at = models.DateTimeField()
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    previous_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("result")
        ordering = ["council", "sequence"]
        constraints = [models.UniqueConstraint(fields=["council", "sequence"], name="deliberation_result_sequence_once")]

    def __str__(self) -> str:
        return f"{self.council_id}#{self.sequence}: {self.outcome}"

    def save(self, *args, **kwargs):
        """Stored once (by `services.council.close_voting`); PostgreSQL's trigger also refuses updates in SQL."""
        if not self._state.adding:
            raise ValueError("a stored council result cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("a stored council result cannot be deleted")

    @property
    def passed(self) -> bool:
        return self.outcome == self.Outcome.PASSED

    @property
    def threshold(self) -> str:
        """What the item needed to pass, in the active language (`threshold_text`)."""
        return threshold_text(rule=self.rule, members=self.members)


class ChainLink(models.Model):
    """One link of a council's tamper-evident chain (`services.chain`): a canonical copy of what was decided
    (`payload`) and an HMAC-SHA256, with a key kept outside the database, over it and the previous link's MAC.

    An item's close links its result, votes or secret ballots, recusals and the attendance of the moment; a
    session's end links its final attendance; the minutes' publication links the published text. Never changed
    or deleted (PostgreSQL's trigger refuses it in SQL too); `manage.py verify_results` recomputes every payload
    from the rows and every MAC with the key.
    """

    class Kind(models.TextChoices):
        ITEM = "item", _("Item closed")
        SESSION = "session", _("Session ended")
        MINUTES = "minutes", _("Minutes published")

    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="chain_links")
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    session = models.ForeignKey(CouncilSession, on_delete=models.PROTECT, related_name="chain_links")
    item = models.ForeignKey(AgendaItem, null=True, blank=True, on_delete=models.PROTECT, related_name="chain_links")
    payload = models.JSONField()
    created_at = models.DateTimeField()
    previous_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("chain link")
        ordering = ["council", "sequence"]
        constraints = [models.UniqueConstraint(fields=["council", "sequence"], name="deliberation_chain_sequence_once")]

    def __str__(self) -> str:
        return f"{self.council_id}#{self.sequence}: {self.kind}"

    def save(self, *args, **kwargs):
        """Appended once (by `services.chain`); PostgreSQL's trigger also refuses updates in SQL."""
        if not self._state.adding:
            raise ValueError("a council chain link cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("a council chain link cannot be deleted")

    @property
    def short_mac(self) -> str:
        return self.mac[:16]


class Decision(models.Model):
    """A passed item's decision: posted for a notice period, answered objections, then in effect and followed up."""

    class Status(models.TextChoices):
        NOTICE = "notice", _("In notice period")
        IN_EFFECT = "in_effect", _("In effect")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    item = models.OneToOneField(AgendaItem, on_delete=models.PROTECT, related_name="decision")
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions")
    summary = models.TextField(_("decision (Chinese)"))
    summary_en = models.TextField(_("decision (English)"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NOTICE)
    notice_until = models.DateField(_("notice period ends"), null=True, blank=True)
    effective_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    suggestion_points_awarded = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return localized(self, "summary")[:60]

    @property
    def display_summary(self) -> str:
        return localized(self, "summary")


class Objection(models.Model):
    """A resident's objection to a decision during its notice period; it must be answered before the decision takes effect."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="objections")
    resident = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("objection"))
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    created_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(_("answer"), blank=True)
    answer_en = models.TextField(_("answer (English)"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "resident"], condition=Q(answered_at__isnull=True), name="deliberation_one_open_objection"
            )
        ]

    def __str__(self) -> str:
        return self.text[:40]

    @property
    def display_answer(self) -> str:
        return localized(self, "answer")


class FollowUpAction(models.Model):
    """One action (督办事项) carrying out a decision: who, by when, how far."""

    class Party(models.TextChoices):
        RESIDENTS_COMMITTEE = "residents_committee", _("Residents' committee")
        PROPERTY_MANAGEMENT = "property_management", _("Property management")
        OWNERS_COMMITTEE = "owners_committee", _("Owners' committee")
        STREET_OFFICE = "street_office", _("Street office")

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(_("action (Chinese)"), max_length=200)
    description_en = models.CharField(_("action (English)"), max_length=200, blank=True)
    party = models.CharField(_("responsible party"), max_length=20, choices=Party.choices)
    due_on = models.DateField(_("due on"))
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up action")
        verbose_name_plural = _("follow-up actions")
        ordering = ["due_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="deliberation_action_progress_at_most_100")]

    def __str__(self) -> str:
        return localized(self, "description")

    @property
    def display_description(self) -> str:
        return localized(self, "description")

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        return self.completed_at is None and (today or timezone.localdate()) > self.due_on


class ActionUpdate(models.Model):
    """A dated progress report on a follow-up action."""

    action = models.ForeignKey(FollowUpAction, on_delete=models.CASCADE, related_name="updates")
    progress = models.PositiveSmallIntegerField(_("progress (%)"))
    note = models.TextField(_("note (Chinese)"), blank=True)
    note_en = models.TextField(_("note (English)"), blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="deliberation_update_progress_at_most_100")]

    def __str__(self) -> str:
        return f"{self.action_id}: {self.progress}%"

    @property
    def display_note(self) -> str:
        return localized(self, "note")


class MinutesConfirmation(models.Model):
    """A member's online confirmation of a session's minutes, with the digest of the text they confirmed
    (`services.followup.minutes_text_digest`): a confirmation of another text does not count."""

    session = models.ForeignKey(CouncilSession, on_delete=models.CASCADE, related_name="minutes_confirmations")
    member = models.ForeignKey(CouncilMember, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)
    text_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "member"], name="deliberation_confirm_minutes_once")]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.member_id}"


class MinutesIndexPage(Page):
    """The list of a council's published minutes (议事会会议纪要)."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["home.HomePage", "home.CommunityPage"]
    subpage_types = ["deliberation.MinutesPage"]

    class Meta:
        verbose_name = _("minutes index")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["minutes"] = MinutesPage.objects.child_of(self).live().select_related("session").order_by("-held_on", "-pk")
        return context


class MinutesResultsPanel(Panel):
    """The minutes' results section in the page editor: generated from the stored results, read-only."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "deliberation/admin/minutes_results_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            session = getattr(self.instance, "session", None)
            locale = getattr(self.instance, "locale", None)
            language = locale.language_code if locale is not None and locale.pk else settings.LANGUAGE_CODE
            with translation.override(language):
                context["results"] = minutes_results(session=session) if session is not None else ""
            return context


class MinutesPage(Page):
    """A session's minutes: free text (`body` before the results, `closing` after them) around the results
    section, which is rendered from the stored results and never edited; confirmed by the members, then
    published in both languages."""

    session = models.ForeignKey(
        CouncilSession, verbose_name=_("session"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    held_on = models.DateField(_("held on"))
    body = RichTextField(
        _("minutes before the results"),
        features=["h2", "h3", "bold", "italic", "ol", "ul", "link"],
        help_text=_("Free text before the results section: the session, attendance, discussion."),
    )
    closing = RichTextField(
        _("minutes after the results"),
        features=["h2", "h3", "bold", "italic", "ol", "ul", "link"],
        blank=True,
        help_text=_("Free text after the results section: decisions, other business."),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("held_on"),
        FieldPanel("body"),
        MinutesResultsPanel(heading=_("Results (generated from the stored results, read-only)")),
        FieldPanel("closing"),
    ]
    parent_page_types = ["deliberation.MinutesIndexPage"]
    subpage_types: list[str] = []
    search_fields = [*Page.search_fields, index.SearchField("body"), index.SearchField("closing")]

    class Meta:
        verbose_name = _("minutes")
        verbose_name_plural = _("minutes")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["results"] = minutes_results(session=self.session) if self.session_id else ""
        return context

    def permissions_for_user(self, user):
        return MinutesPermissionTester(user, self)


class MinutesPermissionTester(PagePermissionTester):
    """Minutes are edited in the admin like any page but published only by `followup.publish_minutes`,
    once more than half of the members present confirmed them: nobody publishes them from the editor."""

    def can_publish(self) -> bool:
        return False

    def can_unpublish(self) -> bool:
        return False


# --- The rules of a vote (services.council applies them) ---------------------------------------


def yes_needed(*, rule: str, members: int) -> int | None:
    """The votes in favour an item needs to pass under `rule` among `members`; None for a simple majority
    (it depends on the votes against)."""
    if rule == AgendaItem.Rule.SIMPLE:
        return None
    if rule == AgendaItem.Rule.ABSOLUTE:
        return members // 2 + 1  # 2 * yes > members
    if rule == AgendaItem.Rule.TWO_THIRDS:
        return max(1, -(-2 * members // 3))  # ceiling of 2/3; with no member at all nothing passes
    raise ValueError(f"unknown rule {rule}")


def outcome_of(*, rule: str, yes: int, no: int, members: int, quorum_met: bool) -> str:
    """The rules of the module docstring; ties fail."""
    if not quorum_met:
        return Result.Outcome.NO_QUORUM
    needed = yes_needed(rule=rule, members=members)
    passed = yes > no if needed is None else yes >= needed
    return Result.Outcome.PASSED if passed else Result.Outcome.FAILED


def threshold_text(*, rule: str, members: int) -> str:
    """What an item needed to pass, in the active language, e.g. "需 5 票赞成（全体 7 人的三分之二）".

    `members` is `Result.members` (current members not recused); `needed` is what `outcome_of` applies."""
    needed = yes_needed(rule=rule, members=members)
    if needed is None:
        return gettext("Needs more votes in favour than against (simple majority)")
    values = {"needed": needed, "members": members}
    if rule == AgendaItem.Rule.TWO_THIRDS:
        return (
            ngettext(
                "Needs %(needed)s vote in favour (two-thirds of all %(members)s members)",
                "Needs %(needed)s votes in favour (two-thirds of all %(members)s members)",
                needed,
            )
            % values
        )
    return (
        ngettext(
            "Needs %(needed)s vote in favour (more than half of all %(members)s members)",
            "Needs %(needed)s votes in favour (more than half of all %(members)s members)",
            needed,
        )
        % values
    )


# --- The minutes' results section, generated from the stored results ----------------------------


def _open_votes(items: list[AgendaItem]) -> dict[int, list[tuple[str, list[str]]]]:
    """Who voted how on open-ballot items (never on secret ones), by item and choice."""
    open_items = [item.pk for item in items if item.ballot == AgendaItem.Ballot.OPEN]
    by_item: dict[int, dict[str, list[str]]] = {}
    for vote in Vote.objects.filter(item__in=open_items).select_related("member__user__profile").order_by("member__pk"):
        by_item.setdefault(vote.item_id, {}).setdefault(vote.choice, []).append(display_name(vote.member.user))
    return {
        item_id: [(str(Choice(choice).label), names[choice]) for choice in Choice.values if choice in names]
        for item_id, names in by_item.items()
    }


def items_with_results(session: CouncilSession) -> list[AgendaItem]:
    items = list(session.items.select_related("result", "decision").order_by("position"))
    open_votes = _open_votes(items)
    for item in items:  # a reverse one-to-one without a row raises on access: look once, here
        item.stored_result = item.result if hasattr(item, "result") else None
        item.stored_decision = item.decision if hasattr(item, "decision") else None
        item.open_votes = open_votes.get(item.pk, [])
    return items


def minutes_results(*, session: CouncilSession) -> str:
    """The minutes' results section in the active language, rendered from the stored results (what each item
    needed, the counts, who voted how on open ballots, the outcome). It is never part of the editable text:
    every page, editor and mail that shows the minutes renders it afresh, so the minutes cannot contradict
    the results."""
    context = {"session": session, "items": items_with_results(session)}
    return render_to_string("deliberation/followup/minutes_results.html", context).strip()
