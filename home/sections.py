"""Sections other apps add to a page of an app they build on, so that the app below imports none of them: the
home page's sections (from events and the council), a topic's council section (from the council's apps).

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


@dataclass(frozen=True)
class HomeSection:
    """A section of another app's page (the home page's, or any page that asks `rendered_sections`)."""

    template: str  # rendered with the home page's context plus what `context` returns
    context: Callable[..., dict]  # context(home_page) -> the names the template reads


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
