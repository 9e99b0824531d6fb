"""Every message to a person, written in the same transaction as the change that causes it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Message(models.Model):
    """One rendered message to one address on one channel; a worker delivers it (`outbox.services.deliver_due`).

    The idempotency key names the change that caused it (e.g. "events.booking_made:42"): the same change
    queues the message once, and the lease lets only one worker send it at a time.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=80)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbox_messages",
    )
    address = models.CharField(_("address"), max_length=254)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    language = models.CharField(_("language"), max_length=10)
    subject = models.TextField(_("subject"), blank=True)
    body = models.TextField(_("text"))
    # [{"filename": ..., "content": text, "mimetype": ...}]: calendar files are text.
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    # Extra e-mail headers, e.g. {"Auto-Submitted": "auto-replied"} on acknowledgements (RFC 3834).
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    # SMS: the parameters of the provider's pre-approved template for this kind ({"activity": ..., "time": ...}).
    template_params = models.JSONField(_("template parameters"), default=dict, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # While status is "sending": which worker holds the message, and until when.
    claimed_by = models.CharField(max_length=32, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The worker's two questions: what is due, and whose lease has run out.
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["status", "lease_expires_at"], name="outbox_lease_idx"),
            models.Index(fields=["recipient", "-created_at"], name="outbox_recipient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.address}"

    @property
    def kind_label(self) -> str:
        """The kind in readable words in the active language (for staff), not "events.booking_made"."""
        from .kinds import kind_label

        return kind_label(self.kind)

    kind_label.fget.short_description = _("kind")


class ChannelPreference(models.Model):
    """How a resident wants to hear about one topic of messages (`outbox.kinds.TOPICS`): e-mail, SMS, WeChat.

    Without a row the defaults in `outbox.services.default_channels` apply; a channel the resident can no
    longer use (an e-mail address removed, a WeChat unlinked) is skipped when a message is queued.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="channel_preferences"
    )
    kind = models.CharField(_("kind"), max_length=40)
    channels = models.JSONField(_("channels"), default=list)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("channel preference")
        verbose_name_plural = _("channel preferences")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="outbox_one_preference_per_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {', '.join(self.channels)}"
