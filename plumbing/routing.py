"""Wagtail's routing of public pages, kept in each process for the publish generation.

Serving a page, Wagtail finds the site for the host (a query), its root page in the request's language (two or
three), and each page down the path (two a level): some 10 ms of an uncached page. All of it changes only with a
publish, a move, a deletion or a site's change, which start a new publish generation (home/signals.py): the site and
the page a path leads to are kept per host, port, path and language until then (plumbing.middleware.LocalCopies), and
each request gets its own copy of the page, so that nothing one request sets on it reaches another.

Only GET and HEAD requests that Wagtail's `serve` answers are concerned, and only routes that lead to a page (a 404 is
not kept, so random addresses cannot push the others out). What is not kept: the page's view restrictions, checked on
every request as before (changing them starts no new generation).
"""

from __future__ import annotations

import copy

from django.conf import settings
from django.utils import translation
from wagtail.models import Page, Site
from wagtail.url_routing import RouteResult
from wagtail.views import serve

from plumbing.middleware import LocalCopies, generation

KEPT_ROUTES = 2000

_routes = LocalCopies(KEPT_ROUTES)


class KeptRoutesMiddleware:
    """Hands Wagtail's `serve` the site and page of a known route, as `Site.find_for_request` and
    `Page.route_for_request` keep them on the request, so that it looks up neither."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if view_func is not serve or request.method not in ("GET", "HEAD") or not view_args:
            return None
        path = view_args[0]
        key = (request._get_raw_host(), request.get_port(), path, translation.get_language())
        current = generation.current()  # before the pages are read: a publish meanwhile starts another
        kept = _routes.get(key, current)
        if kept is None:
            site = Site.find_for_request(request)
            route = Page.route_for_request(request, path)  # kept on the request for `serve`, as Wagtail does
            if route is not None:
                page, args, kwargs = route
                _routes.put(key, current, (site, page, args, kwargs), settings.PAGE_CACHE_SECONDS)
            return None
        site, page, args, kwargs = kept
        request._wagtail_site = copy.copy(site)
        request._wagtail_route_for_request = RouteResult(copy.copy(page), list(args), dict(kwargs))
        return None
