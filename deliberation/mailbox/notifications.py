"""What the mailbox tells a letter's writer and its staff: each step of a letter (`LetterEvent`) is recorded
and, after the commit, sent through the outbox in the writer's language; replies by e-mail thread onto it."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_tasks import task

from deliberation.mailbox.models import (
    Letter,
    LetterEvent,
    Topic,
)
from home.i18n import language_of
from home.models import ResidentProfile
from outbox.services import Content, channels_for, notify
from plumbing.links import absolute_url


def _writer_language(letter: Letter) -> str:
    if letter.writer_id:
        profile = ResidentProfile.objects.filter(user_id=letter.writer_id).only("preferred_language").first()
        if profile is not None:
            return profile.preferred_language
    return letter.language


def _record_event(
    *,
    letter: Letter,
    kind: str,
    actor=None,
    topic: Topic | None = None,
    topic_status: str = "",
    message: str = "",
    at: datetime.datetime | None = None,
) -> LetterEvent:
    event = LetterEvent.objects.create(
        letter=letter,
        kind=kind,
        actor=actor,
        topic=topic,
        topic_status=topic_status,
        message=message,
        created_at=at or timezone.now(),
    )
    if _recipient(letter):
        transaction.on_commit(lambda: send_letter_event.enqueue(event.pk))
    return event


def _recipient(letter: Letter) -> str:
    """Where the writer hears back: their account's address, else an e-mail address they left."""
    if letter.writer_id and letter.writer.email and letter.writer.is_active:
        return letter.writer.email
    if "@" in letter.contact:
        return letter.contact
    return ""


@task()
def send_letter_event(event_id: int) -> bool:
    """The worker's side of `record_event`: tells the writer about one event of their letter."""
    return notify_letter_event(event_id=event_id)


def notify_letter_event(*, event_id: int) -> bool:
    """Tell the writer of one timeline step in their language, exactly once; False if there was nobody to tell."""
    with transaction.atomic():
        event = LetterEvent.objects.select_for_update().filter(pk=event_id, notified_at__isnull=True).first()
        if event is None:
            return False
        letter = Letter.objects.select_related("writer", "topic").get(pk=event.letter_id)
        event.notified_at = timezone.now()
        event.save(update_fields=["notified_at"])
        # Queued in the transaction that marks the step notified: both commit or neither.
        return _queue_event_mail(letter=letter, event=event, recipient=_recipient(letter), language=_writer_language(letter))


def letter_message_id(letter: Letter, event: LetterEvent) -> str:
    """The Message-ID of a timeline step's e-mail: a reply to it names the letter, and the token proves
    that whoever replies received our mail (tracking numbers alone are counted up and guessable)."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" <>") or "linli.localhost"
    return f"<linli.{letter.tracking_number}.{event.pk}.{_letter_mail_token(letter.tracking_number)}@{domain}>"


def _letter_mail_token(tracking_number: str) -> str:
    return salted_hmac("deliberation.letter-mail", tracking_number).hexdigest()[:16]


def _queue_event_mail(*, letter: Letter, event: LetterEvent, recipient: str, language: str, in_reply_to: str = "") -> bool:
    """A writer with an account hears on the channels they chose; a letter without one by e-mail to its
    contact address (`recipient`). False if there was nobody to tell."""

    def render() -> Content:
        context = {"letter": letter, "event": event, "step": event.describe(), "site_url": absolute_url("/").rstrip("/")}
        subject = _("Your letter %(number)s: %(step)s") % {"number": letter.tracking_number, "step": event.describe()}
        text = render_to_string("mailbox/email/letter_event.txt", context)
        return Content(subject=subject, body=text, params={"number": letter.tracking_number, "step": event.describe()})

    headers = {"Message-ID": letter_message_id(letter, event)}
    if event.kind == LetterEvent.Kind.RECEIVED:
        # RFC 3834: other robots (out-of-office replies) must not answer our receipt.
        headers["Auto-Submitted"] = "auto-replied" if letter.channel == Letter.Channel.EMAIL else "auto-generated"
    if in_reply_to:
        headers["In-Reply-To"] = headers["References"] = f"<{in_reply_to.strip('<>')}>"
    writer = letter.writer if letter.writer_id and letter.writer.is_active else None
    key = f"deliberation.letter_event:{event.pk}"
    if writer is not None and channels_for(writer, "deliberation.letter_event"):
        notify(kind="deliberation.letter_event", recipient=writer, render=render, idempotency_key=key, headers=headers)
        return True
    if not recipient:
        return False
    notify(
        kind="deliberation.letter_event",
        address=recipient,
        language=language,
        render=render,
        idempotency_key=key,
        headers=headers,
    )
    return True


def send_pending_notifications(*, older_than: datetime.timedelta = datetime.timedelta(minutes=5)) -> int:
    """Steps whose mail was never sent (a worker stopped in between): send them now."""
    sent = 0
    cutoff = timezone.now() - older_than
    for event_id in LetterEvent.objects.filter(notified_at__isnull=True, created_at__lt=cutoff).values_list("pk", flat=True)[
        :500
    ]:
        sent += notify_letter_event(event_id=event_id)
    return sent


def _tell_staff_of_reply(*, letter: Letter, event: LetterEvent) -> None:
    """The staff member the letter is assigned to, else the community's staff, each on their own channels."""
    if letter.assigned_to_id:
        staff = get_user_model().objects.filter(pk=letter.assigned_to_id, is_active=True)
    elif letter.community_id and letter.community.editors_id:
        staff = get_user_model().objects.filter(groups=letter.community.editors_id, is_active=True)
    else:
        staff = get_user_model().objects.none()
    url = absolute_url(reverse("mailbox_admin:letter", args=[letter.pk]))

    def render() -> Content:
        subject = _("Letter %(number)s: the writer replied") % {"number": letter.tracking_number}
        body = render_to_string("mailbox/email/writer_replied.txt", {"letter": letter, "event": event, "url": url})
        return Content(subject=subject, body=body, params={"number": letter.tracking_number})

    for member in staff:
        notify(
            kind="deliberation.letter_writer_replied",
            recipient=member,
            render=render,
            idempotency_key=f"deliberation.letter_writer_replied:{event.pk}:{member.pk}",
        )


def _writer_language_for(writer, guessed: str) -> str:
    return language_of(writer, guessed)
