"""Residents' councils (居民议事会): members and terms, sessions with agendas, attendance, votes and results,
minutes, decisions with their notice period (公示期) and follow-up (督办).

Councils point at the source-language (zh-hans) community, like topics and letters. Text that residents
read is kept in both languages side by side (`title` / `title_en`); `home.i18n.label` picks the active one.

Secret ballots: who voted (`Participation`, one row per member and item) is stored apart from what was
chosen (`Ballot`: no member, no time, a random primary key, so no join links them). While the item's voting is
open every ballot is sealed (AES-GCM, `deliberation.council.sealing`) with a key derived from COUNCIL_BALLOT_KEY, which is
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
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from deliberation.mailbox.models import Topic
from home.i18n import label
from home.models import Community


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
        db_table = "deliberation_council"  # the table from when the apps were one
        verbose_name = _("council")
        verbose_name_plural = _("councils")
        ordering = ["community__code"]

    def __str__(self) -> str:
        return label(self, "name", mark_missing=True)

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
        db_table = "deliberation_councilmember"  # the table from when the apps were one
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
        db_table = "deliberation_councilsession"  # the table from when the apps were one
        verbose_name = _("council session")
        verbose_name_plural = _("council sessions")
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["status", "starts_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="deliberation_session_ends_after_start")
        ]

    def __str__(self) -> str:
        return label(self, "title", mark_missing=True)

    @property
    def display_title(self) -> str:
        return label(self, "title", mark_missing=True)

    @property
    def display_place(self) -> str:
        return label(self, "place", mark_missing=True)

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


# The sessions residents see (announced and later): the council's public pages, and a topic's council section.
PUBLIC_SESSION_STATUSES = [
    CouncilSession.Status.ANNOUNCED,
    CouncilSession.Status.IN_SESSION,
    CouncilSession.Status.CLOSED,
    CouncilSession.Status.MINUTES_PUBLISHED,
]


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
        db_table = "deliberation_agendaitem"  # the table from when the apps were one
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
        return label(self, "title", mark_missing=True)

    @property
    def display_title(self) -> str:
        return label(self, "title", mark_missing=True)

    @property
    def display_motion(self) -> str:
        return label(self, "motion", mark_missing=True)


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
        db_table = "deliberation_attendance"  # the table from when the apps were one
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
        db_table = "deliberation_recusal"  # the table from when the apps were one
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
        db_table = "deliberation_vote"  # the table from when the apps were one
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
        db_table = "deliberation_participation"  # the table from when the apps were one
        verbose_name = _("participation")
        constraints = [models.UniqueConstraint(fields=["item", "member"], name="deliberation_one_ballot_per_member")]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.member_id}"


class Ballot(models.Model):
    """A secret ballot: no member, no time, a random key; sealed while voting is open, plain once it closed.

    Open vote: `sealed` holds the AES-GCM ciphertext (choice and receipt digest, fixed length) and `choice` is
    empty; every vote on the item writes all its ballots again with new keys. Closed: `choice` alone, the
    ciphertext gone, written once more at close with new keys in a random order (`services.close_voting`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="ballots")
    choice = models.CharField(max_length=8, choices=Choice.choices, blank=True)
    sealed = models.BinaryField(null=True, editable=False)

    class Meta:
        db_table = "deliberation_ballot"  # the table from when the apps were one
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
        db_table = "deliberation_result"  # the table from when the apps were one
        verbose_name = _("result")
        ordering = ["council", "sequence"]
        constraints = [models.UniqueConstraint(fields=["council", "sequence"], name="deliberation_result_sequence_once")]

    def __str__(self) -> str:
        return f"{self.council_id}#{self.sequence}: {self.outcome}"

    def save(self, *args, **kwargs):
        """Stored once (by `services.close_voting`); PostgreSQL's trigger also refuses updates in SQL."""
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
    """One link of a council's tamper-evident chain (`chain.py`): a canonical copy of what was decided
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
        db_table = "deliberation_chainlink"  # the table from when the apps were one
        verbose_name = _("chain link")
        ordering = ["council", "sequence"]
        constraints = [models.UniqueConstraint(fields=["council", "sequence"], name="deliberation_chain_sequence_once")]

    def __str__(self) -> str:
        return f"{self.council_id}#{self.sequence}: {self.kind}"

    def save(self, *args, **kwargs):
        """Appended once (by `chain.py`); PostgreSQL's trigger also refuses updates in SQL."""
        if not self._state.adding:
            raise ValueError("a council chain link cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("a council chain link cannot be deleted")

    @property
    def short_mac(self) -> str:
        return self.mac[:16]


# --- The rules of a vote (services.py applies them) ---------------------------------------


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
