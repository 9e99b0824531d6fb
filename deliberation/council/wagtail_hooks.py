"""The council in the Wagtail admin: its menu for community staff and its views, its audit actions, the
section on the staff's topic page that puts a topic on an agenda; and its members' API (/api/v1/council/)."""

from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu

from api.core import API_ROUTERS, ApiSection, Link, Problem
from deliberation.mailbox.sections import STAFF_TOPIC_SECTIONS
from home.scope import StaffMenuItem, StaffSubmenu
from home.sections import HomeSection

from . import admin_views, api, services
from .audit import AUDIT
from .models import AgendaItem, Council

admin_urls = [
    path("", admin_views.session_list, name="sessions"),
    path("councils/", admin_views.council_list, name="councils"),
    path("councils/<int:pk>/", admin_views.council_detail, name="council"),
    path("councils/<int:council_pk>/sessions/new/", admin_views.session_new, name="session_new"),
    path("sessions/<int:pk>/", admin_views.session_detail, name="session"),
    path("sessions/<int:pk>/edit/", admin_views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/door/", admin_views.door_qr, name="door_qr"),
    path("items/<int:pk>/", admin_views.item_edit, name="item"),
    path("results/", admin_views.result_list, name="results"),
]


@hooks.register("register_admin_urls")
def register_council_urls():
    return [path("council/", include((admin_urls, "council_admin"), namespace="council_admin"))]


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


@hooks.register("register_log_actions")
def register_council_log_actions(actions):
    AUDIT.register(actions)


def council_of_topic(topic) -> dict:
    """Where the topic stands with its community's council: the agenda it is on, or the sessions it may be added to."""
    council = Council.objects.filter(community=topic.community_id).first()
    on_agenda = (
        AgendaItem.objects.filter(topic=topic, session__status__in=services.AGENDA_HOLDS).select_related("session").first()
    )
    addable = (
        council is not None and on_agenda is None and services.agenda_topics(topic.community_id).filter(pk=topic.pk).exists()
    )
    sessions = []
    if addable:
        sessions = list(
            council.sessions.filter(status__in=services.PREPARING, starts_at__gt=timezone.now()).order_by("starts_at", "pk")[:5]
        )
    return {"topic": topic, "council": council, "on_agenda": on_agenda, "addable": addable, "agenda_sessions": sessions}


@hooks.register(STAFF_TOPIC_SECTIONS)
def council_on_the_staff_topic_page() -> HomeSection:
    return HomeSection(template="council/admin/topic_section.html", context=council_of_topic)


@hooks.register(API_ROUTERS)
def council_api() -> ApiSection:
    # The rules refused (voting not open, not checked in, already voted on another device...): 409, the service's
    # message; a role that does not allow it (a staff member who sits on no council votes): 403, its message.
    return ApiSection(
        prefix="/council/",
        router=api.router,
        errors={services.CouncilError: Problem(409, "council_refused"), services.NotAllowed: Problem(403, "forbidden")},
        links=[
            *(
                Link(api.list_sessions, target, {"session_id": "$response.body#/items/0/id"})
                for target in (api.get_session, api.check_in)
            ),
            *(
                Link(api.get_session, target, {"item_id": "$response.body#/items/0/id"})
                for target in (api.vote, api.my_vote, api.result)
            ),
            Link(api.vote, api.my_vote, {"item_id": "$response.body#/item_id"}),
        ],
    )
