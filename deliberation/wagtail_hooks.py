"""The mailbox and the council in the Wagtail admin: menus for community staff, their views, and the community
mailbox snippet."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from home.scope import for_request
from home.sections import HOME_SECTIONS, HomeSection

from . import admin_views
from .admin_views import council as council_views
from .admin_views import followup as admin_views_followup
from .models import CommunityMailbox, MinutesPage
from .services import followup

admin_urls = [
    path("", admin_views.inbox, name="inbox"),
    path("letters/<int:pk>/", admin_views.letter_triage, name="letter"),
    path("letters/<int:pk>/photos/<int:photo_pk>/", admin_views.letter_photo, name="letter_photo"),
    path("topics/", admin_views.topic_list, name="topics"),
    path("topics/<int:pk>/", admin_views.topic_detail, name="topic"),
    path("dashboard/", admin_views.dashboard, name="dashboard"),
    path("hotline/", admin_views.hotline_upload, name="hotline_upload"),
    path("hotline/<int:pk>/", admin_views.hotline_preview, name="hotline_preview"),
    path("new/", admin_views.staff_entry, name="staff_entry"),
    path("quarantine/", admin_views.quarantine, name="quarantine"),
]


council_urls = [
    path("", council_views.session_list, name="sessions"),
    path("councils/", council_views.council_list, name="councils"),
    path("councils/<int:pk>/", council_views.council_detail, name="council"),
    path("councils/<int:council_pk>/sessions/new/", council_views.session_new, name="session_new"),
    path("sessions/<int:pk>/", council_views.session_detail, name="session"),
    path("sessions/<int:pk>/edit/", council_views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/door/", council_views.door_qr, name="door_qr"),
    path("items/<int:pk>/", council_views.item_edit, name="item"),
    path("results/", council_views.result_list, name="results"),
]


@hooks.register("after_edit_page")
def minutes_confirmations_follow_the_text(request, page):
    """Minutes saved in the page editor: confirmations of the earlier text lapse, those members are asked again."""
    specific = page.specific
    if isinstance(specific, MinutesPage):
        followup.minutes_edited_in_admin(page=specific, actor=request.user)


@hooks.register("register_admin_urls")
def register_mailbox_urls():
    return [
        path("mailbox/", include((admin_urls, "deliberation_admin"), namespace="deliberation_admin")),
        path("council/", include((council_urls, "council_admin"), namespace="council_admin")),
    ]


class StaffMenuItem(MenuItem):
    def is_shown(self, request):
        return for_request(request).any


class ManagerMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_superuser


class StaffSubmenu(SubmenuMenuItem):
    def is_shown(self, request):
        return for_request(request).any


@hooks.register("register_admin_menu_item")
def register_mailbox_menu():
    menu = Menu(
        items=[
            StaffMenuItem(_("Inbox"), reverse("deliberation_admin:inbox"), icon_name="mail", order=1),
            StaffMenuItem(_("Topics"), reverse("deliberation_admin:topics"), icon_name="list-ul", order=2),
            StaffMenuItem(_("Concerns dashboard"), reverse("deliberation_admin:dashboard"), icon_name="table", order=3),
            StaffMenuItem(_("Hotline import"), reverse("deliberation_admin:hotline_upload"), icon_name="upload", order=4),
            StaffMenuItem(_("Enter a letter"), reverse("deliberation_admin:staff_entry"), icon_name="edit", order=5),
            ManagerMenuItem(_("Quarantined mail"), reverse("deliberation_admin:quarantine"), icon_name="warning", order=6),
        ]
    )
    return StaffSubmenu(_("Mailbox"), menu, icon_name="mail", order=260)


@hooks.register("register_admin_menu_item")
def register_council_menu():
    menu = Menu(
        items=[
            StaffMenuItem(_("Sessions"), reverse("council_admin:sessions"), icon_name="date", order=1),
            StaffMenuItem(_("Councils and members"), reverse("council_admin:councils"), icon_name="group", order=2),
            StaffMenuItem(_("Results"), reverse("council_admin:results"), icon_name="list-ol", order=3),
        ]
    )
    return StaffSubmenu(_("Council"), menu, name="council", icon_name="group", order=261)


class CommunityMailboxViewSet(SnippetViewSet):
    model = CommunityMailbox
    icon = "mail"
    list_display = ["community", "address", "support_threshold"]


register_snippet(CommunityMailboxViewSet)


@hooks.register("register_log_actions")
def register_council_log_actions(actions):
    from .audit import AUDIT

    AUDIT.register(actions)


# --- The council's follow-up: decisions, objections, actions, minutes ---------------------------

followup_admin_urls = [
    path("", admin_views_followup.decisions, name="decisions"),
    path("<int:pk>/", admin_views_followup.decision, name="decision"),
    path("minutes/", admin_views_followup.minutes, name="minutes"),
]


@hooks.register("register_admin_urls")
def register_followup_urls():
    return [
        path(
            "council-follow-up/",
            include((followup_admin_urls, "deliberation_followup_admin"), namespace="deliberation_followup_admin"),
        )
    ]


@hooks.register("register_admin_menu_item")
def register_followup_menu():
    menu = Menu(
        items=[
            StaffMenuItem(_("Decisions"), reverse("deliberation_followup_admin:decisions"), icon_name="tasks", order=1),
            StaffMenuItem(_("Minutes"), reverse("deliberation_followup_admin:minutes"), icon_name="doc-full", order=2),
        ]
    )
    return StaffSubmenu(_("Follow-up"), menu, icon_name="tasks", order=270)


def home_section(home_page) -> dict:
    """The home page's council section: the next announced sessions of every community, soonest first, and the
    decisions residents may still object to, the soonest to end first (one query each)."""
    from django.utils import timezone

    from .models import CouncilSession, Decision

    sessions = CouncilSession.objects.filter(status=CouncilSession.Status.ANNOUNCED, ends_at__gte=timezone.now())
    decisions = Decision.objects.filter(status=Decision.Status.NOTICE, notice_until__gte=timezone.localdate())
    return {
        "council_sessions": list(sessions.select_related("council").order_by("starts_at", "pk")[:3]),
        "council_decisions": list(decisions.select_related("item__session__council").order_by("notice_until", "pk")[:3]),
    }


@hooks.register(HOME_SECTIONS, order=20)
def council_on_the_home_page() -> HomeSection:
    return HomeSection(template="deliberation/home_section.html", context=home_section)
