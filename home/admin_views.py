"""Admin views of home: guards in front of Wagtail's page explorer and chooser, and the staff's grids with their QR
posters.

Wagtail's page explorer and page chooser, opened by a page id, answer 404 for a page the user may not see.

Wagtail shows the page whose children are listed by its title (header and breadcrumbs), and
page ids are sequential, so another community's draft would show its title by id. These
wrap Wagtail's own views; site/linli/urls.py puts them before Wagtail's admin URLs. The
listed children are narrowed by the hooks in wagtail_hooks.py.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from wagtail.admin.views import chooser
from wagtail.admin.viewsets.pages import page_viewset_registry
from wagtail.models import Page

from plumbing.links import absolute_url
from plumbing.qr import qr_svg

from . import services
from .i18n import source_language
from .models import Grid, GridJoinCode
from .scope import for_request, staff_only
from .services import pages_visible_in_admin


def visible_parent_page(view):
    @wraps(view)
    def guarded(request: HttpRequest, parent_page_id: int, *args, **kwargs) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not pages_visible_in_admin(Page.objects.filter(pk=parent_page_id), user=user).exists():
            raise Http404
        return view(request, *args, parent_page_id=parent_page_id, **kwargs)

    return guarded


urlpatterns = [
    path(
        "pages/<int:parent_page_id>/",
        visible_parent_page(page_viewset_registry.as_view("index", parent_page_id_kwarg="parent_page_id")),
    ),
    path(
        "pages/<int:parent_page_id>/results/",
        visible_parent_page(page_viewset_registry.as_view("index_results", parent_page_id_kwarg="parent_page_id")),
    ),
    path("choose-page/<int:parent_page_id>/", visible_parent_page(chooser.BrowseView.as_view())),
]


# ---------------------------------------------------------------------------
# Grids and their QR codes (扫码入格): the list of a staff member's grids, a grid's A4 poster, a new code.
# Registered with Wagtail's admin URLs (wagtail_hooks.py), so Wagtail's login and admin-access checks come first.

POSTER_CONTENT_TYPE = "image/svg+xml; charset=utf-8"


def staff_grids(request: HttpRequest):
    """The grids of the communities the person of `request` manages (home.scope)."""
    return for_request(request).filter(Grid.objects.select_related("community"), "community")


@staff_only()
def grid_list(request: HttpRequest) -> HttpResponse:
    """The staff member's grids, each with its current code, contacts, poster and "replace the code"."""
    grids = list(staff_grids(request).annotate(contact_count=Count("contacts")).order_by("community__code", "number"))
    current = {code.grid_id: code for code in GridJoinCode.objects.filter(grid__in=grids, retired_at__isnull=True)}
    rows = [(grid, current.get(grid.pk)) for grid in grids]
    title = _("Grids and QR codes")
    context = {"page_title": title, "header_title": title, "header_icon": "table", "rows": rows}
    return render(request, "home/admin/grid_list.html", context)


def poster_context(request: HttpRequest, pk: int) -> dict:
    """What a grid's poster shows: its names in both languages, its community's, the QR code of its join link (its
    current code, made on first use), and the link as text."""
    grid = get_object_or_404(staff_grids(request), pk=pk)
    url = join_url(services.current_join_code(grid=grid))
    return {"grid": grid, "url": url, "qr": qr_svg(url, title=grid.name, scale=1, border=4)}


@staff_only()
@require_safe
def grid_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The poster on a page of its own that prints on one A4 sheet (@page: A4, no margins), with a print button."""
    response = render(request, "home/admin/grid_poster.html", poster_context(request, pk))
    response["Cache-Control"] = "private, no-store"
    return response


@staff_only()
@require_safe
def grid_poster(request: HttpRequest, pk: int) -> HttpResponse:
    """The poster as an SVG document of 210 × 297 mm, to download or send to a print shop."""
    context = poster_context(request, pk)
    response = render(request, "home/admin/grid_poster.svg", context, content_type=POSTER_CONTENT_TYPE)
    grid = context["grid"]
    response["Content-Disposition"] = f'inline; filename="grid-{grid.community.code}-{grid.number}.svg"'
    response["Cache-Control"] = "private, no-store"
    return response


def join_url(code: GridJoinCode) -> str:
    """The absolute link in a grid's QR code, on the Chinese pages (the switcher on the page offers English)."""
    with translation.override(source_language()):
        return absolute_url(reverse("home:join_grid", kwargs={"token": code.token}))


@staff_only()
@require_POST
def grid_rotate_code(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace the grid's code: printed posters stop working (asked first, in the list)."""
    grid = get_object_or_404(staff_grids(request), pk=pk)
    services.rotate_join_code(grid=grid, actor=request.user)
    messages.success(
        request,
        _("The QR code of %(grid)s was replaced. Print its poster again: the old posters no longer work.") % {"grid": grid},
    )
    return redirect("home_grids:list")


grid_urlpatterns = [
    path("", grid_list, name="list"),
    path("<int:pk>/poster/", grid_print, name="print"),
    path("<int:pk>/poster.svg", grid_poster, name="poster"),
    path("<int:pk>/rotate/", grid_rotate_code, name="rotate"),
]
