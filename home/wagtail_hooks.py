"""Admin: communities and grids as snippets, grouped under one menu item."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext_lazy
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from api.core import API_ROUTERS, ApiSection, Link, Problem

from . import api
from .api_account import router as account_router
from .api_auth import router as api_auth_router
from .models import Community, Grid
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
