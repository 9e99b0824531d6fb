"""The mailbox in the Wagtail admin: its menu for community staff, its views, and the community mailbox snippet."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from api.core import API_ROUTERS, ApiSection, Link, Problem
from home.scope import StaffMenuItem, StaffSubmenu

from . import admin_views, api, services
from .audit import AUDIT
from .models import CommunityMailbox

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


@hooks.register("register_admin_urls")
def register_mailbox_urls():
    return [path("mailbox/", include((admin_urls, "mailbox_admin"), namespace="mailbox_admin"))]


class ManagerMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_superuser


@hooks.register("register_admin_menu_item")
def register_mailbox_menu():
    menu = Menu(
        items=[
            StaffMenuItem(_("Inbox"), reverse("mailbox_admin:inbox"), icon_name="mail", order=1),
            StaffMenuItem(_("Topics"), reverse("mailbox_admin:topics"), icon_name="list-ul", order=2),
            StaffMenuItem(_("Concerns dashboard"), reverse("mailbox_admin:dashboard"), icon_name="table", order=3),
            StaffMenuItem(_("Hotline import"), reverse("mailbox_admin:hotline_upload"), icon_name="upload", order=4),
            StaffMenuItem(_("Enter a letter"), reverse("mailbox_admin:staff_entry"), icon_name="edit", order=5),
            ManagerMenuItem(_("Quarantined mail"), reverse("mailbox_admin:quarantine"), icon_name="warning", order=6),
        ]
    )
    return StaffSubmenu(_("Mailbox"), menu, icon_name="mail", order=260)


class CommunityMailboxViewSet(SnippetViewSet):
    model = CommunityMailbox
    icon = "mail"
    list_display = ["community", "address", "support_threshold"]


register_snippet(CommunityMailboxViewSet)


@hooks.register("register_log_actions")
def register_mailbox_log_actions(actions):
    AUDIT.register(actions)


@hooks.register(API_ROUTERS)
def mailbox_api() -> ApiSection:
    # The services' own messages: a photo that is not one is bad input (422), the daily letter limit 429 (as the
    # page answers), any other rule (already supported, not closed yet, already answered) conflicts with the state.
    return ApiSection(
        prefix="",
        router=api.router,
        errors={
            services.PhotoError: Problem(422, "invalid"),
            services.RateLimited: Problem(429, "too_many_letters"),
            services.MailboxError: Problem(409, "mailbox_refused"),
        },
        links=[
            *(
                Link(api.write_letter, target, {"letter_id": "$response.body#/id"}, status=status)
                for status in (200, 201)
                for target in (api.get_letter, api.answer_satisfaction)
            ),
            Link(api.my_letters, api.get_letter, {"letter_id": "$response.body#/items/0/id"}),
            Link(
                api.get_letter,
                api.letter_photo,
                {"letter_id": "$request.path.letter_id", "photo_id": "$response.body#/photos/0/id"},
            ),
            *(
                Link(api.list_topics, target, {"topic_id": "$response.body#/items/0/id"})
                for target in (api.get_topic, api.support, api.withdraw)
            ),
            Link(api.get_topic, api.support, {"topic_id": "$response.body#/id"}),
            Link(api.support, api.withdraw, {"topic_id": "$response.body#/id"}, status=201),
        ],
    )
