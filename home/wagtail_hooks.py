"""Admin: communities and grids as snippets, grouped under one menu item."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import Community, Grid


class CommunityViewSet(SnippetViewSet):
    model = Community
    icon = "group"
    list_display = ["name", "code", "locale"]
    search_fields = ["name", "code"]


class GridViewSet(SnippetViewSet):
    model = Grid
    icon = "table"
    list_display = ["name", "number", "community", "locale"]
    list_filter = ["community"]
    search_fields = ["name"]


class PlacesGroup(SnippetViewSetGroup):
    menu_label = _("Communities")
    menu_icon = "group"
    menu_order = 250
    items = (CommunityViewSet, GridViewSet)


register_snippet(PlacesGroup)
