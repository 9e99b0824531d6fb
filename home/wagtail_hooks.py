"""Admin: communities and grids as snippets, grouped under one menu item; grid contacts and the grids' QR posters for
community staff (home.scope)."""

import django_filters
from django.http import Http404
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext_lazy
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import Menu
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail.admin.views import generic
from wagtail.admin.views.generic import history, usage
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import BasePermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from api.core import API_ROUTERS, ApiSection, Link, Problem

from . import admin_views, api
from .api_account import router as account_router
from .api_auth import router as api_auth_router
from .audit import AUDIT
from .forms import GridContactForm
from .models import Community, Grid, GridContact
from .scope import StaffMenuItem, StaffSubmenu, for_request, for_user
from .services import WeChatLinkError, pages_visible_in_admin

# Wagtail 8's Chinese catalogue lacks these admin strings (the dashboard and the page explorer showed them in
# English); their Chinese is in site/locale, which Django reads before Wagtail's. Listed here so that
# `make messages` keeps them.
WAGTAIL_STRINGS_TRANSLATED_HERE = (
    gettext_noop("Search all pages…"),
    gettext_noop("Wagtail %(current_version)s editor guide"),
    gettext_noop("Exploring"),
    gettext_noop("Date updated"),
    gettext_noop("Edited by"),
    gettext_noop("Has child pages"),
    gettext_noop("Any"),
    gettext_noop("Page type"),
    ngettext_lazy(
        '%(total)s Page <span class="w-sr-only">created in %(site_name)s</span>',
        '%(total)s Pages <span class="w-sr-only">created in %(site_name)s</span>',
        "total",
    ),
    ngettext_lazy(
        '%(total)s Document <span class="w-sr-only">created in %(site_name)s</span>',
        '%(total)s Documents <span class="w-sr-only">created in %(site_name)s</span>',
        "total",
    ),
    ngettext_lazy(
        '%(total)s Image <span class="w-sr-only">created in %(site_name)s</span>',
        '%(total)s Images <span class="w-sr-only">created in %(site_name)s</span>',
        "total",
    ),
)


class CommunityViewSet(SnippetViewSet):
    model = Community
    icon = "group"
    list_display = ["name", "name_en", "code"]
    search_fields = ["name", "name_en", "code"]


class GridViewSet(SnippetViewSet):
    model = Grid
    icon = "table"
    list_display = ["name", "name_en", "number", "community"]
    list_filter = ["community"]
    search_fields = ["name", "name_en"]


class PlacesGroup(SnippetViewSetGroup):
    menu_label = _("Communities")
    menu_icon = "group"
    menu_order = 250
    items = (CommunityViewSet, GridViewSet)


register_snippet(PlacesGroup)


# Staff see the titles of another community's pages only once they are published (the page
# explorer, its search and the page chooser); admin_views.py guards the pages opened by id.


@hooks.register("construct_explorer_page_queryset")
def hide_other_communities_drafts_from_explorer(parent_page, pages, request):
    return pages_visible_in_admin(pages, user=request.user)


@hooks.register("construct_page_chooser_queryset")
def hide_other_communities_drafts_from_chooser(pages, request):
    return pages_visible_in_admin(pages, user=request.user)


@hooks.register(API_ROUTERS)
def notices_api() -> ApiSection:
    return ApiSection(
        prefix="",
        router=api.router,
        links=[Link(api.list_notices, api.get_notice, {"notice_id": "$response.body#/items/0/id"})],
    )


@hooks.register(API_ROUTERS)
def account_api() -> ApiSection:
    return ApiSection(prefix="", router=account_router)


@hooks.register(API_ROUTERS)
def log_in_api() -> ApiSection:
    # WeChat mini-program log-in and its link to an account (home/api_auth.py); an OpenID of another account: 409.
    return ApiSection(prefix="", router=api_auth_router, errors={WeChatLinkError: Problem(409, "wechat_taken")})


@hooks.register("register_log_actions")
def register_home_log_actions(actions):
    AUDIT.register(actions)


# ---------------------------------------------------------------------------
# Grid contacts: the staff of a community list its grids' workers and building leaders; others' do not exist.


class GridContactPermissionPolicy(BasePermissionPolicy):
    """Community staff add, change and delete the contacts of their communities' grids (superusers: all)."""

    actions = {"add", "change", "delete", "view"}

    def user_has_permission(self, user, action):
        return action in self.actions and for_user(user).any

    def user_has_permission_for_instance(self, user, action, instance):
        return action in self.actions and for_user(user).includes(instance.grid.community)

    def instances_user_has_permission_for(self, user, action):
        if action not in self.actions:
            return GridContact.objects.none()
        return for_user(user).filter(GridContact.objects.all(), "grid__community")


register_permission_policy(GridContact, GridContactPermissionPolicy(GridContact))


def _staff_grids(request):
    return for_request(request).filter(Grid.objects.select_related("community"), "community") if request else Grid.objects.none()


class GridContactFilterSet(WagtailFilterSet):
    grid = django_filters.ModelChoiceFilter(label=_("grid"), queryset=_staff_grids)

    class Meta:
        model = GridContact
        fields = ["grid", "role"]


class InScope:
    """A contact of another community's grid is not found (404), whatever the view opened by its id."""

    def get_object(self, *args, **kwargs):
        contact = super().get_object(*args, **kwargs)
        if not for_request(self.request).includes(Grid.objects.select_related("community").get(pk=contact.grid_id).community):
            raise Http404
        return contact


class GridContactIndexView(generic.IndexView):
    def get_base_queryset(self):
        return for_request(self.request).filter(GridContact.objects.select_related("grid__community"), "grid__community")


class GridContactEditView(InScope, generic.EditView):
    pass


class GridContactDeleteView(InScope, generic.DeleteView):
    pass


class GridContactHistoryView(InScope, history.HistoryView):
    pass


class GridContactUsageView(InScope, usage.UsageView):
    pass


class GridContactViewSet(ModelViewSet):
    model = GridContact
    icon = "user"
    menu_label = _("Grid workers and building leaders")
    add_to_admin_menu = False
    copy_view_enabled = False
    index_view_class = GridContactIndexView
    edit_view_class = GridContactEditView
    delete_view_class = GridContactDeleteView
    history_view_class = GridContactHistoryView
    usage_view_class = GridContactUsageView
    filterset_class = GridContactFilterSet
    list_display = ["name", "role", "building", "phone", "grid"]
    search_fields = ["name", "phone", "building"]
    edit_handler = ObjectList(
        [
            FieldPanel("grid"),
            FieldPanel("role"),
            FieldRowPanel([FieldPanel("building"), FieldPanel("building_en")]),
            FieldPanel("name"),
            FieldPanel("phone"),
            FieldRowPanel([FieldPanel("hours"), FieldPanel("hours_en")]),
            FieldPanel("order"),
        ],
        base_form_class=GridContactForm,
    )


@hooks.register("register_admin_viewset")
def register_grid_contacts():
    return GridContactViewSet("grid_contacts")


@hooks.register("register_admin_urls")
def register_grid_admin_urls():
    return [path("grids/", include((admin_views.grid_urlpatterns, "home_grids"), namespace="home_grids"))]


@hooks.register("register_admin_menu_item")
def register_grids_menu():
    menu = Menu(
        items=[
            StaffMenuItem(_("Grids and QR codes"), reverse("home_grids:list"), icon_name="table", order=100),
            StaffMenuItem(_("Grid workers and building leaders"), reverse("grid_contacts:index"), icon_name="user", order=200),
        ]
    )
    return StaffSubmenu(_("Grids"), menu, icon_name="table", order=255)
