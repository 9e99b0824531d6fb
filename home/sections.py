"""Sections other apps add to the home page, so that `home` imports none of them.

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

from wagtail import hooks

HOME_SECTIONS = "linli_home_sections"


@dataclass(frozen=True)
class HomeSection:
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
