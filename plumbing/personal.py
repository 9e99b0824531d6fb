"""Personal parts of pages that logged-in residents share: the rest of the page is rendered once and kept.

A template marks a personal part with `{% personal "name" key=value %}` (home's `portal_tags`): the part is
rendered by the function registered under that name, `render(request, **arguments) -> str`, whose arguments
are plain JSON values (ids, codes). While the resident page cache (`middleware.ResidentPageCacheMiddleware`)
collects a page, each part is written between markers; the cache keeps the page's shared text with, in place
of each part, its name and arguments, and a later request renders only those parts for its own visitor.

A marker carries a token made at start-up, so no text a visitor or an editor writes can pose as one.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable

from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe

# Set on a request whose page is being collected: its personal parts are then marked.
COLLECTING = "_linli_collecting_personal_parts"
_TOKEN = secrets.token_hex(8)
_START = f"<!--{_TOKEN}:"
_END = f"<!--/{_TOKEN}-->"
_PART = re.compile(re.escape(_START) + r"(?P<what>[^\n]*?)-->(?P<html>.*?)" + re.escape(_END), re.DOTALL)

_renderers: dict[str, Callable[..., str]] = {}
# A part kept for many requests holds this in place of the CSRF token; `with_csrf_token` puts the request's in.
CSRF_STAND_IN = f"csrf-{_TOKEN}"


def with_csrf_token(request, html: str) -> str:
    """A kept part's HTML with this request's CSRF token (and the cookie it needs, as {% csrf_token %} does)."""
    return html.replace(CSRF_STAND_IN, get_token(request)) if CSRF_STAND_IN in html else html


def personal_part(name: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Register `render(request, **arguments) -> str` as the personal part `name` (at import, from an app's ready())."""

    def register(render: Callable[..., str]) -> Callable[..., str]:
        _renderers[name] = render
        return render

    return register


def render(request, name: str, arguments: dict) -> SafeString:
    """The part for this request's visitor, marked when the page is being collected."""
    html = _renderers[name](request, **arguments)
    if getattr(request, COLLECTING, False):
        what = json.dumps([name, arguments], separators=(",", ":"), sort_keys=True)
        return mark_safe(f"{_START}{what}-->{html}{_END}")  # noqa: S308  (html is the renderer's own escaped output)
    return mark_safe(html)  # noqa: S308


def split(content: str) -> tuple[list, str]:
    """(the shared text and the parts in order: strings and (name, arguments) pairs, the page without markers)."""
    chunks: list = []
    plain: list[str] = []
    position = 0
    for match in _PART.finditer(content):
        shared = content[position : match.start()]
        chunks.append(shared)
        name, arguments = json.loads(match["what"])
        chunks.append((name, arguments))
        plain += [shared, match["html"]]
        position = match.end()
    chunks.append(content[position:])
    plain.append(content[position:])
    return chunks, "".join(plain)


def fill(request, chunks: list) -> str:
    """The page for this request's visitor: the shared text with each personal part rendered for them."""
    return "".join(chunk if isinstance(chunk, str) else _renderers[chunk[0]](request, **chunk[1]) for chunk in chunks)
