"""Admin: rules and rewards as snippets; the staff points pages under one "Points" menu."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from api.core import API_ROUTERS, ApiSection, Link, Problem
from home.scope import StaffMenuItem, StaffSubmenu

from . import admin_views, api
from .models import EarningRule, Reward
from .services import PointsError


class EarningRuleViewSet(SnippetViewSet):
    model = EarningRule
    icon = "list-ul"
    add_to_admin_menu = False
    list_display = ["name", "name_en", "code", "points", "daily_cap", "monthly_cap", "awarded_by", "active"]
    list_filter = ["active", "awarded_by"]
    search_fields = ["name", "name_en", "code"]


class RewardViewSet(SnippetViewSet):
    model = Reward
    icon = "pick"
    add_to_admin_menu = False
    list_display = ["name", "name_en", "cost", "stock", "community", "active"]
    list_filter = ["active", "community"]
    search_fields = ["name", "name_en"]


register_snippet(EarningRuleViewSet)
register_snippet(RewardViewSet)

urlpatterns = [
    path("", admin_views.dashboard, name="dashboard"),
    path("award/", admin_views.find_resident, name="find_resident"),
    path("award/<int:user_id>/", admin_views.award, name="award"),
    path("bulk/", admin_views.bulk_award, name="bulk_award"),
    path("hand-over/", admin_views.hand_over, name="hand_over"),
    path("adjust/", admin_views.find_resident, {"purpose": "adjust"}, name="find_adjust"),
    path("adjust/<int:user_id>/", admin_views.adjust, name="adjust"),
    path("audit/", admin_views.audit_log, name="audit_log"),
    path("audit/<int:entry_id>/reverse/", admin_views.reverse_entry, name="reverse_entry"),
]


@hooks.register("register_admin_urls")
def register_points_urls():
    return [path("points/", include((urlpatterns, "points_admin"), namespace="points_admin"))]


class SnippetMenuItem(MenuItem):
    """A snippet list, shown to those who may change that snippet."""

    def __init__(self, label, model, **kwargs):
        self.model = model
        super().__init__(label, reverse(f"wagtailsnippets_points_{model._meta.model_name}:list"), **kwargs)

    def is_shown(self, request):
        return request.user.has_perm(f"points.change_{self.model._meta.model_name}")


class PointsMenuItem(StaffSubmenu):
    """Staff, and whoever may change rewards (the snippets are in the menu)."""

    def is_shown(self, request):
        return super().is_shown(request) or request.user.has_perm("points.change_reward")


@hooks.register("register_admin_menu_item")
def register_points_menu():
    menu = Menu(
        items=[
            StaffMenuItem(_("Points dashboard"), reverse("points_admin:dashboard"), icon_name="table", order=100),
            StaffMenuItem(_("Award points"), reverse("points_admin:find_resident"), icon_name="plus", order=200),
            StaffMenuItem(_("Bulk award"), reverse("points_admin:bulk_award"), icon_name="upload", order=300),
            StaffMenuItem(_("Hand over a reward"), reverse("points_admin:hand_over"), icon_name="tick", order=400),
            StaffMenuItem(_("Adjust a balance"), reverse("points_admin:find_adjust"), icon_name="edit", order=450),
            StaffMenuItem(_("Points audit log"), reverse("points_admin:audit_log"), icon_name="history", order=500),
            SnippetMenuItem(_("Rewards"), Reward, icon_name="pick", order=600),
            SnippetMenuItem(_("Earning rules"), EarningRule, icon_name="list-ul", order=700),
        ]
    )
    return PointsMenuItem(_("Points"), menu, icon_name="pick", order=260)


@hooks.register("register_log_actions")
def register_points_log_actions(actions):
    from .audit import AUDIT

    AUDIT.register(actions)


@hooks.register(API_ROUTERS)
def points_api() -> ApiSection:
    # A reservation or cancellation the rules refuse (not enough points, out of stock, over the monthly limit,
    # no longer waiting for pickup) conflicts with the state: 409 with the service's message.
    reservation_targets = (api.get_reservation, api.cancel, api.pickup)
    return ApiSection(
        prefix="",
        router=api.router,
        errors={PointsError: Problem(409, "points_refused")},
        links=[
            Link(api.list_rewards, api.get_reward, {"reward_id": "$response.body#/items/0/id"}),
            Link(api.list_rewards, api.reserve, {"reward_id": "$response.body#/items/0/id"}),
            Link(api.get_reward, api.reserve, {"reward_id": "$response.body#/id"}),
            *(
                Link(api.reserve, target, {"reservation_id": "$response.body#/id"}, status=status)
                for status in (200, 201)
                for target in reservation_targets
            ),
            *(
                Link(api.my_reservations, target, {"reservation_id": "$response.body#/items/0/id"})
                for target in reservation_targets
            ),
        ],
    )
