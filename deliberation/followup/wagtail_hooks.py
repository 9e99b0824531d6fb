"""The follow-up in the Wagtail admin (decisions, objections, actions, minutes), its audit actions, and its
sections on the home page and on a topic's page: the council's sessions and the decisions taken."""

from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu
from wagtail.models import Locale

from deliberation.council.models import PUBLIC_SESSION_STATUSES, AgendaItem, CouncilSession
from deliberation.council.sections import COUNCIL_LIST_SECTIONS, COUNCIL_SESSION_SECTIONS
from deliberation.council.services import DECIDED_TOPICS
from deliberation.mailbox.sections import TOPIC_SECTIONS
from home.scope import StaffMenuItem, StaffSubmenu
from home.sections import HOME_SECTIONS, HomeSection

from . import admin_views, services
from .audit import AUDIT
from .models import Decision, MinutesPage

admin_urls = [
    path("", admin_views.decisions, name="decisions"),
    path("<int:pk>/", admin_views.decision, name="decision"),
    path("minutes/", admin_views.minutes, name="minutes"),
]


@hooks.register("after_edit_page")
def minutes_confirmations_follow_the_text(request, page):
    """Minutes saved in the page editor: confirmations of the earlier text lapse, those members are asked again."""
    specific = page.specific
    if isinstance(specific, MinutesPage):
        services.minutes_edited_in_admin(page=specific, actor=request.user)


@hooks.register("register_admin_urls")
def register_followup_urls():
    return [path("council-follow-up/", include((admin_urls, "followup_admin"), namespace="followup_admin"))]


@hooks.register("register_admin_menu_item")
def register_followup_menu():
    menu = Menu(
        items=[
            StaffMenuItem(_("Decisions"), reverse("followup_admin:decisions"), icon_name="tasks", order=1),
            StaffMenuItem(_("Minutes"), reverse("followup_admin:minutes"), icon_name="doc-full", order=2),
        ]
    )
    return StaffSubmenu(_("Follow-up"), menu, icon_name="tasks", order=270)


@hooks.register("register_log_actions")
def register_followup_log_actions(actions):
    AUDIT.register(actions)


def home_section(home_page) -> dict:
    """The home page's council section: the next announced sessions of every community, soonest first, and the
    decisions residents may still object to, the soonest to end first (one query each)."""
    sessions = CouncilSession.objects.filter(status=CouncilSession.Status.ANNOUNCED, ends_at__gte=timezone.now())
    decisions = Decision.objects.filter(status=Decision.Status.NOTICE, notice_until__gte=timezone.localdate())
    return {
        "council_sessions": list(sessions.select_related("council").order_by("starts_at", "pk")[:3]),
        "council_decisions": list(decisions.select_related("item__session__council").order_by("notice_until", "pk")[:3]),
    }


@hooks.register(HOME_SECTIONS, order=20)
def council_on_the_home_page() -> HomeSection:
    return HomeSection(template="followup/home_section.html", context=home_section)


def topic_section(topic) -> dict:
    """The council's work on a topic, on its public page: the sessions it is on (once announced), its decisions
    and their follow-up; nothing when the council has not taken it up."""
    agenda_items = list(
        AgendaItem.objects.filter(topic=topic, session__status__in=PUBLIC_SESSION_STATUSES)
        .select_related("session", "result")
        .order_by("session__starts_at", "position")
    )
    decisions = list(topic.decisions.exclude(status=Decision.Status.WITHDRAWN).prefetch_related("actions").order_by("pk"))
    if not agenda_items and not decisions:
        return {}
    return {"agenda_items": agenda_items, "decisions": decisions, "today": timezone.localdate()}


@hooks.register(TOPIC_SECTIONS)
def council_on_the_topic_page() -> HomeSection:
    return HomeSection(template="followup/topic_section.html", context=topic_section)


@hooks.register(DECIDED_TOPICS)
def decided_topics():
    """Topics with a decision that is not withdrawn: none goes on a council's agenda again."""
    return (
        Decision.objects.exclude(status=Decision.Status.WITHDRAWN).filter(topic__isnull=False).values_list("topic_id", flat=True)
    )


def council_list_section() -> dict:
    return {"decisions_in_notice": Decision.objects.filter(status=Decision.Status.NOTICE).count()}


@hooks.register(COUNCIL_LIST_SECTIONS)
def decisions_on_the_council_page() -> HomeSection:
    return HomeSection(template="followup/council_list_section.html", context=council_list_section)


def council_session_section(session) -> dict:
    """A session's published minutes in the active language (or the other one), once published."""
    if session.status != CouncilSession.Status.MINUTES_PUBLISHED:
        return {}
    pages = MinutesPage.objects.live().filter(session=session)
    minutes = pages.filter(locale=Locale.get_active()).first() or pages.first()
    return {"minutes": minutes} if minutes is not None else {}


@hooks.register(COUNCIL_SESSION_SECTIONS)
def minutes_on_the_session_page() -> HomeSection:
    return HomeSection(template="followup/council_session_section.html", context=council_session_section)
