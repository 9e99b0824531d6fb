"""The API's edge, before anything else reads the request: CORS for configured origins, the body size limit, and
JSON instead of HTML for errors raised before a view runs (control characters refused by the input guard, an
address that matches no operation). Then its gateway: one cache round trip per request for the rate limits, the
session token and kept answers (api/gateway.py)."""

from __future__ import annotations

import math
import threading
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from . import gateway
from .core import Kept, etag_matches, problem, status_problem

API_PREFIXES = ("/api/", "/_allauth/")
CORS_HEADERS = "Accept-Language, Content-Type, Idempotency-Key, If-None-Match, X-Ballot-Receipt, X-Session-Token"
# Operations that take photos as multipart/form-data: their bodies may reach LINLI_API_MAX_UPLOAD_BYTES.
UPLOAD_PATHS = frozenset({"/api/v1/me/letters/"})
LOCAL_ANSWERS = 200  # public kept answers each process holds in memory (a few kB each)


class ApiEdgeMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIXES):
            return self.get_response(request)
        origin = request.headers.get("Origin")
        allowed = origin is not None and origin in settings.LINLI_API_CORS_ORIGINS
        language = request.api_language = translation.get_language_from_request(request)
        if allowed and request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            response["Access-Control-Allow-Headers"] = CORS_HEADERS
            response["Access-Control-Max-Age"] = "600"
        elif self.too_large(request):
            with translation.override(language):
                response = problem(
                    413, "too_large", _("The request is too large (at most %(size)s bytes).") % {"size": self.limit(request)}
                )
        else:
            response = self.get_response(request)
            if self.to_language_prefix(request, response):
                response = HttpResponse(status=404)  # no operation here: not a page to look for under /zh-hans/
            if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
                with translation.override(language):
                    response = problem(response.status_code, *status_problem(response.status_code))
        if allowed:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Expose-Headers"] = "ETag, Retry-After"
        patch_vary_headers(response, ("Origin",))
        return response

    @staticmethod
    def to_language_prefix(request: HttpRequest, response: HttpResponse) -> bool:
        """LocaleMiddleware's answer to an address no URL matches: a redirect to it under a language prefix."""
        location = urlsplit(response.get("Location", "")).path
        return response.status_code in (301, 302) and any(
            location == f"/{code}{request.path}" for code, _name in settings.LANGUAGES
        )

    @staticmethod
    def too_large(request: HttpRequest) -> bool:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return True
        return length > ApiEdgeMiddleware.limit(request)

    @staticmethod
    def limit(request: HttpRequest) -> int:
        if request.method == "POST" and request.path in UPLOAD_PATHS and request.content_type == "multipart/form-data":
            return settings.LINLI_API_MAX_UPLOAD_BYTES
        return settings.LINLI_API_MAX_BODY_BYTES


class ApiGatewayMiddleware:
    """/api/: one round trip to the shared cache per request (api/gateway.py) for its rate limits, its session token
    and a kept answer; a kept answer still valid is answered here, before sessions, locale, authentication and URL
    resolution. Placed after the edge and the input guard (so a kept answer gets their headers and checks too).

    Public kept answers (the same for everyone) are also held in this process's memory, as the page cache holds
    pages: where no rate limit counts the request, a hit then costs no round trip at all."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.refreshes = gateway.Refreshes()
        self.public: dict[str, dict] = {}
        self.public_lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        language = getattr(request, "api_language", None) or translation.get_language_from_request(request)
        # Kept answers are for GETs without a browser session (whose pages may see other headers): phone clients.
        path = (
            request.get_full_path() if request.method == "GET" and settings.SESSION_COOKIE_NAME not in request.COOKIES else None
        )
        counters = gateway.rate_counters(request)
        now = time.time()
        local = gateway.local_generations() if path is not None else {}
        if path is not None and not counters:
            public_key = gateway.kept_key(language, path, None)
            entry = self.public.get(public_key)
            if gateway.still_current(entry, gateway.Prefetched(frozenset(local), local), now):
                if not self.refreshes.claim(public_key, entry, now):
                    return self.replay(request, entry)
        keys = gateway.prefetch_keys(request, (language, path) if path is not None else None, local)
        counts, values = gateway.round_trip([key for key, _limit in counters], keys, settings.LINLI_API_RATE_WINDOW_SECONDS)
        known = gateway.Prefetched(asked=frozenset((*keys, *local)), values={**values, **local})
        request._api_prefetched = known
        wait = gateway.seconds_to_wait(counts, [limit for _key, limit in counters])
        if wait:
            with translation.override(language):
                message = _("Too many requests. Please try again in %(seconds)s seconds.") % {"seconds": wait}
                response = problem(429, "rate_limited", message)
            response["Retry-After"] = str(wait)
            return response
        if path is not None:
            response = self.kept_answer(request, language, path, known, now)
            if response is not None:
                return response
        response = self.get_response(request)
        kept = getattr(response, "kept", None)
        if path is not None and kept is not None and kept.language == language and response.status_code in (200, 304):
            self.keep(request, language, path, response, kept)
        return response

    def kept_answer(
        self, request: HttpRequest, language: str, path: str, known: gateway.Prefetched, now: float
    ) -> HttpResponse | None:
        key = gateway.kept_key(language, path, None)
        entry = known.values.get(key)
        if gateway.still_current(entry, known, now):
            self.remember(key, entry)
        else:
            token = request.headers.get("X-Session-Token")
            key = gateway.kept_key(language, path, token) if token else None
            entry = known.values.get(key) if token else None
            # A personal answer only to the resident it was built for, through a token that still names them now.
            if not gateway.still_current(entry, known, now) or entry["resident"] is None:
                return None
            if gateway.resident_pk(request) != entry["resident"]:
                return None
        if self.refreshes.claim(key, entry, now):
            return None  # this request builds it again
        return self.replay(request, entry)

    @staticmethod
    def replay(request: HttpRequest, entry: dict) -> HttpResponse:
        """The answer as the whole stack gave it when it was kept: the same headers, 304 to its ETag."""
        if etag_matches(request, entry["etag"]):
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(entry["body"], content_type="application/json")
        for name, value in entry["headers"].items():
            response[name] = value
        response["Content-Length"] = str(len(response.content))
        return response

    def remember(self, key: str, entry: dict) -> None:
        with self.public_lock:
            self.public.pop(key, None)
            if len(self.public) >= LOCAL_ANSWERS:
                del self.public[next(iter(self.public))]  # the oldest
            self.public[key] = entry

    def keep(self, request: HttpRequest, language: str, path: str, response: HttpResponse, kept: Kept) -> None:
        if response.cookies:
            return  # a cookie is for one browser, never replayed
        token = None
        if kept.resident is not None:  # kept for the token that asked, and only while it names the same resident
            token = request.headers.get("X-Session-Token")
            if not token or gateway.resident_pk(request) != kept.resident:
                return
        headers = {name: value for name, value in response.items() if name.lower() not in ("content-type", "content-length")}
        entry = {
            "version": gateway.KEPT_VERSION,
            "built": kept.built,
            "expires": kept.built + kept.seconds,
            "generations": kept.generations,
            "resident": kept.resident,
            "headers": headers,
            "body": kept.body,
            "etag": kept.etag,
        }
        left = entry["expires"] - time.time()
        if left > 0:
            key = gateway.kept_key(language, path, token)
            cache.set(key, entry, math.ceil(left))
            if token is None:
                self.remember(key, entry)
