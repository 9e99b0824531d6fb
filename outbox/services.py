"""The one way Linli sends a message to a person: queue it with the change, a worker delivers it.

`queue_message` writes the rendered message in the caller's transaction, so a message exists exactly when
the change that caused it committed; nothing is sent inside the request. `deliver_due` (the task
`deliver` below, every minute and right after a commit that queued mail) claims due messages with a
lease, sends them with a timeout per channel, and retries with exponential backoff until a visible
"failed". `seed_demo` runs inside `muted()`, so demo content tells nobody anything.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from home.i18n import language_of
from home.scope import NotStaff, StaffScope, for_user
from plumbing.periodic import every

from .backends import BACKENDS
from .channels import ChannelDown, PermanentFailure
from .kinds import KINDS_BY_CODE, TOPICS, TOPICS_BY_KEY, Topic, topic_of
from .models import ChannelPreference, Message

MAX_ATTEMPTS = 8
FIRST_RETRY = datetime.timedelta(minutes=1)
LONGEST_RETRY = datetime.timedelta(hours=1)
# Renewed for the rest of a batch whenever less than half of it is left, so it only has to outlast one send
# (EMAIL_TIMEOUT and the like) with room to spare.
LEASE = datetime.timedelta(minutes=5)
BATCH = 50

_muted: contextvars.ContextVar[bool] = contextvars.ContextVar("linli_outbox_muted", default=False)


class OutboxError(Exception):
    pass


@contextlib.contextmanager
def muted() -> Iterator[None]:
    """Within this block, `queue_message` queues nothing (seeding demo content tells nobody)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def queue_message(
    *,
    kind: str,
    address: str,
    subject: str,
    body: str,
    language: str,
    idempotency_key: str,
    recipient=None,
    channel: str = Message.Channel.EMAIL,
    attachments: Iterable[dict] = (),
    template_params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Message | None:
    """Queue one rendered message in the current transaction; the same key queues it once (None when muted).

    An SMS goes out through the provider's pre-approved template for `kind` (settings.LINLI_SMS_TEMPLATES)
    filled with `template_params`; `body` is what the console backend prints and staff read.
    """
    if _muted.get():
        return None
    try:
        with transaction.atomic():
            message = Message.objects.create(
                kind=kind,
                recipient=recipient,
                address=address,
                channel=channel,
                language=language,
                subject=subject,
                body=body,
                attachments=[
                    {"filename": a["filename"], "content": a["content"], "mimetype": a["mimetype"]} for a in attachments
                ],
                template_params={str(name): str(value) for name, value in (template_params or {}).items()},
                headers=dict(headers or {}),
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # Queued before, or by a concurrent transaction that has now committed.
        existing = Message.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    _deliver_after_commit(message)
    return message


# --- Telling a person -------------------------------------------------------------------------


@dataclass
class Content:
    """One notification as `render()` builds it in the recipient's language: the e-mail's subject, text and
    attachments, and the parameters of the short text that goes by SMS or WeChat (`outbox.kinds`)."""

    subject: str
    body: str
    params: dict[str, object] = field(default_factory=dict)
    attachments: list[dict] = field(default_factory=list)


def usable_channels(user) -> list[str]:
    """The channels Linli can reach `user` on: an e-mail address, a verified mobile number, a linked WeChat."""
    from home.models import verified_phone

    if user is None or not user.is_active:
        return []
    channels = []
    if user.email:
        channels.append(Message.Channel.EMAIL.value)
    if verified_phone(user):
        channels.append(Message.Channel.SMS.value)
    profile = getattr(user, "profile", None)
    if profile is not None and profile.wechat_openid:
        channels.append(Message.Channel.WECHAT.value)
    return channels


def default_channels(topic: Topic | None, usable: list[str]) -> list[str]:
    """Without a saved choice: e-mail when the resident has an address, SMS as well for time-critical topics
    when they have a verified mobile number, and SMS for everything when a phone is all they have."""
    email, sms = Message.Channel.EMAIL.value, Message.Channel.SMS.value
    chosen = []
    if email in usable:
        chosen.append(email)
    if sms in usable and (not chosen or (topic is not None and topic.urgent)):
        chosen.append(sms)
    return chosen


def channel_choices(user) -> dict[str, list[str]]:
    """Topic key → the channels a message of that topic goes out on for `user`, saved choice or default."""
    usable = usable_channels(user)
    saved = (
        {preference.kind: preference.channels for preference in ChannelPreference.objects.filter(user=user)}
        if user is not None and user.pk
        else {}
    )
    choices = {}
    for topic in TOPICS:
        chosen = [channel for channel in saved.get(topic.key, []) if channel in usable]
        choices[topic.key] = chosen or default_channels(topic, usable)
    return choices


def channels_for(user, kind: str) -> list[str]:
    """The channels a message of `kind` goes out on for `user` (none when Linli cannot reach them)."""
    usable = usable_channels(user)
    topic = topic_of(kind)
    if topic is not None:
        preference = ChannelPreference.objects.filter(user=user, kind=topic.key).values_list("channels", flat=True).first()
        chosen = [channel for channel in preference or [] if channel in usable]
        if chosen:
            return chosen
    return default_channels(topic, usable)


def _short_text(kind: str, params: dict[str, str], fallback: str) -> str:
    registered = KINDS_BY_CODE.get(kind)
    if registered is None:
        return fallback
    return str(registered.short) % {name: params.get(name, "") for name in registered.params}


def _address(user, channel: str) -> str:
    from home.models import verified_phone

    if channel == Message.Channel.EMAIL:
        return user.email
    if channel == Message.Channel.SMS:
        return verified_phone(user)
    return user.profile.wechat_openid


def notify(
    *,
    kind: str,
    render: Callable[[], Content],
    idempotency_key: str,
    recipient=None,
    address: str = "",
    language: str = "",
    headers: dict[str, str] | None = None,
) -> list[Message]:
    """Tell a person about a change, on each channel they chose for this kind (`channels_for`), in their
    language; queued in the caller's transaction like `queue_message`.

    `render()` runs inside the person's language. The e-mail keeps `idempotency_key`; SMS and WeChat get
    ":sms" and ":wechat" after it, so the same change queues each once. Without an account (`address` and
    `language` given instead of `recipient`) the message goes by e-mail to that address; with a recipient,
    `language` is only the fallback for one without a profile.
    """
    if recipient is None:
        targets = [(Message.Channel.EMAIL.value, address)] if address else []
        language = language or settings.LANGUAGE_CODE
    else:
        targets = [(channel, _address(recipient, channel)) for channel in channels_for(recipient, kind)]
        language = language_of(recipient, language)
    if not targets or _muted.get():
        return []
    with translation.override(language):
        content = render()
        params = {str(name): str(value) for name, value in content.params.items()}
        short = _short_text(kind, params, content.subject)
    queued = []
    for channel, target in targets:
        email = channel == Message.Channel.EMAIL
        message = queue_message(
            kind=kind,
            recipient=recipient,
            address=target,
            channel=channel,
            language=language,
            subject=content.subject if email else "",
            body=content.body if email else short,
            attachments=content.attachments if email else (),
            template_params=None if email else params,
            headers=headers if email else None,
            idempotency_key=idempotency_key if email else f"{idempotency_key}:{channel}",
        )
        if message is not None:
            queued.append(message)
    return queued


class PreferenceError(Exception):
    pass


def set_channel_preferences(*, user, choices: dict[str, list[str]]) -> list[ChannelPreference]:
    """Save the channels `user` chose per topic; each topic needs at least one channel they can use."""
    usable = usable_channels(user)
    rows = []
    for key, channels in choices.items():
        topic = TOPICS_BY_KEY.get(key)
        if topic is None:
            raise PreferenceError(_("Unknown kind of message: %(kind)s") % {"kind": key})
        unknown = [channel for channel in channels if channel not in usable]
        if unknown:
            label = Message.Channel(unknown[0]).label if unknown[0] in Message.Channel.values else unknown[0]
            raise PreferenceError(_("You cannot receive messages by %(channel)s yet.") % {"channel": label})
        if not channels:
            raise PreferenceError(_("Choose at least one way to hear about “%(topic)s”.") % {"topic": topic.label})
        rows.append((key, sorted(set(channels), key=[c.value for c in Message.Channel].index)))
    saved = []
    with transaction.atomic():
        for key, channels in rows:
            preference, _created = ChannelPreference.objects.update_or_create(
                user=user, kind=key, defaults={"channels": channels}
            )
            saved.append(preference)
    return saved


def link_wechat(*, user, openid: str) -> None:
    """Store the OpenID Linli sends WeChat messages to; one resident per OpenID."""
    from home.models import ResidentProfile

    openid = openid.strip()
    if not openid or len(openid) > 64:
        raise PreferenceError(_("WeChat did not tell us who you are. Please try again."))
    with transaction.atomic():
        if ResidentProfile.objects.filter(wechat_openid=openid).exclude(user=user).exists():
            raise PreferenceError(_("This WeChat account is already linked to another resident."))
        profile, _created = ResidentProfile.objects.get_or_create(user=user)
        profile.wechat_openid = openid
        profile.save(update_fields=["wechat_openid"])


def unlink_wechat(*, user) -> None:
    from home.models import ResidentProfile

    ResidentProfile.objects.filter(user=user).update(wechat_openid="")


class _DeliverAfterCommit:
    """An on-commit callback that asks a worker to deliver the messages queued in one transaction."""

    def __init__(self) -> None:
        self.message_ids: list[int] = []

    def __call__(self) -> None:
        deliver.enqueue(message_ids=self.message_ids)


def _deliver_after_commit(message: Message) -> None:
    """Once the transaction commits, a worker delivers the message at once (the periodic run catches up on
    anything left). One task per transaction; enqueuing never raises into the caller."""
    # A callback registered in this same (savepoint) block commits or rolls back exactly with this
    # message: it takes the message along.
    current = set(connection.savepoint_ids)
    for sids, callback, _robust in connection.run_on_commit:
        if isinstance(callback, _DeliverAfterCommit) and sids == current:
            callback.message_ids.append(message.pk)
            return
    callback = _DeliverAfterCommit()
    callback.message_ids.append(message.pk)
    transaction.on_commit(callback, robust=True)


def retry_delay(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8 … minutes after the first, second, third … failed attempt, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def _due(now: datetime.datetime) -> QuerySet[Message]:
    return Message.objects.filter(
        Q(status=Message.Status.PENDING, next_attempt_at__lte=now)
        # A worker stopped while sending: the message may have gone out, so it is sent at most once more.
        | Q(status=Message.Status.SENDING, lease_expires_at__lte=now)
    )


def claim_due(
    *, limit: int, worker: str, message_ids: list[int] | None = None, now: datetime.datetime | None = None
) -> list[int]:
    """Mark up to `limit` due messages (of `message_ids`, if given) as being sent by `worker` and commit;
    their ids, oldest first.

    PostgreSQL skips rows another worker is claiming (FOR UPDATE SKIP LOCKED); SQLite's IMMEDIATE
    transactions let one worker claim at a time.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = _due(now).order_by("next_attempt_at", "pk")
        if message_ids is not None:
            due = due.filter(pk__in=message_ids)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        Message.objects.filter(pk__in=ids).update(status=Message.Status.SENDING, claimed_by=worker, lease_expires_at=now + LEASE)
    return ids


def _renew(message_ids: list[int], worker: str) -> tuple[set[int], datetime.datetime]:
    """Renew the lease on those of `message_ids` that `worker` still holds (another worker may have taken
    over a message whose lease ran out); which ones, and until when."""
    until = timezone.now() + LEASE
    held = Message.objects.filter(pk__in=message_ids, status=Message.Status.SENDING, claimed_by=worker)
    held.update(lease_expires_at=until)
    return set(held.values_list("pk", flat=True)), until


def _record_failure(message_id: int, worker: str, error: str, *, permanent: bool = False) -> None:
    """Retry later with backoff, or mark failed after the last attempt (at once when `permanent`)."""
    now = timezone.now()
    held = Message.objects.filter(pk=message_id, status=Message.Status.SENDING, claimed_by=worker)
    attempts = held.values_list("attempts", flat=True).first()
    if attempts is None:
        return
    attempts += 1
    if attempts >= MAX_ATTEMPTS or permanent:
        held.update(status=Message.Status.FAILED, attempts=attempts, last_error=error[:300], claimed_by="", lease_expires_at=None)
    else:
        held.update(
            status=Message.Status.PENDING,
            attempts=attempts,
            next_attempt_at=now + retry_delay(attempts),
            last_error=error[:300],
            claimed_by="",
            lease_expires_at=None,
        )


def _deliver(ids: list[int], worker: str) -> int:
    """Send the claimed messages `ids`. The batch is read once; its lease is renewed (one statement for the
    batch) whenever less than half of it is left, so a message is never sent once another worker may have
    taken it over. Each message then costs one statement besides its sending."""
    sent = 0
    backends = {}
    down: dict[str, str] = {}  # channel → why it is down for the rest of this batch
    batch = Message.objects.filter(pk__in=ids, status=Message.Status.SENDING, claimed_by=worker)
    messages = sorted(batch, key=lambda message: ids.index(message.pk))
    held = {message.pk for message in messages}
    lease_until = min((message.lease_expires_at for message in messages), default=timezone.now())
    try:
        for position, message in enumerate(messages):
            message_id = message.pk
            if timezone.now() >= lease_until - LEASE / 2:
                held, lease_until = _renew([m.pk for m in messages[position:]], worker)
            if message_id not in held:
                continue
            if message.channel in down:
                _record_failure(message_id, worker, down[message.channel])
                continue
            try:
                backend = backends.get(message.channel)
                if backend is None:
                    backend = backends[message.channel] = BACKENDS[message.channel]()
                backend.send(message)
            except ChannelDown as error:
                down[message.channel] = str(error)
                _record_failure(message_id, worker, str(error))
                continue
            except PermanentFailure as error:  # trying again cannot help (an invalid number, no template)
                _record_failure(message_id, worker, str(error), permanent=True)
                continue
            except Exception as error:  # noqa: BLE001 - one message's failure is recorded, never raised
                _record_failure(message_id, worker, f"{type(error).__name__}: {error}")
                continue
            Message.objects.filter(pk=message_id, claimed_by=worker).update(
                status=Message.Status.SENT, sent_at=timezone.now(), claimed_by="", lease_expires_at=None, last_error=""
            )
            sent += 1
    finally:
        for backend in backends.values():
            backend.close()
    return sent


def deliver_due(*, limit: int = 500, message_ids: list[int] | None = None) -> int:
    """Send due messages (only `message_ids`, if given), in batches, until none is due or `limit` were
    tried; how many went out. Every error is recorded on its message, none is raised."""
    worker = uuid.uuid4().hex
    sent = tried = 0
    with _commits_without_waiting_for_disk():
        while tried < limit:
            ids = claim_due(limit=min(BATCH, limit - tried), worker=worker, message_ids=message_ids)
            if not ids:
                break
            tried += len(ids)
            sent += _deliver(ids, worker)
    return sent


@every(datetime.timedelta(minutes=1))
@task()
def deliver(message_ids: list[int] | None = None) -> int:
    """The outbox's worker, every minute and right after a commit that queued messages: every due message,
    or (after that commit) just `message_ids`."""
    return deliver_due(message_ids=message_ids)


@contextlib.contextmanager
def _commits_without_waiting_for_disk() -> Iterator[None]:
    """PostgreSQL's asynchronous commit for the worker's bookkeeping: a commit no longer waits for its WAL
    flush (the mark "sent" was half of a message's cost). A killed worker loses nothing by it, since the
    server has the commit; only a crash of the database server itself can forget the last fraction of a
    second of marks, and those messages are then sent once more, as after a killed worker."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def resend_message(*, message: Message, actor) -> Message:
    """A failed (or cancelled) message is tried again from the start, by staff of its recipient's community."""
    if not visible_messages(scope=for_user(actor)).filter(pk=message.pk).exists():
        raise NotStaff(_("You may not resend this message."))
    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, status__in=[Message.Status.FAILED, Message.Status.CANCELLED]).update(
            status=Message.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
        )
        if not updated:
            raise OutboxError(_("Only a failed or cancelled message can be sent again."))
        _deliver_after_commit(message)
    message.refresh_from_db()
    return message


def oldest_pending_age(*, now: datetime.datetime | None = None) -> datetime.timedelta | None:
    """How long the oldest undelivered message has waited (for a readiness check), None if none waits."""
    oldest = (
        Message.objects.filter(status__in=[Message.Status.PENDING, Message.Status.SENDING])
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return None if oldest is None else (now or timezone.now()) - oldest


def visible_messages(*, scope: StaffScope) -> QuerySet[Message]:
    """Messages staff may see in the admin: all for the street office, else those to residents of their communities."""
    return scope.filter(Message.objects.all(), "recipient__profile__community")
