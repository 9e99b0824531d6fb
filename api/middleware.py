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

from plumbing.middleware import Announcements, generation

from . import gateway
from .core import Kept, etag_matches, problem, status_problem

API_PREFIXES = ("/api/", "/_allauth/")
CORS_HEADERS = "Accept-Language, Content-Type, Idempotency-Key, If-None-Match, X-Ballot-Receipt, X-Session-Token"
# Operations that take photos as multipart/form-data: their bodies may reach LINLI_API_MAX_UPLOAD_BYTES.
UPLOAD_PATHS = frozenset({"/api/v1/me/letters/"})
LOCAL_ANSWERS = 500  # kept answers each process holds in memory (a few kB each)


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

    Kept answers this process answered or built are held in its memory too (as the page cache holds pages), so the
    round trip reads only what decides whether they are still valid: the generations and, for a personal answer,
    the token's. With Redis this process knows the generations without asking (copies kept up to date by its
    announcements' watcher) and may trust a session token without asking while nothing can have ended it
    (gateway.LocalTokens): a kept answer, public or personal, then costs no round trip at all where no rate limit
    counts the request. Whenever the watcher's subscription is not confirmed healthy, everything is read in the
    round trip, as before."""

    def __init__(self, get_response, announcements: Announcements = generation) -> None:
        self.get_response = get_response
        self.refreshes = gateway.Refreshes()
        self.held: dict[str, dict] = {}
        self.held_lock = threading.Lock()
        self.announcements = announcements  # another process's, in tests
        self.tokens = gateway.tokens if announcements is generation else gateway.LocalTokens(announcements)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        language = getattr(request, "api_language", None) or translation.get_language_from_request(request)
        counters = gateway.rate_counters(request)
        now = time.time()
        # Kept answers are for GETs without a browser session (whose pages may see other headers): phone clients.
        keepable = request.method == "GET" and settings.SESSION_COOKIE_NAME not in request.COOKIES
        token = request.headers.get("X-Session-Token")
        local = gateway.local_generations(self.announcements)
        candidates, to_read, mark = [], None, None
        if token and not gateway.trust_locally(request, self.tokens, local):
            mark = self.tokens.mark()  # before the round trip: what keeping the token's resolution depends on
        if keepable:
            path = request.get_full_path()
            candidates = [gateway.kept_key(language, path, None)]
            if token:
                candidates.append(gateway.kept_key(language, path, token))
            public = self.held_entry(candidates[0], now)
            if public is not None and not counters:
                if gateway.still_current(public, gateway.Prefetched(frozenset(local), local), now):
                    if not self.refreshes.claim(candidates[0], public, now):
                        return self.replay(request, public)
            held = [self.held_entry(key, now) for key in candidates]
            # An address answers either for everyone or per token: one held answer says which, nothing more to read.
            to_read = [] if any(entry is not None for entry in held) else candidates
        keys = gateway.prefetch_keys(request, to_read, local)
        session = gateway.session_cache_key(token) if mark is not None else None
        counts, values, lifetimes = gateway.round_trip(
            [key for key, _limit in counters], keys, settings.LINLI_API_RATE_WINDOW_SECONDS, (session,) if session else ()
        )
        known = gateway.Prefetched(
            asked=frozenset((*keys, *local)), values={**values, **local}, lifetimes=lifetimes, tokens=self.tokens, mark=mark
        )
        request._api_prefetched = known
        wait = gateway.seconds_to_wait(counts, [limit for _key, limit in counters])
        if wait:
            with translation.override(language):
                message = _("Too many requests. Please try again in %(seconds)s seconds.") % {"seconds": wait}
                response = problem(429, "rate_limited", message)
            response["Retry-After"] = str(wait)
            return response
        if keepable:
            response = self.kept_answer(request, candidates, known, now)
            if response is not None:
                return response
        response = self.get_response(request)
        kept = getattr(response, "kept", None)
        if keepable and kept is not None and kept.language == language and response.status_code in (200, 304):
            self.keep(request, candidates, response, kept)
        return response

    def held_entry(self, key: str, now: float) -> dict | None:
        entry = self.held.get(key)
        return entry if entry is not None and now < entry["expires"] else None

    def kept_answer(self, request: HttpRequest, candidates: list[str], known: gateway.Prefetched, now: float):
        for key in candidates:
            entry = known.values.get(key) or self.held_entry(key, now)
            if not gateway.still_current(entry, known, now):
                continue
            # A personal answer only to the resident it was built for, through a token that still names them now.
            if key == candidates[0]:
                if entry["resident"] is not None:
                    return None
            elif entry["resident"] is None or gateway.resident_pk(request) != entry["resident"]:
                return None
            if key in known.values:
                self.hold(key, entry)
            if self.refreshes.claim(key, entry, now):
                return None  # this request builds it again
            return self.replay(request, entry)
        return None

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

    def hold(self, key: str, entry: dict) -> None:
        with self.held_lock:
            self.held.pop(key, None)
            if len(self.held) >= LOCAL_ANSWERS:
                del self.held[next(iter(self.held))]  # the oldest
            self.held[key] = entry

    def keep(self, request: HttpRequest, candidates: list[str], response: HttpResponse, kept: Kept) -> None:
        if response.cookies:
            return  # a cookie is for one browser, never replayed
        key = candidates[0]
        if kept.resident is not None:  # kept for the token that asked, and only while it names the same resident
            if len(candidates) < 2 or gateway.resident_pk(request) != kept.resident:
                return
            key = candidates[1]
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
            cache.set(key, entry, math.ceil(left))
            self.hold(key, entry)
