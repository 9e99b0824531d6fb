"""Site-wide middleware: the anonymous page cache, CSP for public pages, staff TOTP."""

from __future__ import annotations

import hashlib
import uuid

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.cache import cc_delim_re

GENERATION_KEY = "page-cache:generation"
PAGE_KEY_PREFIX = "page-cache:page:"
TEXT_SIZE_COOKIE = "linli_text"
CACHE_STATUS_HEADER = "X-Page-Cache"

# Never served from or stored into the cache: private, per-visitor or already fast paths.
# Language-prefixed paths are checked without their /zh-hans or /en prefix.
EXCLUDED_PREFIXES = ("/admin/", "/django-admin/", "/documents/", "/static/", "/media/", "/healthz", "/text-size/", "/language/")
EXCLUDED_LOCALIZED_PREFIXES = ("/accounts/", "/me/")
# Responses that vary only on cookies may be shared: the key holds the one cookie pages read.
SHAREABLE_VARY = {"cookie"}


def bump_page_cache_generation() -> None:
    """Invalidate every cached page at once (called when content is published).

    A generation is a fresh random token, not a counter: if the cache ever loses the
    key (eviction, restart), the next token still cannot match an old entry.
    """
    cache.set(GENERATION_KEY, uuid.uuid4().hex, None)


def _language_prefixes() -> tuple[str, ...]:
    return tuple(f"/{code}/" for code, _name in settings.LANGUAGES)


class AnonymousPageCacheMiddleware:
    """Serve anonymous GETs of public pages from the cache, without touching the database.

    Only visitors without a session or messages cookie are served from or stored into the
    cache, and only responses that set no cookie, carry no CSRF token or CSP nonce and
    vary on nothing but cookies are stored, so a cached page never carries somebody's
    session, CSRF token or messages.

    The key holds the scheme, host, path with query string, today's date (notices expire
    at midnight) and the text-size variant. The stored value carries the publish
    generation seen when the request *started*; a hit needs it to equal the current one,
    so publishing (a new generation) empties the cache at once, and a page rendered from
    data read before a publish can never be served after it. One `get_many` fetches the
    generation and the page together: a hit costs one cache round trip and no query.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.localized_excluded = tuple(
            language + prefix[1:] for language in _language_prefixes() for prefix in EXCLUDED_LOCALIZED_PREFIXES
        )

    def __call__(self, request):
        if not self.cacheable_request(request):
            return self.get_response(request)
        key = self.key(request)
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        if generation is None:
            generation = uuid.uuid4().hex
            if not cache.add(GENERATION_KEY, generation, None):
                generation = cache.get(GENERATION_KEY, generation)
        entry = found.get(key)
        if entry is not None and entry[0] == generation:
            _generation, status, headers, content = entry
            response = HttpResponse(content, status=status, headers=headers)
            response[CACHE_STATUS_HEADER] = "hit"
            return response
        response = self.get_response(request)
        if request.method == "GET" and self.cacheable_response(request, response):
            headers = {name: value for name, value in response.items() if name != CACHE_STATUS_HEADER}
            cache.set(key, (generation, response.status_code, headers, response.content), settings.PAGE_CACHE_SECONDS)
            response[CACHE_STATUS_HEADER] = "miss"
        return response

    def cacheable_request(self, request) -> bool:
        if request.method not in ("GET", "HEAD"):
            return False
        # A visitor with a session or a flash message may see something personal.
        cookies = request.COOKIES
        if settings.SESSION_COOKIE_NAME in cookies or CookieStorage.cookie_name in cookies:
            return False
        path = request.path
        return not path.startswith(EXCLUDED_PREFIXES) and not path.startswith(self.localized_excluded)

    @staticmethod
    def key(request) -> str:
        # The raw Host header is safe here: a host that ALLOWED_HOSTS refuses gets a 400,
        # which is never stored, so no entry can exist for it.
        raw = "\n".join(
            (
                request.scheme,
                request.META.get("HTTP_HOST", ""),
                request.get_full_path(),
                timezone.localdate().isoformat(),
                "large" if request.COOKIES.get(TEXT_SIZE_COOKIE) == "large" else "",
            )
        )
        return PAGE_KEY_PREFIX + hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def cacheable_response(request, response) -> bool:
        if response.status_code != 200 or response.streaming or response.cookies:
            return False
        cache_control = {part.split("=")[0].strip().lower() for part in cc_delim_re.split(response.get("Cache-Control", ""))}
        if cache_control & {"private", "no-cache", "no-store"}:
            return False
        vary = {part.strip().lower() for part in cc_delim_re.split(response.get("Vary", "")) if part.strip()}
        if not vary <= SHAREABLE_VARY:
            return False  # e.g. Accept-Language on a path without a language prefix
        if isinstance(getattr(request, "_csp_nonce", None), str):
            return False  # a nonce must be fresh on every response
        # CsrfViewMiddleware sets a cookie whenever a token was used; the marker is a second guard.
        return b"csrfmiddlewaretoken" not in response.content


class PublicContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp on public pages; the Wagtail and Django admins are exempt (inline scripts).

    The admin is protected instead by login, TOTP and X-Frame-Options: DENY.
    """

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
