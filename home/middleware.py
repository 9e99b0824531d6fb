"""Site-wide middleware: the anonymous page cache, CSP for public pages, staff TOTP."""

from __future__ import annotations

import hashlib

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.core.cache import cache
from django.shortcuts import redirect
from django.utils import timezone

GENERATION_KEY = "page-cache:generation"
TEXT_SIZE_COOKIE = "linli_text"


def bump_page_cache_generation() -> None:
    """Invalidate every cached page at once (called when content is published)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)


class AnonymousPageCacheMiddleware:
    """Serve anonymous GETs of public pages from the cache, without touching the database.

    Only visitors without a session cookie are served from or stored into the cache, and
    only responses that set no cookie and used no CSRF token are stored, so a cached page
    never carries somebody's session, CSRF token or messages. The key holds the publish
    generation (bumped on every publish), today's date (notices expire at midnight), the
    path with its query string, and the text-size cookie.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def cacheable_request(self, request) -> bool:
        if request.method not in ("GET", "HEAD"):
            return False
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            return False
        path = request.path
        return not path.startswith(("/admin/", "/django-admin/", "/accounts/", "/static/", "/media/", "/healthz"))

    def key(self, request) -> str:
        generation = cache.get(GENERATION_KEY) or 0
        raw = "|".join(
            [
                str(generation),
                timezone.localdate().isoformat(),
                request.get_full_path(),
                request.COOKIES.get(TEXT_SIZE_COOKIE, ""),
            ]
        )
        return "page-cache:" + hashlib.sha256(raw.encode()).hexdigest()

    def __call__(self, request):
        if not self.cacheable_request(request):
            return self.get_response(request)
        key = self.key(request)
        cached = cache.get(key)
        if cached is not None:
            cached["X-Page-Cache"] = "hit"
            return cached
        response = self.get_response(request)
        if self.cacheable_response(request, response):
            cache.set(key, response, settings.PAGE_CACHE_SECONDS)
            response["X-Page-Cache"] = "miss"
        return response

    @staticmethod
    def cacheable_response(request, response) -> bool:
        return (
            response.status_code == 200
            and not response.cookies
            and not request.META.get("CSRF_COOKIE_USED")
            and not getattr(response, "streaming", False)
            and "private" not in response.get("Cache-Control", "")
            and not getattr(request, "_linli_no_page_cache", False)
        )


class PublicContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp on public pages; the Wagtail and Django admins are exempt (inline scripts)."""

    def process_response(self, request, response):
        if request.path.startswith(settings.LINLI_CSP_EXEMPT_PREFIXES):
            return response
        return super().process_response(request, response)


class StaffMfaMiddleware:
    """Staff must set up TOTP before they may use the Wagtail admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.LINLI_STAFF_MFA_REQUIRED
            and request.path.startswith("/admin/")
            and request.user.is_authenticated
            and not self.has_totp(request.user)
        ):
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def has_totp(user) -> bool:
        from allauth.mfa.models import Authenticator

        return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
