"""The resident mailbox (居民信箱): letters from every channel, topics they raise, residents' support.

Letters and topics point at the source-language (zh-hans) community and grid, like
resident profiles: they are shared by both languages of the portal.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting

from home.i18n import in_reader_language
from home.models import Community, Grid
from plumbing import workdays


class Category(models.TextChoices):
    PARKING = "parking", _("Parking")
    ELEVATOR = "elevator", _("Elevators in old buildings")
    GARBAGE = "garbage", _("Garbage sorting")
    NOISE = "noise", _("Noise")
    WATERLOGGING = "waterlogging", _("Waterlogging after rain")
    ELDERLY = "elderly", _("Elderly care and meals")
    SAFETY = "safety", _("Safety")
    ENVIRONMENT = "environment", _("Greenery and environment")
    OTHER = "other", _("Other")


@register_setting(icon="mail")
class MailboxSettings(BaseGenericSetting):
    """Rules of the resident mailbox that the street office may change without a deployment."""

    allow_anonymous = models.BooleanField(
        _("allow anonymous letters"),
        default=False,
        help_text=_("Visitors without an account may write, with an optional contact."),
    )
    accept_within_days = models.PositiveSmallIntegerField(_("accept within (working days)"), default=2)
    answer_within_days = models.PositiveSmallIntegerField(_("answer within (working days)"), default=10)
    sensitive_words = models.TextField(
        _("sensitive words"), blank=True, help_text=_("One per line; a public topic summary containing one is refused.")
    )

    panels = [
        FieldPanel("allow_anonymous"),
        FieldPanel("accept_within_days"),
        FieldPanel("answer_within_days"),
        FieldPanel("sensitive_words"),
    ]

    class Meta:
        db_table = "deliberation_mailboxsettings"  # the table from when the apps were one
        verbose_name = _("mailbox settings")

    def sensitive_word_list(self) -> list[str]:
        return [word.strip() for word in self.sensitive_words.splitlines() if word.strip()]


class CommunityMailbox(models.Model):
    """A community's e-mail address for letters and the support a topic needs to go to the council."""

    community = models.OneToOneField(Community, verbose_name=_("community"), on_delete=models.CASCADE, related_name="mailbox")
    address = models.EmailField(
        _("mailbox address"), blank=True, help_text=_("Letters sent to this address belong to the community.")
    )
    support_threshold = models.PositiveIntegerField(
        _("support threshold"), default=30, help_text=_("Supporters a topic needs to be ready for the council.")
    )

    class Meta:
        db_table = "deliberation_communitymailbox"  # the table from when the apps were one
        verbose_name = _("community mailbox")
        verbose_name_plural = _("community mailboxes")

    def __str__(self) -> str:
        return str(self.community)


class TrackingCounter(models.Model):
    """The last tracking number given out in a year; its row is locked while a number is taken."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "deliberation_trackingcounter"  # the table from when the apps were one

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Topic(models.Model):
    """A topic (议题): the concern several letters raise, supported by residents, settled by the council."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open for support")
        SHORTLISTED = "shortlisted", _("Shortlisted")
        SCHEDULED = "scheduled", _("Scheduled for a session")
        DECIDED = "decided", _("Decided")
        FOLLOW_UP = "follow_up", _("In follow-up")
        CLOSED = "closed", _("Closed")
        REJECTED = "rejected", _("Rejected")

    community = models.ForeignKey(Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=120)
    summary = models.TextField(_("public summary"), blank=True, help_text=_("Anonymised: no names, phone numbers or addresses."))
    # What English pages show; empty: the Chinese, marked "(no English yet)" (display_title, display_summary).
    title_en = models.CharField(_("title (English)"), max_length=120, blank=True)
    summary_en = models.TextField(_("public summary (English)"), blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    summary_approved_at = models.DateTimeField(_("summary approved at"), null=True, blank=True)
    summary_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("summary approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    shingles = models.TextField(editable=False, blank=True)  # character bigrams of title and summary, for similarity

    class Meta:
        db_table = "deliberation_topic"  # the table from when the apps were one
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""), name="deliberation_topic_rejected_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def display_title(self) -> str:
        return in_reader_language(self.title, self.title_en)

    @property
    def display_summary(self) -> str:
        return in_reader_language(self.summary, self.summary_en)

    @property
    def is_public(self) -> bool:
        """Residents see a topic once staff approved its summary."""
        return self.summary_approved_at is not None

    @property
    def accepts_support(self) -> bool:
        return self.is_public and self.status in (self.Status.OPEN, self.Status.SHORTLISTED)


class Support(models.Model):
    """One verified resident's support for a topic (one each: a database constraint)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="supports")
    resident = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "deliberation_support"  # the table from when the apps were one
        verbose_name = _("support")
        constraints = [models.UniqueConstraint(fields=["topic", "resident"], name="deliberation_one_support_per_resident")]

    def __str__(self) -> str:
        return f"{self.resident_id} → {self.topic_id}"


class Letter(models.Model):
    """A letter (来信) from a resident, by any channel; its text is private to its writer and the community's staff."""

    class Channel(models.TextChoices):
        WEB = "web", _("Web form")
        EMAIL = "email", _("E-mail")
        HOTLINE = "hotline", _("Hotline or petition record")
        STAFF = "staff", _("Entered by staff")

    class Privacy(models.TextChoices):
        SUMMARY = "summary", _("May be published as an anonymised summary")
        STAFF_ONLY = "staff_only", _("Staff only")

    class Status(models.TextChoices):
        NEW = "new", _("Received")
        ACCEPTED = "accepted", _("Accepted")
        ANSWERED = "answered", _("Answered")
        MERGED = "merged", _("Merged into a topic")
        OUT_OF_SCOPE = "out_of_scope", _("Out of scope")

    CLOSED_STATUSES = (Status.ANSWERED, Status.OUT_OF_SCOPE)

    tracking_number = models.CharField(_("tracking number"), max_length=12, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    writer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("writer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="letters",
    )
    contact_name = models.CharField(_("name"), max_length=60, blank=True)
    contact = models.CharField(_("contact"), max_length=254, blank=True, help_text=_("E-mail or phone number."))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    community = models.ForeignKey(
        Community, verbose_name=_("community"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    grid = models.ForeignKey(Grid, verbose_name=_("grid"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.OTHER)
    subject = models.CharField(_("subject"), max_length=120)
    body = models.TextField(_("text"))
    place = models.CharField(_("place"), max_length=120, blank=True)
    privacy = models.CharField(_("privacy"), max_length=12, choices=Privacy.choices, default=Privacy.STAFF_ONLY)
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.NEW)
    out_of_scope_reason = models.TextField(_("reason it is out of scope"), blank=True)
    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.PROTECT, related_name="letters"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    external_id = models.CharField(
        _("record id"), max_length=64, blank=True, help_text=_("The hotline or petition record's own id.")
    )
    consent_recorded = models.BooleanField(_("resident's consent recorded"), default=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    satisfied = models.BooleanField(_("satisfied"), null=True, blank=True)
    shingles = models.TextField(editable=False, blank=True)
    # Writers without an account (e-mail, anonymous web letters) follow their letter with this secret link.
    access_key = models.CharField(max_length=32, blank=True, editable=False)
    # A phone client's Idempotency-Key: the same key sent again returns this letter instead of a second one.
    request_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        db_table = "deliberation_letter"  # the table from when the apps were one
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["community", "status"]), models.Index(fields=["writer", "received_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], condition=~Q(external_id=""), name="deliberation_letter_record_once"
            ),
            models.CheckConstraint(
                condition=~Q(status="out_of_scope") | ~Q(out_of_scope_reason=""),
                name="deliberation_letter_out_of_scope_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(topic__isnull=False), name="deliberation_letter_merged_has_topic"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_number} {self.subject}"

    @property
    def awaits_satisfaction(self) -> bool:
        """Closed and not yet rated: its writer is asked the one satisfaction question."""
        return self.is_closed and self.satisfied is None

    @property
    def is_closed(self) -> bool:
        """Closed for the writer: answered, out of scope, or its topic closed or rejected."""
        if self.status in self.CLOSED_STATUSES:
            return True
        return self.topic is not None and self.topic.status in (Topic.Status.CLOSED, Topic.Status.REJECTED)

    def accept_due(self) -> datetime.date:
        return workdays.add(timezone.localdate(self.received_at), MailboxSettings.load().accept_within_days)

    def answer_due(self) -> datetime.date:
        return workdays.add(timezone.localdate(self.received_at), MailboxSettings.load().answer_within_days)

    def is_overdue(self, *, today: datetime.date | None = None, mailbox: MailboxSettings | None = None) -> bool:
        """Not accepted within the accept deadline, or neither answered nor merged within the answer deadline."""
        today = today or timezone.localdate()
        mailbox = mailbox or MailboxSettings.load()
        received = timezone.localdate(self.received_at)
        if self.status == self.Status.NEW:
            return today > workdays.add(received, mailbox.accept_within_days)
        if self.status == self.Status.ACCEPTED:
            return today > workdays.add(received, mailbox.answer_within_days)
        return False


class LetterPhoto(models.Model):
    """A photo sent with a letter, re-encoded without EXIF or location; kept in the database, served only to those who may read the letter."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="photos")
    content_type = models.CharField(max_length=40)
    data = models.BinaryField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        db_table = "deliberation_letterphoto"  # the table from when the apps were one
        verbose_name = _("photo")

    def __str__(self) -> str:
        return f"{self.letter_id}/{self.pk}"


class LetterEvent(models.Model):
    """A step of a letter's timeline; each is e-mailed to the writer once (`notified_at`)."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Received")
        ACCEPTED = "accepted", _("Accepted")
        REPLIED = "replied", _("Reply from the community")
        ANSWERED = "answered", _("Answered")
        MERGED = "merged", _("Merged into a topic")
        OUT_OF_SCOPE = "out_of_scope", _("Out of scope")
        TOPIC_STATUS = "topic_status", _("Topic status changed")
        WRITER_REPLIED = "writer_replied", _("Reply from the writer")

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    topic_status = models.CharField(max_length=20, choices=Topic.Status.choices, blank=True)
    message = models.TextField(blank=True)  # a reply or a reason, shown to the writer
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "deliberation_letterevent"  # the table from when the apps were one
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.letter_id}: {self.kind}"

    def describe(self) -> str:
        """The step in the active language, as the writer reads it."""
        if self.kind == self.Kind.TOPIC_STATUS:
            return str(Topic.Status(self.topic_status).label) if self.topic_status else self.get_kind_display()
        return self.get_kind_display()


class LetterNote(models.Model):
    """An internal note of the community's staff on a letter; never shown to the writer."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "deliberation_letternote"  # the table from when the apps were one
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.text[:40]


class TopicChange(models.Model):
    """The audit log of letters merged into, moved between and split out of topics."""

    class Action(models.TextChoices):
        MERGED = "merged", _("Merged")
        MOVED = "moved", _("Moved")
        SPLIT = "split", _("Split out")

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="topic_changes")
    action = models.CharField(max_length=10, choices=Action.choices)
    from_topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "deliberation_topicchange"  # the table from when the apps were one
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.letter_id}: {self.action}"


class IncomingMail(models.Model):
    """A message fetched from the mailbox over IMAP: one row per UID, whatever became of it."""

    class Outcome(models.TextChoices):
        LETTER = "letter", _("Became a letter")
        REPLY = "reply", _("A writer's reply to their letter")
        AUTOMATIC = "automatic", _("Automatic message (ignored)")
        DUPLICATE = "duplicate", _("Copy of a message already stored")
        QUARANTINED = "quarantined", _("Quarantined")

    class Reason(models.TextChoices):
        """Why a message was quarantined."""

        UNREADABLE = "unreadable", _("Unreadable")
        INVALID_SENDER = "invalid_sender", _("No usable sender address")
        TOO_LARGE = "too_large", _("Too large")
        TOO_MANY_PARTS = "too_many_parts", _("Too many parts")
        EMPTY = "empty", _("Empty")
        SPAM = "spam", _("Spam")
        FLOOD = "flood", _("Too many letters from this sender")
        ERROR = "error", _("Could not be stored")

    folder = models.CharField(max_length=100)
    uidvalidity = models.PositiveBigIntegerField()
    uid = models.PositiveBigIntegerField()
    message_id = models.CharField(max_length=255, blank=True)
    # Sender, date, subject and body: the same message under another UID (a moved mailbox) is a duplicate.
    content_hash = models.CharField(max_length=64, blank=True)
    sender = models.CharField(max_length=254, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    letter = models.OneToOneField(Letter, null=True, blank=True, on_delete=models.SET_NULL, related_name="incoming_mail")
    replied_to = models.ForeignKey(Letter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True)
    raw = models.BinaryField(blank=True)  # kept for quarantined messages, so that none is lost
    note = models.TextField(blank=True)  # e.g. attachments that were dropped
    fetched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "deliberation_incomingmail"  # the table from when the apps were one
        verbose_name = _("incoming e-mail")
        indexes = [models.Index(fields=["sender", "fetched_at"])]
        constraints = [
            models.UniqueConstraint(fields=["folder", "uidvalidity", "uid"], name="deliberation_mail_uid_once"),
            models.UniqueConstraint(
                fields=["content_hash"],
                condition=~Q(content_hash="") & ~Q(outcome="duplicate"),
                name="deliberation_mail_content_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.folder}/{self.uidvalidity}/{self.uid}"


class HotlineColumnMapping(models.Model):
    """Which column of a community's hotline or petition export holds which field; saved once, reused."""

    community = models.OneToOneField(Community, on_delete=models.CASCADE, related_name="+")
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "deliberation_hotlinecolumnmapping"  # the table from when the apps were one

    def __str__(self) -> str:
        return str(self.community)


class HotlineUpload(models.Model):
    """An uploaded hotline or petition export, read into rows, waiting for its preview and import."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    filename = models.CharField(max_length=200)
    headers = models.JSONField(default=list)
    rows = models.JSONField(default=list)
    imported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "deliberation_hotlineupload"  # the table from when the apps were one

    def __str__(self) -> str:
        return self.filename
