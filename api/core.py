"""What every router of the API shares: the error shape, authentication, cursors, ETags and kept answers (the rate
limits, the token's resolution and the kept answers' round trip are the gateway's: api/gateway.py).

The core knows no domain app. An app contributes its router and the errors its services raise through
the `linli_api_routers` Wagtail hook (`ApiSection`), as apps add sections to the home page
(home/sections.py); `api/urls.py` assembles them into the one `NinjaAPI`.

Every error is one JSON shape, never an HTML page:

    {"code": "booking_refused", "message": "<in the request's language>", "fields": {"member": "..."}}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from allauth.headless.contrib.ninja.security import XSessionTokenAuth
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.security import SessionAuth
from pydantic import Field

API_ROUTERS = "linli_api_routers"


@dataclass(frozen=True)
class Problem:
    """How a domain error is answered: its HTTP status and the stable code clients switch on."""

    status: int
    code: str


@dataclass(frozen=True)
class Link:
    """An OpenAPI link: a value in one operation's answer names what another operation takes.

    Clients read them to follow a list to its items; schemathesis follows them to test operations in sequence
    (book, then read, cancel and fetch the ticket of that booking). `parameters` maps the target's parameter
    to a runtime expression, e.g. {"booking_id": "$response.body#/id"}."""

    source: Callable
    target: Callable
    parameters: dict[str, str]
    status: int = 200
    name: str = ""


def operation_id(view: Callable) -> str:
    """The operationId ninja gives a view (NinjaAPI.get_openapi_operation_id)."""
    return f"{view.__module__}_{view.__name__}".replace(".", "_")


@dataclass(frozen=True)
class ApiSection:
    """An app's part of the API, registered in its wagtail_hooks.py under API_ROUTERS."""

    prefix: str
    router: Router
    # The app's services' errors (their translated message is shown as it is) and how they are answered.
    errors: dict[type[Exception], Problem] = field(default_factory=dict)
    # How its operations' answers lead to other operations (the schema's links).
    links: list[Link] = field(default_factory=list)


class ApiError(Exception):
    """An error an endpoint answers directly (a missing household member, a cursor that was tampered with)."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


class ErrorOut(Schema):
    """The one error shape, declared in every operation's responses (schema tests check the answers against it)."""

    code: str
    message: str
    fields: dict[str, str]


def invalid(fields: dict[str, str]) -> ApiError:
    """The one 422 answer: each field's problem, in the request's language."""
    return ApiError(422, "invalid", _("Some of the data sent is not valid."), fields)


def form_errors(form, rename: Callable[[str], str] = str) -> dict[str, str]:
    """A page's form's field errors, each field's messages in one line (under `rename(field)`), for `invalid`."""
    return {rename(name): " ".join(str(message) for message in messages) for name, messages in form.errors.items()}


def problem(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> JsonResponse:
    response = JsonResponse({"code": code, "message": str(message), "fields": fields or {}}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def status_problem(status: int) -> tuple[str, str]:
    """The code and message of an error known only by its status (raised by Django or ninja, not by us)."""
    if status == 401:
        return "not_authenticated", _("Please log in first.")
    if status == 403:
        return "forbidden", _("You may not do this.")
    if status == 404:
        return "not_found", _("Not found.")
    if status == 405:
        return "method_not_allowed", _("This method is not allowed here.")
    if status < 500:
        return "bad_request", _("The request is not valid.")
    return "server_error", _("Something went wrong on our side. Please try again later.")


# ---------------------------------------------------------------------------
# Authentication: allauth's headless session token (X-Session-Token) for apps; the browser's session cookie too.


class SessionToken(XSessionTokenAuth):
    """allauth's X-Session-Token, and the resident it names is request.user (services and middleware read it).

    Resolved through api/gateway.py: a token's resolution is kept while its session and its user are unchanged,
    and checked again on every request in the gateway's one round trip."""

    # allauth's class names no header in the schema (an apiKey scheme must): clients and schema tests read these.
    openapi_in = "header"
    openapi_name = "X-Session-Token"

    def __call__(self, request: HttpRequest):
        from .gateway import resolve_token

        user = resolve_token(request)
        if user is not None:
            request.user = user
        return user


class BrowserSession(SessionAuth):
    """A logged-in browser's session cookie (with its CSRF token for writes), for pages that call the API."""

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


# Phone-code and WeChat mini-program logins (issue 17, later) end in the same allauth session token: no change here.
resident_auth = [SessionToken(), BrowserSession()]


def optional_resident(request: HttpRequest):
    """The resident a public endpoint may personalise for (token or session), else the anonymous user."""
    SessionToken()(request)
    return request.user


# ---------------------------------------------------------------------------
# Cursors and ETags


PAGE_SIZE = 20


class ListParams(Schema):
    """A list's page: the `next` cursor of the page before (none: the first page) and how many items (1-100)."""

    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=PAGE_SIZE, ge=1, le=100)


def encode_cursor(value: int, key: str = "p") -> str:
    """An opaque cursor: a position in a list (`p`) or, for a list paged by its last item, that item (e.g. `before`)."""
    return base64.urlsafe_b64encode(json.dumps({key: value}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, key: str = "p", *, lowest: int = 0, highest: int = 10**6) -> int | None:
    """The value a cursor of encode_cursor holds (None without a cursor); 400 for a cursor the API did not make."""
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))[key]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        value = None
    if not isinstance(value, int) or isinstance(value, bool) or not lowest <= value <= highest:
        raise ApiError(400, "bad_cursor", _("This cursor is not valid; start again from the first page."), {"cursor": "invalid"})
    return value


def page_of(items, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """One page of a query (or list) from the cursor on, and the cursor of the next page (None at the end)."""
    start = decode_cursor(cursor) or 0
    rows = list(items[start : start + limit + 1])
    following = encode_cursor(start + limit) if len(rows) > limit else None
    return rows[:limit], following


def _encoded(data, scope: str = "") -> tuple[bytes, str]:
    """The JSON bytes and their strong ETag; `scope` (who asks, for a personal answer) is part of the tag, so that
    one resident's tag never matches another's answer, even an equal one."""
    from ninja.responses import NinjaJSONEncoder

    body = json.dumps(data, cls=NinjaJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()
    return body, '"' + hashlib.sha256(scope.encode() + b"\n" + body).hexdigest()[:32] + '"'


def etag_matches(request: HttpRequest, etag: str) -> bool:
    wanted = [part.strip().removeprefix("W/") for part in request.headers.get("If-None-Match", "").split(",")]
    return etag in wanted or "*" in wanted


def _answer(request: HttpRequest, body: bytes, etag: str) -> HttpResponse:
    if etag_matches(request, etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Vary"] = "Accept-Language, X-Session-Token, Cookie"
    response["Cache-Control"] = "private, no-cache"  # the client keeps it and asks again with If-None-Match
    return response


def _asker(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    return f"user {user.pk}" if user is not None and user.is_authenticated else ""


def json_with_etag(request: HttpRequest, data) -> HttpResponse:
    """The data as JSON with a strong ETag of its bytes and of who asks; 304 when the client already has it."""
    return _answer(request, *_encoded(data, _asker(request)))


@dataclass(frozen=True)
class Kept:
    """A shared_json answer the gateway may keep (api/gateway.py): built under these generations, for everyone
    (`resident` None) or for one session token of this resident."""

    language: str
    resident: int | None
    generations: dict[str, str]
    built: float  # when its data began to be read (time.time()): it is kept `seconds` from then
    seconds: int
    body: bytes
    etag: str


def _plain_query(request: HttpRequest, params: Schema | None) -> bool:
    """Only the query parameters the operation reads, each once: junk queries are answered but never kept."""
    names = set(type(params).model_fields) if params is not None else set()
    return all(name in names and len(values) == 1 for name, values in request.GET.lists())


def shared_json(
    request: HttpRequest,
    build: Callable[[], object],
    *,
    seconds: int,
    params: Schema | None = None,
    personal: bool = False,
    generations: tuple[str, ...] = (),
) -> HttpResponse:
    """A hot read that the gateway keeps in the shared cache and answers from there, before authentication, URL
    resolution and the rest of the stack run (api/gateway.py): per language and query (`params`, the operation's
    query schema: any other query is answered but not kept) and, when `personal`, per session token.

    A kept answer is dropped at once when content is published (the page cache's generation) or when one of
    `generations` (cache keys holding a random token that changes with the data, e.g. the bookings') changes, and
    lives at most `seconds`. The generations are read before `build` runs. ETags as json_with_etag's: a personal
    answer's tag includes who asks; a public one is the same for everyone."""
    from .gateway import generation_values

    built = time.time()
    values = generation_values(request, generations)
    resident = request.auth.pk if personal else None
    body, etag = _encoded(build(), f"user {resident}" if personal else "")
    response = _answer(request, body, etag)
    if _plain_query(request, params) and (personal or not request.user.is_authenticated):
        response.kept = Kept(get_language() or "", resident, values, built, seconds, body, etag)
    return response
