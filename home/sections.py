"""Sections other apps add to a page of an app they build on, so that the app below imports none of them: the
home page's sections (from events and the council), a grid's page's sections (from the neighbour-help app), a
topic's council section (from the council's apps).

An app registers a section in its `wagtail_hooks.py`:

    @hooks.register(HOME_SECTIONS, order=10)
    def coming_up() -> HomeSection:
        return HomeSection(template="events/home_section.html", context=upcoming_activities)

The home page asks every registered section, in hook order, for its context (a function of the home
page, where its queries run) and includes its template after the notices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from wagtail import hooks

HOME_SECTIONS = "linli_home_sections"

# The grid page (`/grids/<id>/`, home/views.py `grid_page`) shows, after its contacts and notices, what apps register
# under this hook, in hook order:
#
#     @hooks.register(GRID_SECTIONS, order=10)
#     def open_requests() -> GridSection:
#         return GridSection(template="neighbours/grid_section.html", context=open_requests_of_grid)
#
# `context(grid, viewer)` gets the grid (a home.models.Grid, its community loaded) and the person looking (a resident of
# the grid or staff of its community: the page checked that already) and returns the names its template reads; an
# empty dict leaves the section out. The template is rendered with the request (csrf_token, request.user, the
# active language). Its queries are the app's own: keep them few and flat (the page's query count is pinned in
# home/tests/test_grid_page.py with no section registered).
GRID_SECTIONS = "linli_grid_sections"


@dataclass(frozen=True)
class HomeSection:
    """A section of another app's page (the home page's, or any page that asks `rendered_sections`)."""

    template: str  # rendered with the home page's context plus what `context` returns
    context: Callable[..., dict]  # context(home_page) -> the names the template reads


@dataclass(frozen=True)
class GridSection:
    """A section of a grid's page (see GRID_SECTIONS)."""

    template: str
    context: Callable[..., dict]  # context(grid, viewer) -> the names the template reads; {}: nothing to show


def grid_sections(request, grid) -> list[SafeString]:
    """The grid page's sections, rendered for the person of `request`."""
    return rendered_sections(GRID_SECTIONS, request, grid, request.user)


def section_context(home_page) -> dict:
    """The registered sections' templates (`home_sections`) and everything their templates read."""
    context: dict = {"home_sections": []}
    for make_section in hooks.get_hooks(HOME_SECTIONS):
        section = make_section()
        context.update(section.context(home_page))
        context["home_sections"].append(section.template)
    return context


def rendered_sections(hook_name: str, request, *args) -> list[SafeString]:
    """Every section registered under `hook_name`, in hook order, rendered with what its `context(*args)` returns;
    a section whose context is empty has nothing to show and is left out."""
    rendered = []
    for make_section in hooks.get_hooks(hook_name):
        section = make_section()
        context = section.context(*args)
        if context:
            rendered.append(render_to_string(section.template, context, request=request))
    return rendered
