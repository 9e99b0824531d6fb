"""The API's edge, before anything else reads the request: CORS for configured origins, the body size limit, and
JSON instead of HTML for errors raised before a view runs (control characters refused by the input guard, an
address that matches no operation)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from .core import problem, status_problem

API_PREFIXES = ("/api/", "/_allauth/")
CORS_HEADERS = "Accept-Language, Content-Type, Idempotency-Key, If-None-Match, X-Ballot-Receipt, X-Session-Token"
# Operations that take photos as multipart/form-data: their bodies may reach LINLI_API_MAX_UPLOAD_BYTES.
UPLOAD_PATHS = frozenset({"/api/v1/me/letters/"})


class ApiEdgeMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIXES):
            return self.get_response(request)
        origin = request.headers.get("Origin")
        allowed = origin is not None and origin in settings.LINLI_API_CORS_ORIGINS
        language = translation.get_language_from_request(request)
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
