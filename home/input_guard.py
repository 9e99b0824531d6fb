"""Refuse malformed input before any view reads it: control characters in the path or the query
string, and NUL in a posted form value, get HTTP 400.

No link or search form of the portal makes a control character, and a NUL byte cannot be stored in
PostgreSQL text, so such a request is a mistake or a probe: it is answered at once, the same way for
every view, instead of failing deep inside one (a database error, a 500). Posted text keeps the other
control characters: text pasted from a word processor can carry a vertical tab or a form feed, and
they store fine. Django's CharField refuses NUL too, but views that read request.POST by hand did not.
"""

from __future__ import annotations

import re
import urllib.parse

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from plumbing.parsing import MAX_PK

# C0 controls and DEL: nothing in a URL the portal makes.
IN_URL = re.compile(r"[\x00-\x1f\x7f]")
# In form values, NUL only (see above).
IN_FORM = re.compile(r"\x00")


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def has_control_characters(request: HttpRequest) -> bool:
    if IN_URL.search(request.path_info) or IN_URL.search(urllib.parse.unquote_plus(request.META.get("QUERY_STRING", ""))):
        return True
    if request.method != "POST":
        return False
    if request.path_info.startswith(("/api/", "/_allauth/")) and _content_length(request) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        # The API's and allauth's headless views read the body themselves (as JSON, whatever was sent): read it into
        # memory first, or parsing a form here would use up the stream and they would fail with a 500 instead of
        # their 4xx. A larger body (photos to the letter endpoint, bounded in api/middleware.py) is a form that
        # is parsed from the stream, here and for the view alike.
        request.body  # noqa: B018
    try:
        posted = request.POST
    except MultiPartParserError as error:
        raise BadRequest("malformed form data") from error
    return any(IN_FORM.search(key) or any(IN_FORM.search(value) for value in values) for key, values in posted.lists())


class InputGuardMiddleware:
    """HTTP 400 for control characters in the path or query string and NUL in a form value; 404 for ids too large to exist."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_control_characters(request):
            raise BadRequest("control characters in the request")
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        # An <int:...> path parameter beyond the database's integers names nothing (and SQLite would overflow).
        if any(isinstance(value, int) and not -MAX_PK <= value <= MAX_PK for value in (*view_args, *view_kwargs.values())):
            raise Http404
