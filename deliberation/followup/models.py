"""The council's follow-up (督办): decisions with their notice period (公示期), residents' objections, follow-up
actions with their progress, and the minutes (pages in Wagtail) with members' confirmations.

A decision comes from a stored council result (`deliberation.council`); texts residents read are kept in both
languages side by side (`summary` / `summary_en`); `home.i18n.label` picks the active one.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, Panel
from wagtail.fields import RichTextField
from wagtail.models import Page, PagePermissionTester
from wagtail.search import index

from deliberation.council.models import AgendaItem, Choice, CouncilMember, CouncilSession, Vote
from deliberation.mailbox.models import Topic
from home.i18n import label
from home.models import display_name


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
        db_table = "deliberation_decision"  # the table from when the apps were one
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return label(self, "summary", mark_missing=True)[:60]

    @property
    def withdrawn(self) -> bool:
        return self.status == self.Status.WITHDRAWN

    @property
    def display_summary(self) -> str:
        return label(self, "summary", mark_missing=True)


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
        db_table = "deliberation_objection"  # the table from when the apps were one
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
        return label(self, "answer", mark_missing=True)


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
        db_table = "deliberation_followupaction"  # the table from when the apps were one
        verbose_name = _("follow-up action")
        verbose_name_plural = _("follow-up actions")
        ordering = ["due_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="deliberation_action_progress_at_most_100")]

    def __str__(self) -> str:
        return label(self, "description", mark_missing=True)

    @property
    def display_description(self) -> str:
        return label(self, "description", mark_missing=True)

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
        db_table = "deliberation_actionupdate"  # the table from when the apps were one
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="deliberation_update_progress_at_most_100")]

    def __str__(self) -> str:
        return f"{self.action_id}: {self.progress}%"

    @property
    def display_note(self) -> str:
        return label(self, "note", mark_missing=True)


class MinutesConfirmation(models.Model):
    """A member's online confirmation of a session's minutes, with the digest of the text they confirmed
    (`services.minutes_text_digest`): a confirmation of another text does not count."""

    session = models.ForeignKey(CouncilSession, on_delete=models.CASCADE, related_name="minutes_confirmations")
    member = models.ForeignKey(CouncilMember, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)
    text_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "deliberation_minutesconfirmation"  # the table from when the apps were one
        constraints = [models.UniqueConstraint(fields=["session", "member"], name="deliberation_confirm_minutes_once")]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.member_id}"


class MinutesIndexPage(Page):
    """The list of a council's published minutes (议事会会议纪要)."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["home.HomePage", "home.CommunityPage"]
    subpage_types = ["followup.MinutesPage"]

    class Meta:
        db_table = "deliberation_minutesindexpage"  # the table from when the apps were one
        verbose_name = _("minutes index")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["minutes"] = MinutesPage.objects.child_of(self).live().select_related("session").order_by("-held_on", "-pk")
        return context


class MinutesResultsPanel(Panel):
    """The minutes' results section in the page editor: generated from the stored results, read-only."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "followup/admin/minutes_results_panel.html"

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
    parent_page_types = ["followup.MinutesIndexPage"]
    subpage_types: list[str] = []
    search_fields = [*Page.search_fields, index.SearchField("body"), index.SearchField("closing")]

    class Meta:
        db_table = "deliberation_minutespage"  # the table from when the apps were one
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
    return render_to_string("followup/minutes_results.html", context).strip()
