"""Minutes, decisions, their notice period (公示期) and follow-up (督办) of a council's results.

The voting services call two functions here inside their own transactions: `result_stored` when an
item's result is stored and `generate_minutes` when a session ends. Everything else is called by the
member portal, the public pages and the Wagtail admin.

Topics follow the council: a passed item's topic is DECIDED, then in FOLLOW_UP once it has actions and
CLOSED when every action is done (its writers are then asked the mailbox's satisfaction question, since
a letter whose topic is closed is closed). A topic whose item did not pass goes back to SHORTLISTED:
the concern is still open, staff may put it on a later agenda or reject it with a reason.

Writers and supporters hear of a result and of completion by one e-mail each (their address counted
once), in their own language; the topic's steps still show on each letter's timeline.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from wagtail.models import Locale

from deliberation.council import chain, signals
from deliberation.council import services as voting  # who chairs, clerks and sits: the voting services decide
from deliberation.council.models import AgendaItem, Attendance, ChainLink, CouncilMember, CouncilSession, Result
from deliberation.followup.audit import record
from deliberation.followup.models import (
    ActionUpdate,
    Decision,
    FollowUpAction,
    MinutesConfirmation,
    MinutesIndexPage,
    MinutesPage,
    Objection,
    items_with_results,
)
from deliberation.mailbox.models import Topic
from home.i18n import language_of
from home.models import Community, HomePage, ResidentProfile, display_name
from home.scope import for_user
from home.services import VERIFY_FIRST, is_verified_resident
from outbox.services import Content, notify
from plumbing import workdays
from plumbing.links import absolute_url

MINUTES_FEATURES = ["h2", "h3", "bold", "italic", "ol", "ul", "link"]
MAX_OBJECTION_CHARS = 2000
MAX_ANSWER_CHARS = 4000


class FollowUpError(Exception):
    """A minutes, decision or follow-up action that breaks a rule; the message is shown to whoever tried it."""


class NotAllowed(PermissionDenied):
    """Someone without the right role tried it."""


# --- Who may do what ----------------------------------------------------------------------


def can_keep_minutes(user, session: CouncilSession) -> bool:
    """Who keeps the minutes: whoever clerks the session (its secretary or chair on the session's day, or the
    community's staff) — the voting services' rule."""
    return user is not None and voting.can_clerk(user, session)


def _require_keeper(actor, session: CouncilSession) -> None:
    if actor is None or not can_keep_minutes(actor, session):
        raise NotAllowed(_("Only the council's chair or secretary, or the community's staff, may do this."))


def _require_staff(actor, council) -> None:
    if actor is None or not voting.is_council_staff(actor, council):
        raise NotAllowed(_("Only the staff of this community may do this."))


def present_seat(user, session: CouncilSession) -> CouncilMember | None:
    """The user's seat if they were present at the session, else None."""
    if not user.is_authenticated:
        return None
    attendance = Attendance.objects.filter(session=session, member__user=user).select_related("member").first()
    return attendance.member if attendance else None


# --- Minutes ------------------------------------------------------------------------------


def _locale(language: str) -> Locale:
    return Locale.objects.get(language_code=language)


def minutes_index(*, community: Community) -> MinutesIndexPage:
    """The community's minutes index (Chinese), made with its English translation when missing.

    One under the community's section page wins; otherwise the street-wide one under the Chinese
    home page ("会议纪要", /minutes/) is used or created.
    """
    zh = _locale(settings.LANGUAGE_CODE)
    index = None
    if community.root_page_id:
        index = MinutesIndexPage.objects.descendant_of(community.root_page).filter(locale=zh).first()
    if index is None:
        home = HomePage.objects.get(locale=zh, depth=2)
        index = MinutesIndexPage.objects.child_of(home).filter(locale=zh).first()
        if index is None:
            index = home.add_child(instance=MinutesIndexPage(title="会议纪要", slug="minutes", locale=zh))
            index.save_revision().publish()
    en = Locale.objects.filter(language_code="en").first()
    if en is not None and not MinutesIndexPage.objects.filter(translation_key=index.translation_key, locale=en).exists():
        english = index.copy_for_translation(en, copy_parents=True)
        english.title, english.slug = "Minutes", "minutes"
        english.save_revision().publish()
    return index


def _attendees(session: CouncilSession) -> list[str]:
    attendances = Attendance.objects.filter(session=session).select_related("member__user__profile").order_by("member__pk")
    return [display_name(attendance.member.user) for attendance in attendances]


def minutes_intro(*, session: CouncilSession) -> str:
    """The generated start of the minutes' free text (session, attendance), rich text in the active language."""
    members = session.council.current_members(timezone.localdate(session.starts_at)).count()
    context = {"session": session, "attendees": _attendees(session), "members": members}
    return render_to_string("followup/minutes_intro.html", context).strip()


def minutes_closing(*, session: CouncilSession) -> str:
    """The generated end of the minutes' free text (the decisions), rich text in the active language."""
    decisions = [item.stored_decision for item in items_with_results(session) if item.stored_decision is not None]
    return render_to_string("followup/minutes_closing.html", {"decisions": decisions}).strip()


def minutes_pages(session: CouncilSession) -> tuple[MinutesPage | None, MinutesPage | None]:
    """The session's minutes: the Chinese page and its English translation (either may be missing)."""
    pages = {page.locale.language_code: page for page in MinutesPage.objects.filter(session=session).select_related("locale")}
    return pages.get(settings.LANGUAGE_CODE), pages.get("en")


def _minutes_title(session: CouncilSession) -> str:
    day = timezone.localdate(session.starts_at)
    return _("Minutes: %(title)s (%(date)s)") % {"title": session.display_title, "date": day.isoformat()}


@transaction.atomic
def generate_minutes(*, session: CouncilSession, actor) -> MinutesPage:
    """The draft minutes pages of a session that has ended: Chinese and English, each in its own language.

    Received from `council.end_session` (`signals.session_ended`) inside its transaction, or from the
    admin by staff. Idempotent: a session keeps the minutes it has.
    """
    session = CouncilSession.objects.select_for_update(of=("self",)).select_related("council__community").get(pk=session.pk)
    if actor is not None:
        _require_keeper(actor, session)
    if session.status not in (CouncilSession.Status.IN_SESSION, CouncilSession.Status.CLOSED):
        raise FollowUpError(_("Minutes are written for a session that has taken place."))
    zh_page, en_page = minutes_pages(session)
    if zh_page is not None and en_page is not None:
        return zh_page
    index = minutes_index(community=session.council.community)
    held_on = timezone.localdate(session.starts_at)
    if zh_page is None:
        with translation.override(settings.LANGUAGE_CODE):
            zh_page = MinutesPage(
                title=_minutes_title(session),
                slug=f"{held_on.isoformat()}-{session.pk}",
                session=session,
                held_on=held_on,
                body=minutes_intro(session=session),
                closing=minutes_closing(session=session),
                live=False,
                has_unpublished_changes=True,
            )
        index.add_child(instance=zh_page)
        zh_page.save_revision(user=actor if actor and actor.is_authenticated else None, log_action=False)
    if en_page is None:
        en_page = zh_page.copy_for_translation(_locale("en"))
        with translation.override("en"):
            en_page.title = _minutes_title(session)
            en_page.body = minutes_intro(session=session)
            en_page.closing = minutes_closing(session=session)
        en_page.slug = zh_page.slug
        en_page.save()
        en_page.save_revision(user=actor if actor and actor.is_authenticated else None, log_action=False)
    record(session, "followup.minutes.generate", actor=actor)
    _ask_for_confirmation(session)
    return zh_page


def _ask_for_confirmation(session: CouncilSession) -> None:
    """Each member present is asked, in their language, to confirm the draft (queued with the minutes). The same
    message carries the session's results, what each item needed and the chain's head: one message per member
    when the session ends (those absent get `council.notifications.session_results` instead)."""
    members = Attendance.objects.filter(session=session, member__user__is_active=True)
    session = CouncilSession.objects.select_related("council").get(pk=session.pk)
    items = list(AgendaItem.objects.filter(session=session).select_related("result").order_by("position"))
    head = chain.session_head(session)

    def render() -> Content:
        context = {
            "session": session,
            "url": absolute_url(reverse("followup:member_minutes", args=[session.pk])),
            "items": [
                {"position": item.position, "title": item.display_title, "result": getattr(item, "result", None)}
                for item in items
            ],
            "head": head,
        }
        return Content(
            subject=_("Please confirm the minutes of %(session)s") % {"session": session.display_title},
            body=render_to_string("followup/email/minutes_confirm.txt", context),
            params={"title": session.display_title},
        )

    for user in get_user_model().objects.filter(pk__in=members.values("member__user_id")).select_related("profile"):
        notify(
            kind="deliberation.minutes_confirm",
            recipient=user,
            render=render,
            idempotency_key=f"deliberation.minutes_confirm:{session.pk}:{user.pk}",
        )


def markdown_of(page: MinutesPage, field: str = "body") -> str:
    """The page's latest text (`body`, before the results, or `closing`, after them) as Markdown, for the
    portal's plain text boxes."""
    from wagtail.admin.rich_text.converters.markdown_db import MarkdownConverter

    latest = page.get_latest_revision_as_object()
    return MarkdownConverter(MINUTES_FEATURES).from_database_format(getattr(latest, field) or "", resolved=False)


def _rich_text(markdown: str, *, required: bool = True) -> str:
    from wagtail.api.rich_text import APIRichText, RichTextFormatError

    if not markdown.strip():
        if not required:
            return ""
        raise FollowUpError(_("The minutes cannot be empty, in either language."))
    try:
        html, _removed = APIRichText.convert_db_markdown_input(markdown, features=MINUTES_FEATURES)
    except RichTextFormatError as error:
        raise FollowUpError(_("The minutes could not be read: %(error)s") % {"error": error}) from error
    return html


def _editable_minutes(session: CouncilSession) -> tuple[MinutesPage, MinutesPage]:
    if session.status == CouncilSession.Status.MINUTES_PUBLISHED:
        raise FollowUpError(_("The minutes are published and can no longer be changed."))
    zh_page, en_page = minutes_pages(session)
    if zh_page is None or en_page is None:
        raise FollowUpError(_("The minutes of this session have not been written yet."))
    if zh_page.live or en_page.live:
        raise FollowUpError(_("The minutes are published and can no longer be changed."))
    return zh_page, en_page


# --- The minutes in the council's keyed chain (deliberation/council/chain.py) -----------------------


def minutes_text(page: MinutesPage) -> str:
    """The text a minutes page shows around its generated results section, as stored."""
    return chain.canonical({"body": page.body or "", "closing": getattr(page, "closing", "") or ""})


def minutes_payload(session: CouncilSession) -> dict:
    """Each language's published minutes (page and digest of its text) and the confirmations behind them: the
    chain's minutes link, written at publication and checked again by `verify_results`."""
    pages = MinutesPage.objects.filter(session=session, live=True).select_related("locale").order_by("pk")
    confirmations = MinutesConfirmation.objects.filter(session=session).order_by("member_id")
    return {
        "minutes": {
            page.locale.language_code: {"page": page.pk, "text": hashlib.sha256(minutes_text(page).encode()).hexdigest()}
            for page in pages
        },
        "confirmations": [{"member": row.member_id, "text": row.text_digest} for row in confirmations],
    }


chain.register_payload(ChainLink.Kind.MINUTES, minutes_payload)


def minutes_text_digest(session: CouncilSession) -> str:
    """SHA-256 of the minutes' current free text in both languages (latest revisions): what a member confirms.
    The generated results section is not in it: it always follows the stored results."""
    zh_page, en_page = minutes_pages(session)
    texts = {
        language: minutes_text(page.get_latest_revision_as_object()) if page is not None else ""
        for language, page in ((settings.LANGUAGE_CODE, zh_page), ("en", en_page))
    }
    return hashlib.sha256(chain.canonical(texts).encode()).hexdigest()


def current_confirmations(session: CouncilSession) -> QuerySet[MinutesConfirmation]:
    """Confirmations of the text as it is now; one of an earlier text does not count (however it was changed)."""
    return session.minutes_confirmations.filter(text_digest=minutes_text_digest(session))


def clear_stale_confirmations(*, session: CouncilSession, actor) -> int:
    """After the minutes' text changed (in the portal or the page editor): confirmations of another text are
    removed and each of those members is asked, in their language, to confirm the new text. Returns how many."""
    digest = minutes_text_digest(session)
    stale = list(session.minutes_confirmations.exclude(text_digest=digest).select_related("member__user__profile"))
    if not stale:
        return 0

    def render() -> Content:
        context = {"session": session, "url": absolute_url(reverse("followup:member_minutes", args=[session.pk]))}
        return Content(
            subject=_("The minutes of %(session)s changed: please confirm them again") % {"session": session.display_title},
            body=render_to_string("followup/email/minutes_reconfirm.txt", context),
            params={"title": session.display_title},
        )

    for confirmation in stale:
        user = confirmation.member.user
        if user.is_active:
            notify(
                kind="deliberation.minutes_reconfirm",
                recipient=user,
                render=render,
                idempotency_key=f"deliberation.minutes_reconfirm:{session.pk}:{digest[:16]}:{user.pk}",
            )
    session.minutes_confirmations.filter(pk__in=[confirmation.pk for confirmation in stale]).delete()
    record(session, "followup.minutes.edit", actor=actor, confirmations_cleared=len(stale))
    return len(stale)


@transaction.atomic
def edit_minutes(
    *, session: CouncilSession, actor, body: str, body_en: str, closing: str | None = None, closing_en: str | None = None
) -> MinutesPage:
    """Save the secretary's free text (Markdown, both languages: `body` before the results section, `closing`
    after it, None to keep it) as new revisions of the draft pages. The results section is not theirs to edit.

    Members confirm the text they read: a changed text clears earlier confirmations and asks those members again.
    """
    session = CouncilSession.objects.select_for_update(of=("self",)).select_related("council__community").get(pk=session.pk)
    _require_keeper(actor, session)
    zh_page, en_page = _editable_minutes(session)
    changed = False
    for page, text, after in ((zh_page, body, closing), (en_page, body_en, closing_en)):
        draft = page.get_latest_revision_as_object()
        fields = {"body": _rich_text(text)}
        if after is not None:
            fields["closing"] = _rich_text(after, required=False)
        if any(getattr(draft, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(draft, name, value)
            draft.save_revision(user=actor, log_action=False)
            changed = True
    if changed:
        record(session, "followup.minutes.edit", actor=actor)
        clear_stale_confirmations(session=session, actor=actor)
    return zh_page


@transaction.atomic
def minutes_edited_in_admin(*, page: MinutesPage, actor) -> int:
    """The page editor saved a minutes page (Wagtail's `after_edit_page`): confirmations of the earlier text lapse."""
    if page.session_id is None:
        return 0
    session = CouncilSession.objects.select_for_update(of=("self",)).select_related("council").get(pk=page.session_id)
    if session.status != CouncilSession.Status.CLOSED:
        return 0  # published minutes are final (a draft saved in the editor never goes live); their confirmations stay
    return clear_stale_confirmations(session=session, actor=actor)


@transaction.atomic
def confirm_minutes(*, session: CouncilSession, user) -> MinutesConfirmation:
    """A member present at the session confirms the minutes online, once; the text they confirmed is recorded
    (its digest)."""
    session = CouncilSession.objects.select_for_update().get(pk=session.pk)
    seat = present_seat(user, session)
    if seat is None:
        raise NotAllowed(_("Only members present at the session confirm its minutes."))
    _editable_minutes(session)
    digest = minutes_text_digest(session)
    session.minutes_confirmations.filter(member=seat).exclude(text_digest=digest).delete()  # of an earlier text
    try:
        with transaction.atomic():
            confirmation = MinutesConfirmation.objects.create(session=session, member=seat, text_digest=digest)
    except IntegrityError as error:
        raise FollowUpError(_("You have already confirmed these minutes.")) from error
    record(session, "followup.minutes.confirm", actor=user)
    return confirmation


def confirmations_needed(session: CouncilSession) -> int:
    """More than half of the members present."""
    return Attendance.objects.filter(session=session).count() // 2 + 1


@transaction.atomic
def publish_minutes(*, session: CouncilSession, actor) -> MinutesPage:
    """Publish both language versions once more than half of the members present confirmed them."""
    session = CouncilSession.objects.select_for_update(of=("self",)).select_related("council__community").get(pk=session.pk)
    _require_keeper(actor, session)
    if session.status != CouncilSession.Status.CLOSED:
        if session.status == CouncilSession.Status.MINUTES_PUBLISHED:
            raise FollowUpError(_("The minutes are already published."))
        raise FollowUpError(_("Minutes are published after the session has closed."))
    zh_page, en_page = _editable_minutes(session)
    confirmed, needed = current_confirmations(session).count(), confirmations_needed(session)
    if confirmed < needed:
        raise FollowUpError(
            _("The minutes need %(needed)d confirmations from members present; they have %(confirmed)d.")
            % {"needed": needed, "confirmed": confirmed}
        )
    for page in (zh_page, en_page):
        page.get_latest_revision().publish(user=actor, log_action=False, skip_permission_checks=True)  # checked above
    session.status = CouncilSession.Status.MINUTES_PUBLISHED
    session.save(update_fields=["status"])
    chain.append_minutes(session=session, payload=minutes_payload(session))  # the published text and its confirmations
    record(session, "followup.minutes.publish", actor=actor)
    return zh_page


# --- Who hears of a topic's outcome ---------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    email: str
    language: str
    letter_path: str = ""  # the writer's own letter page, where the satisfaction question is asked


def _language_of(user_id: int | None, fallback: str) -> str:
    if user_id:
        profile = ResidentProfile.objects.filter(user_id=user_id).only("preferred_language").first()
        if profile is not None:
            return profile.preferred_language
    return fallback


def topic_recipients(topic: Topic) -> list[Recipient]:
    """Every writer of a letter in the topic and every supporter, each address once (writers first)."""
    from deliberation.mailbox.notifications import _recipient

    recipients: dict[str, Recipient] = {}
    for letter in topic.letters.select_related("writer__profile").order_by("received_at", "pk"):
        address = _recipient(letter)
        if not address or address.lower() in recipients:
            continue
        language = language_of(letter.writer if letter.writer_id else None, letter.language)
        if letter.writer_id:
            path = ("letter", letter.tracking_number, "")
        elif letter.access_key:
            path = ("track", letter.tracking_number, letter.access_key)
        else:
            path = ("", "", "")
        recipients[address.lower()] = Recipient(email=address, language=language, letter_path="|".join(path))
    for support in topic.supports.select_related("resident__profile").order_by("created_at", "pk"):
        resident = support.resident
        if not resident.is_active or not resident.email or resident.email.lower() in recipients:
            continue
        language = language_of(resident)
        recipients[resident.email.lower()] = Recipient(email=resident.email, language=language)
    return list(recipients.values())


def _letter_url(recipient: Recipient) -> str:
    kind, number, key = (recipient.letter_path.split("|") + ["", "", ""])[:3]
    if kind == "letter":
        return absolute_url(reverse("mailbox:letter_detail", args=[number]))
    if kind == "track":
        return absolute_url(reverse("mailbox:track_letter", args=[number, key]))
    return ""


def _mail_topic(*, topic_id: int, item_id: int, template: str, subject: str) -> None:
    """One message per writer and supporter of the topic, each in their language, queued with the change."""
    topic = Topic.objects.get(pk=topic_id)
    item = AgendaItem.objects.select_related("session", "result").get(pk=item_id)
    decision = Decision.objects.filter(item=item).first()
    head = chain.item_head(item)
    kind = template.removesuffix(".txt")
    for recipient in topic_recipients(topic):

        def render(recipient=recipient) -> Content:
            context = {
                "topic": topic,
                "item": item,
                "result": getattr(item, "result", None),
                "decision": decision,
                "head": head,
                "letter_url": _letter_url(recipient),
                "decision_url": absolute_url(reverse("followup:decision_detail", args=[decision.pk])) if decision else "",
                "topic_url": absolute_url(reverse("mailbox:topic_detail", args=[topic.pk])) if topic.is_public else "",
            }
            return Content(
                subject=_(subject) % {"topic": topic.title},
                body=render_to_string(f"followup/email/{template}", context),
                params={"topic": topic.title},
            )

        notify(
            kind=f"deliberation.{kind}",
            address=recipient.email,
            language=recipient.language,
            render=render,
            idempotency_key=f"deliberation.{kind}:{item_id}:{recipient.email.lower()}",
        )


# Marked here, translated for each recipient inside `_mail_topic`.
SUBJECT_RESULT = gettext_noop("The council has voted on “%(topic)s”")
SUBJECT_COMPLETED = gettext_noop("“%(topic)s” has been carried out: are you satisfied?")


def _move_topic(topic: Topic, *, actor, status: str) -> None:
    from deliberation.mailbox.services import MailboxError, move_topic

    try:
        move_topic(topic=topic, actor=actor, status=status, notify_writers=False)
    except MailboxError:
        # The topic was moved by hand meanwhile (e.g. rejected): the council's step does not override it.
        pass


# --- Decisions and objections ---------------------------------------------------------------


def _award_adopted_suggestion(decision: Decision, topic: Topic) -> None:
    from points.services import PointsError, award

    writers = {letter.writer for letter in topic.letters.select_related("writer") if letter.writer_id and letter.writer.is_active}
    for writer in sorted(writers, key=lambda user: user.pk):
        try:
            with transaction.atomic():
                award(
                    resident=writer, rule_code="adopted_suggestion", source_key=f"deliberation.adopted:{decision.pk}:{writer.pk}"
                )
        except PointsError:
            continue  # a cap reached or the rule switched off: the decision stands without points
    decision.suggestion_points_awarded = True
    decision.save(update_fields=["suggestion_points_awarded"])


def result_stored(*, result: Result, actor) -> Decision | None:
    """Received from `council.close_voting` (`signals.result_stored`) inside its transaction once a result is
    stored.

    A passed item becomes a decision, posted for the council's notice period (in effect at once when it
    is 0 days or the item is procedural, without public notice); its topic is DECIDED, its writers earn
    the adopted-suggestion points. A failed item's topic goes back to SHORTLISTED. Writers and supporters
    are told either way.
    """
    item = AgendaItem.objects.select_related("session__council", "topic").get(pk=result.item_id)
    council = item.session.council
    topic = item.topic
    decision = None
    if result.outcome == Result.Outcome.PASSED and not Decision.objects.filter(item=item).exists():
        decision = Decision(item=item, topic=topic, summary=item.motion, summary_en=item.motion_en)
        if council.notice_days and item.public_notice:
            decision.notice_until = workdays.add(timezone.localdate(result.closed_at), council.notice_days)
        else:
            decision.status, decision.effective_at = Decision.Status.IN_EFFECT, result.closed_at
        decision.save()
        record(decision, "followup.decision.create", actor=actor)
        if decision.status == Decision.Status.IN_EFFECT:
            record(decision, "followup.decision.effect", actor=actor)
    if topic is None:
        return decision
    if result.outcome == Result.Outcome.PASSED:
        if topic.status == Topic.Status.SHORTLISTED:
            _move_topic(topic, actor=actor, status=Topic.Status.SCHEDULED)
            topic.refresh_from_db()
        _move_topic(topic, actor=actor, status=Topic.Status.DECIDED)
        if decision is not None:
            _award_adopted_suggestion(decision, topic)
    else:
        _move_topic(topic, actor=actor, status=Topic.Status.SHORTLISTED)
    _mail_topic(topic_id=topic.pk, item_id=item.pk, template="decision_result.txt", subject=SUBJECT_RESULT)
    return decision


def decision_council(decision: Decision):
    return decision.item.session.council


def in_notice_period(decision: Decision, *, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return decision.status == Decision.Status.NOTICE and decision.notice_until is not None and today <= decision.notice_until


@transaction.atomic
def file_objection(*, decision: Decision, resident, text: str) -> Objection:
    """A verified resident objects during the notice period; one open (unanswered) objection each."""
    if not resident.is_authenticated:
        raise NotAllowed(_("Please log in to file an objection."))
    if not is_verified_resident(resident):
        raise NotAllowed(str(VERIFY_FIRST))
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if not in_notice_period(decision):
        raise FollowUpError(_("Objections can only be filed during the notice period."))
    text = text.strip()
    if not text:
        raise FollowUpError(_("Write your objection first."))
    if len(text) > MAX_OBJECTION_CHARS:
        raise FollowUpError(_("An objection may be at most %(count)d characters long.") % {"count": MAX_OBJECTION_CHARS})
    if Objection.objects.filter(decision=decision, resident=resident, answered_at__isnull=True).exists():
        raise FollowUpError(_("You already have an objection to this decision waiting for an answer."))
    try:
        with transaction.atomic():
            objection = Objection.objects.create(
                decision=decision, resident=resident, text=text, language=_language_of(resident.pk, translation.get_language())
            )
    except IntegrityError as error:
        raise FollowUpError(_("You already have an objection to this decision waiting for an answer.")) from error
    record(decision, "followup.decision.objection", actor=resident)
    return objection


@transaction.atomic
def answer_objection(*, objection: Objection, actor, answer: str, answer_en: str = "") -> Objection:
    """Staff answer an objection in Chinese and optionally English (published with it, anonymised); the objector
    is e-mailed the answer in their language (the Chinese one marked "(no English yet)" when staff left the
    English one empty)."""
    objection = (
        Objection.objects.select_for_update(of=("self",))
        .select_related("decision__item__session__council__community")
        .get(pk=objection.pk)
    )
    _require_staff(actor, decision_council(objection.decision))
    if objection.answered_at is not None:
        raise FollowUpError(_("This objection has already been answered."))
    answer, answer_en = answer.strip(), answer_en.strip()
    if not answer:
        raise FollowUpError(_("Write the answer first."))
    if len(answer) > MAX_ANSWER_CHARS or len(answer_en) > MAX_ANSWER_CHARS:
        raise FollowUpError(_("An answer may be at most %(count)d characters long.") % {"count": MAX_ANSWER_CHARS})
    objection.answer, objection.answer_en = answer, answer_en
    objection.answered_by, objection.answered_at = actor, timezone.now()
    objection.save(update_fields=["answer", "answer_en", "answered_by", "answered_at"])
    record(objection.decision, "followup.decision.answer", actor=actor, objection=objection.pk)
    resident = objection.resident
    if resident is not None and resident.is_active:

        def render() -> Content:
            context = {
                "objection": objection,
                "decision": objection.decision,
                "decision_url": absolute_url(reverse("followup:decision_detail", args=[objection.decision_id])),
            }
            return Content(
                subject=_("Your objection has been answered"),
                body=render_to_string("followup/email/objection_answered.txt", context),
            )

        notify(
            kind="deliberation.objection_answered",
            recipient=resident,
            language=objection.language,
            render=render,
            idempotency_key=f"deliberation.objection_answered:{objection.pk}",
        )
    return objection


def _unanswered() -> Exists:
    return Exists(Objection.objects.filter(decision=OuterRef("pk"), answered_at__isnull=True))


def take_effect_due(*, today: datetime.date | None = None, now: datetime.datetime | None = None) -> int:
    """Decisions whose notice period is over and whose objections are all answered take effect (at `now`,
    default the present: the demo's past session takes effect on its own days).

    A decision with an unanswered objection waits (staff see it flagged in the admin).
    """
    today = today or timezone.localdate()
    due = Decision.objects.filter(status=Decision.Status.NOTICE, notice_until__lt=today).exclude(_unanswered())
    count = 0
    for decision_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            decision = Decision.objects.select_for_update().get(pk=decision_id)
            if decision.status != Decision.Status.NOTICE or decision.objections.filter(answered_at__isnull=True).exists():
                continue
            decision.status, decision.effective_at = Decision.Status.IN_EFFECT, now or timezone.now()
            decision.save(update_fields=["status", "effective_at"])
            record(decision, "followup.decision.effect")
            _complete_if_done(decision, actor=None)
            count += 1
    return count


# --- Follow-up actions ----------------------------------------------------------------------


@transaction.atomic
def add_action(
    *,
    decision: Decision,
    actor,
    description: str,
    party: str,
    due_on: datetime.date,
    description_en: str = "",
    today: datetime.date | None = None,
) -> FollowUpAction:
    """Staff give a decision an action (督办事项): who does what by when; `today` is the day it was agreed
    (default today, never later), which the due date may not be before."""
    if today is not None and today > timezone.localdate():
        raise ValueError("`today` cannot be in the future")
    decision = (
        Decision.objects.select_for_update(of=("self",))
        .select_related("item__session__council__community", "topic")
        .get(pk=decision.pk)
    )
    _require_staff(actor, decision_council(decision))
    if decision.status not in (Decision.Status.NOTICE, Decision.Status.IN_EFFECT):
        raise FollowUpError(_("Actions can only be added to a decision that is not yet completed."))
    description, description_en = description.strip(), description_en.strip()
    if not description:
        raise FollowUpError(_("Describe the action."))
    if len(description) > 200 or len(description_en) > 200:
        raise FollowUpError(_("An action's description may be at most 200 characters long."))
    if party not in FollowUpAction.Party.values:
        raise FollowUpError(_("Choose the responsible party."))
    if due_on is None or due_on < (today or timezone.localdate()):
        raise FollowUpError(_("The due date cannot be in the past."))
    action = FollowUpAction.objects.create(
        decision=decision, description=description, description_en=description_en, party=party, due_on=due_on, created_by=actor
    )
    record(action, "followup.action.create", actor=actor, decision=decision.pk)
    if decision.topic is not None and decision.topic.status == Topic.Status.DECIDED:
        _move_topic(decision.topic, actor=actor, status=Topic.Status.FOLLOW_UP)
    return action


@transaction.atomic
def report_progress(*, action: FollowUpAction, actor, progress: int, note: str = "", note_en: str = "") -> ActionUpdate:
    """A dated progress report (0–100 %); at 100 % the action is complete, and with the last one the decision."""
    action = (
        FollowUpAction.objects.select_for_update(of=("self",))
        .select_related("decision__item__session__council__community")
        .get(pk=action.pk)
    )
    _require_staff(actor, decision_council(action.decision))
    if action.completed_at is not None:
        raise FollowUpError(_("This action is already complete."))
    if action.decision.status not in (Decision.Status.NOTICE, Decision.Status.IN_EFFECT):
        raise FollowUpError(_("This decision is no longer followed up."))
    if not isinstance(progress, int) or isinstance(progress, bool) or not 0 <= progress <= 100:
        raise FollowUpError(_("Progress is a whole number from 0 to 100."))
    now = timezone.now()
    update = ActionUpdate.objects.create(
        action=action, progress=progress, note=note.strip(), note_en=note_en.strip(), author=actor, created_at=now
    )
    action.progress = progress
    if progress == 100:
        action.completed_at = now
    action.save(update_fields=["progress", "completed_at"])
    record(action, "followup.action.update", actor=actor, progress=progress)
    if action.completed_at is not None:
        _complete_if_done(Decision.objects.select_for_update().get(pk=action.decision_id), actor=actor)
    return update


def _complete_if_done(decision: Decision, *, actor) -> bool:
    """A decision in effect whose actions are all complete is completed: its topic closes, everyone is told."""
    if decision.status != Decision.Status.IN_EFFECT:
        return False
    actions = decision.actions.aggregate(total=Count("pk"), open=Count("pk", filter=Q(completed_at__isnull=True)))
    if not actions["total"] or actions["open"]:
        return False
    decision.status, decision.completed_at = Decision.Status.COMPLETED, timezone.now()
    decision.save(update_fields=["status", "completed_at"])
    record(decision, "followup.decision.complete", actor=actor)
    topic = decision.topic
    if topic is not None:
        _move_topic(topic, actor=actor, status=Topic.Status.CLOSED)
        _mail_topic(topic_id=topic.pk, item_id=decision.item_id, template="decision_completed.txt", subject=SUBJECT_COMPLETED)
    return True


def escalate_overdue_actions(*, today: datetime.date | None = None) -> int:
    """Tell the community's heads, once per action, of actions past their due date."""
    today = today or timezone.localdate()
    escalated = 0
    overdue = FollowUpAction.objects.filter(completed_at__isnull=True, escalated_at__isnull=True, due_on__lt=today)
    for action_id in overdue.values_list("pk", flat=True):
        with transaction.atomic():
            action = (
                FollowUpAction.objects.select_for_update(of=("self",))
                .select_related("decision__item__session__council__community__heads")
                .get(pk=action_id)
            )
            if action.escalated_at is not None or action.completed_at is not None:
                continue
            action.escalated_at = timezone.now()
            action.save(update_fields=["escalated_at"])
            record(action, "followup.action.escalate")
            community = decision_council(action.decision).community
            heads = list(community.heads.user_set.filter(is_active=True).exclude(email="")) if community.heads else []
            for head in heads:

                def render(action=action) -> Content:
                    context = {
                        "action": action,
                        "decision": action.decision,
                        "decision_url": absolute_url(reverse("followup_admin:decision", args=[action.decision_id])),
                    }
                    return Content(
                        subject=_("Overdue follow-up action: %(action)s") % {"action": action.display_description},
                        body=render_to_string("followup/email/action_overdue.txt", context),
                        params={"action": action.display_description},
                    )

                notify(
                    kind="deliberation.action_overdue",
                    recipient=head,
                    render=render,
                    idempotency_key=f"deliberation.action_overdue:{action.pk}:{action.escalated_at.timestamp()}:{head.pk}",
                )
            escalated += 1
    return escalated


# --- Reading --------------------------------------------------------------------------------


def public_decisions() -> QuerySet[Decision]:
    """Decisions residents see: all but withdrawn ones."""
    return Decision.objects.exclude(status=Decision.Status.WITHDRAWN)


def decisions_for_staff(user) -> QuerySet[Decision]:
    decisions = for_user(user).filter(Decision.objects.all(), "item__session__council__community")
    today = timezone.localdate()
    return (
        decisions.select_related("item__session__council", "topic")
        .annotate(
            unanswered=Count("objections", filter=Q(objections__answered_at__isnull=True), distinct=True),
            overdue=Count("actions", filter=Q(actions__completed_at__isnull=True, actions__due_on__lt=today), distinct=True),
            action_count=Count("actions", distinct=True),
        )
        .order_by("-created_at", "-pk")
    )


# --- What the council tells the follow-up (deliberation/council/signals.py) -------------------------------


@receiver(signals.session_ended)
def _draft_minutes(sender, *, session: CouncilSession, actor, **kwargs) -> None:
    generate_minutes(session=session, actor=actor)


@receiver(signals.result_stored)
def _start_notice(sender, *, result: Result, actor, **kwargs) -> None:
    result_stored(result=result, actor=actor)
