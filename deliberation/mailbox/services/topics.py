"""Topics: staff gather letters into them, write and approve their public summary (no names, numbers or
addresses), move them along their workflow; residents support them; similar topics are found for a new letter."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from deliberation.mailbox import similarity
from deliberation.mailbox.audit import record
from deliberation.mailbox.models import (
    Category,
    CommunityMailbox,
    Letter,
    LetterEvent,
    MailboxSettings,
    Support,
    Topic,
    TopicChange,
)
from deliberation.mailbox.names import names_in
from deliberation.mailbox.notifications import _recipient, _record_event
from deliberation.mailbox.services.access import MailboxError, _require_staff
from deliberation.mailbox.services.letters import _locked
from home.models import Community
from home.services import VERIFY_FIRST, is_verified_resident


def _topic_shingles(topic: Topic) -> str:
    return similarity.encode(similarity.shingles(f"{topic.title} {topic.summary}"))


def _check_topic_title(title: str) -> None:
    """Typed by staff in a plain field: PostgreSQL refuses a title longer than the column, SQLite would keep it."""
    limit = Topic._meta.get_field("title").max_length
    if len(title) > limit:
        raise MailboxError(_("A topic title has at most %(limit)s characters.") % {"limit": limit})


@transaction.atomic
def create_topic(*, community: Community, title: str, category: str, actor, summary: str = "") -> Topic:
    _require_staff(actor, community)
    if not title.strip():
        raise MailboxError(_("A topic needs a title."))
    _check_topic_title(title.strip())
    if category not in Category.values:
        raise MailboxError(_("Unknown category."))
    topic = Topic(community=community, title=title.strip(), category=category, summary=summary.strip(), created_by=actor)
    topic.shingles = _topic_shingles(topic)
    topic.save()
    record(topic, "mailbox.topic.create", actor=actor)
    return topic


@transaction.atomic
def merge_letter(*, letter: Letter, topic: Topic, actor) -> Letter:
    """Link the letter to the topic (it stays whole); from another topic this is a move. Both are audited."""
    letter = _locked(letter)
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    _require_staff(actor, letter.community)
    if topic.community_id != letter.community_id:
        raise MailboxError(_("A letter can only join a topic of its own community."))
    if letter.topic_id == topic.pk:
        raise MailboxError(_("The letter is already in this topic."))
    if letter.status in Letter.CLOSED_STATUSES:
        raise MailboxError(_("This letter has already been handled."))
    if topic.status in (Topic.Status.CLOSED, Topic.Status.REJECTED):
        raise MailboxError(_("Letters cannot join a closed or rejected topic."))
    previous = letter.topic
    now = timezone.now()
    letter.topic, letter.status = topic, Letter.Status.MERGED
    letter.accepted_at = letter.accepted_at or now
    letter.save(update_fields=["topic", "status", "accepted_at"])
    action = TopicChange.Action.MOVED if previous is not None else TopicChange.Action.MERGED
    TopicChange.objects.create(letter=letter, action=action, from_topic=previous, to_topic=topic, actor=actor)
    _record_event(letter=letter, kind=LetterEvent.Kind.MERGED, actor=actor, topic=topic)
    record(
        topic, "mailbox.letter.merge", actor=actor, letter=letter.tracking_number, from_topic=previous.pk if previous else None
    )
    return letter


@transaction.atomic
def split_letter(*, letter: Letter, actor, title: str) -> Topic:
    """Take a letter out of its topic into a new topic of its own (it raised something else)."""
    letter = _locked(letter)
    _require_staff(actor, letter.community)
    previous = letter.topic
    if previous is None:
        raise MailboxError(_("The letter is not in a topic."))
    topic = create_topic(community=letter.community, title=title, category=letter.category, actor=actor)
    letter.topic = topic
    letter.save(update_fields=["topic"])
    TopicChange.objects.create(letter=letter, action=TopicChange.Action.SPLIT, from_topic=previous, to_topic=topic, actor=actor)
    _record_event(letter=letter, kind=LetterEvent.Kind.MERGED, actor=actor, topic=topic)
    record(topic, "mailbox.letter.split", actor=actor, letter=letter.tracking_number, from_topic=previous.pk)
    return topic


# Phone numbers (mobile and landline), e-mail addresses, ID card numbers and street addresses down to the door.
_PERSONAL_PATTERNS = [
    re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),
    re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"),
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"),
    re.compile(r"\d+\s*(?:幢|栋|号楼|单元|室|弄\d+号)"),
    re.compile(r"(?i)\b(?:room|flat|apt\.?|building)\s*\d+"),
]


def personal_details_in(text: str) -> list[str]:
    """The phone numbers, e-mail addresses, ID numbers and door-level addresses in `text`, each once, in order."""
    return list(dict.fromkeys(match.group() for pattern in _PERSONAL_PATTERNS for match in pattern.finditer(text)))


def check_public_text(*, topic: Topic, text: str) -> None:
    """Refuse public text with a sensitive word, or a writer's name, phone, e-mail or address."""
    for word in MailboxSettings.load().sensitive_word_list():
        if word in text:
            raise MailboxError(_("The summary contains a word that may not be published: %(word)s") % {"word": word})
    personal = personal_details_in(text)
    if personal:
        raise MailboxError(
            _("The summary must not contain phone numbers, e-mail addresses or home addresses: %(words)s")
            % {"words": "、".join(personal)}
        )
    names: set[str] = set()
    for letter in topic.letters.select_related("writer__profile"):
        names.update(filter(None, [letter.contact_name, letter.contact]))
        if letter.writer is not None:
            profile = getattr(letter.writer, "profile", None)
            names.update(
                filter(None, [profile.display_name if profile else "", letter.writer.first_name, letter.writer.last_name])
            )
    # In characters or in pinyin, with or without tones and spaces: "王秀英", "Wang Xiuying", "WangXiuying".
    if found := names_in(text, names):
        raise MailboxError(_("The summary must not name the residents who wrote: %(words)s") % {"words": "、".join(found)})


@transaction.atomic
def approve_topic_summary(
    *, topic: Topic, actor, summary: str, title: str | None = None, title_en: str | None = None, summary_en: str | None = None
) -> Topic:
    """Staff write or approve the public summary (and its English, what English pages show); only then do
    residents see the topic. The English is checked for names and numbers as the Chinese is."""
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    _require_staff(actor, topic.community)
    summary = summary.strip()
    title = (title or topic.title).strip()
    if not summary:
        raise MailboxError(_("Write the public summary first."))
    _check_topic_title(title)
    title_en = (topic.title_en if title_en is None else title_en).strip()
    summary_en = (topic.summary_en if summary_en is None else summary_en).strip()
    check_public_text(topic=topic, text=f"{title}\n{summary}\n{title_en}\n{summary_en}")
    topic.title, topic.summary, topic.title_en, topic.summary_en = title, summary, title_en, summary_en
    topic.summary_approved_at, topic.summary_approved_by = timezone.now(), actor
    topic.shingles = _topic_shingles(topic)
    topic.save()
    record(topic, "mailbox.topic.approve", actor=actor)  # a public change: visitors see the topic at once
    return topic


TOPIC_FLOW = {
    Topic.Status.OPEN: {Topic.Status.SHORTLISTED, Topic.Status.REJECTED},
    Topic.Status.SHORTLISTED: {Topic.Status.SCHEDULED, Topic.Status.REJECTED, Topic.Status.OPEN},
    Topic.Status.SCHEDULED: {Topic.Status.DECIDED, Topic.Status.SHORTLISTED},
    Topic.Status.DECIDED: {Topic.Status.FOLLOW_UP, Topic.Status.CLOSED},
    Topic.Status.FOLLOW_UP: {Topic.Status.CLOSED},
    Topic.Status.CLOSED: set(),
    Topic.Status.REJECTED: set(),
}


@transaction.atomic
def change_topic_status(*, topic: Topic, actor, status: str, reason: str = "") -> Topic:
    """Move a topic along its workflow; every writer of its letters hears of it."""
    _require_staff(actor, topic.community)
    return move_topic(topic=topic, actor=actor, status=status, reason=reason)


@transaction.atomic
def move_topic(*, topic: Topic, actor, status: str, reason: str = "", notify_writers: bool = True) -> Topic:
    """`change_topic_status` without the staff check, for the council's own steps (a vote decided it).

    With `notify_writers` False the steps still show on each letter's timeline but are not e-mailed
    one by one: the caller sends its own message to every writer and supporter instead.
    """
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    if not status:
        raise MailboxError(_("Choose the topic's new status."))
    if status not in TOPIC_FLOW.get(topic.status, set()):
        raise MailboxError(
            _("A topic cannot go from “%(current)s” to “%(new)s”.")
            % {
                "current": topic.get_status_display(),
                "new": Topic.Status(status).label if status in Topic.Status.values else status,
            }
        )
    if status == Topic.Status.REJECTED and not reason.strip():
        raise MailboxError(_("Give the reason why the topic is rejected."))
    topic.status, topic.status_changed_at = status, timezone.now()
    if status == Topic.Status.REJECTED:
        topic.rejection_reason = reason.strip()
    topic.save(update_fields=["status", "status_changed_at", "rejection_reason"])
    record(topic, "mailbox.topic.status", actor=actor, status=status)
    letters = list(topic.letters.select_related("writer").order_by("received_at", "pk"))
    events = [
        _record_event(
            letter=letter,
            kind=LetterEvent.Kind.TOPIC_STATUS,
            actor=actor,
            topic=topic,
            topic_status=status,
            message=reason.strip(),
        )
        for letter in letters
    ]
    # Every letter shows the step on its timeline, but a person hears of it once: the first of their letters
    # carries the message, the others are marked told (with `notify_writers` False, the caller tells everyone).
    told, quiet = set(), []
    for letter, event in zip(letters, events, strict=True):
        person = f"user:{letter.writer_id}" if letter.writer_id else _recipient(letter).strip().lower()
        if not notify_writers or person in told:
            quiet.append(event.pk)
        told.add(person)
    if quiet:
        LetterEvent.objects.filter(pk__in=quiet).update(notified_at=timezone.now())
    return topic


@transaction.atomic
def support_topic(*, topic: Topic, resident) -> Support:
    """One support per verified resident (a database constraint keeps it so under concurrency)."""
    if not is_verified_resident(resident):
        raise PermissionDenied(str(VERIFY_FIRST))
    topic = Topic.objects.get(pk=topic.pk)
    if not topic.accepts_support:
        raise MailboxError(_("This topic no longer takes support."))
    if wrote_about(topic=topic, resident=resident):
        raise MailboxError(_("You wrote about this topic: your letter already counts for it, so you cannot support it too."))
    try:
        with transaction.atomic():
            return Support.objects.create(topic=topic, resident=resident)
    except IntegrityError as error:
        raise MailboxError(_("You already support this topic.")) from error


def wrote_about(*, topic: Topic, resident) -> bool:
    """Whether the resident wrote one of the topic's letters (they count as raising it, not as support)."""
    return resident.is_authenticated and topic.letters.filter(writer=resident).exists()


@transaction.atomic
def withdraw_support(*, topic: Topic, resident) -> None:
    deleted, _rows = Support.objects.filter(topic=topic, resident=resident).delete()
    if not deleted:
        raise MailboxError(_("You do not support this topic."))


def support_threshold(community: Community) -> int:
    mailbox = CommunityMailbox.objects.filter(community=community).first()
    return mailbox.support_threshold if mailbox else CommunityMailbox._meta.get_field("support_threshold").default


def raised_by(topic: Topic) -> tuple[int, int]:
    """Distinct residents who wrote about the topic, and distinct households (building and unit) among them."""
    writers = set()
    households = set()
    anonymous = 0
    for writer_id, contact, unit in topic.letters.values_list("writer_id", "contact", "writer__profile__building_unit"):
        if writer_id is None:
            if contact and contact not in writers:
                writers.add(contact)
                households.add(("contact", contact))
            elif not contact:
                anonymous += 1
            continue
        writers.add(writer_id)
        households.add(("unit", unit) if unit else ("writer", writer_id))
    return len(writers) + anonymous, len(households) + anonymous


def public_topics(*, community: Community | int | None = None, category: str = "", status: str = "") -> QuerySet[Topic]:
    """Topics residents see (their summary approved), latest change first, with their support counted; optionally
    of one community, category or status (the topic list's filters)."""
    topics = Topic.objects.filter(summary_approved_at__isnull=False)
    if community:
        topics = topics.filter(community=community)
    if category:
        topics = topics.filter(category=category)
    if status:
        topics = topics.filter(status=status)
    return (
        topics.select_related("community")
        .annotate(support_count=Count("supports", distinct=True))
        .order_by("-status_changed_at", "-pk")
    )


def similar_public_topics(*, text: str, community: Community | None, limit: int = 5) -> list[tuple[Topic, float]]:
    """Public topics open for support like what the resident is writing ("is it one of these?")."""
    topics = Topic.objects.filter(summary_approved_at__isnull=False, status__in=[Topic.Status.OPEN, Topic.Status.SHORTLISTED])
    if community is not None:
        topics = topics.filter(community=community)
    candidates = (
        (topic, topic.shingles) for topic in topics.only("pk", "title", "summary", "shingles", "status", "community_id")
    )
    return similarity.best(similarity.shingles(text), candidates, limit=limit)


def similar_to_letter(*, letter: Letter, limit: int = 5) -> tuple[list[tuple[Topic, float]], list[tuple[Letter, float]]]:
    """The topics and other letters of the letter's community most like it, with their scores."""
    query = similarity.decode(letter.shingles) or similarity.shingles(f"{letter.subject} {letter.body}")
    topics = Topic.objects.filter(community=letter.community_id).exclude(status=Topic.Status.REJECTED)
    topic_hits = similarity.best(
        set(query), ((t, t.shingles) for t in topics.only("pk", "title", "status", "shingles")), limit=limit
    )
    index = similarity.letter_index((connection.alias, connection.settings_dict["NAME"], letter.community_id))
    with index.lock:
        # Letters are never edited, so only the ones received since the last query are read.
        newer = (
            Letter.objects.filter(community=letter.community_id, pk__gt=index.last_pk)
            .order_by("pk")
            .values_list("pk", "shingles")
        )
        index.add(newer.iterator(chunk_size=5000))
        letter_hits = index.best(set(query), exclude=letter.pk, limit=limit)
    found = Letter.objects.in_bulk([pk for pk, _score in letter_hits])
    return topic_hits, [(found[pk], score) for pk, score in letter_hits if pk in found]
