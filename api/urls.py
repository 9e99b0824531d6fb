"""The one NinjaAPI (/api/v1/): the apps' routers, gathered from the `linli_api_routers` hook, and one error shape.

Site level: mounted by site/linli/urls.py outside the language prefixes (the language comes from
Accept-Language). Nothing but the URL configuration imports this module.
"""

from __future__ import annotations

import logging

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.http.request import RawPostDataException
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.openapi.views import openapi_view
from wagtail import hooks

from .core import API_ROUTERS, ApiError, ErrorOut, Link, operation_id, problem, status_problem

logger = logging.getLogger(__name__)


def staff_docs(view):
    """The schema is public (phone clients and schema tests read it); the interactive docs are for staff."""
    return staff_member_required(view) if getattr(view, "func", None) is openapi_view else view


class LinliAPI(NinjaAPI):
    """The schema says what every answer can be: each operation's own answers, its links, and the one error shape
    for any other status (400, 401, 404, 413, 422, 429 come from the core for any operation)."""

    links: list[Link] = []

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorOut"] = ErrorOut.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        error = {
            "description": "Error: {code, message, fields} (README: API, Errors)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        operations = {
            operation["operationId"]: operation
            for methods in schema["paths"].values()
            for operation in methods.values()
            if isinstance(operation, dict) and "operationId" in operation
        }
        for operation in operations.values():
            operation["responses"].setdefault("default", error)
        for link in self.links:
            source, target = operations.get(operation_id(link.source)), operation_id(link.target)
            if source is None or target not in operations:
                raise ValueError(f"API link from {operation_id(link.source)} to {target}: no such operation")
            responses = source["responses"]
            status = link.status if link.status in responses else str(link.status)
            answer = responses.setdefault(status, {"description": "OK"})
            answer.setdefault("links", {})[link.name or target] = {"operationId": target, "parameters": link.parameters}
        return schema


api = LinliAPI(
    title="Linli API",
    version="1",
    urls_namespace="api-v1",
    description="The portal's services for phone clients. Errors: {code, message, fields}.",
    docs_decorator=staff_docs,
)


def _field_errors(errors: list[dict]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in errors:
        location = [
            str(part)
            for part in error.get("loc", ())
            if part not in ("body", "query", "path", "header", "payload", "form", "file")
        ]
        fields.setdefault(".".join(location) or "__all__", error.get("msg", ""))
    return fields


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, error: ValidationError):
    return problem(422, "invalid", _("Some of the data sent is not valid."), _field_errors(error.errors))


@api.exception_handler(ApiError)
def refused(request: HttpRequest, error: ApiError):
    return problem(error.status, error.code, error.message, error.fields)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, error: AuthenticationError):
    response = problem(401, "not_authenticated", _("Please log in first."))
    response["WWW-Authenticate"] = 'X-Session-Token realm="linli"'
    return response


@api.exception_handler(AuthorizationError)
@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, error: Exception):
    message = str(error) if isinstance(error, PermissionDenied) and str(error) else _("You may not do this.")
    return problem(403, "forbidden", message)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, error: Http404):
    return problem(404, *status_problem(404))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError):
    # ninja's own refusals (a failed CSRF check of a cookie session: 403) speak English: ours replace them.
    return problem(error.status_code, *status_problem(error.status_code))


@api.exception_handler(RawPostDataException)
def form_where_json_belongs(request: HttpRequest, error: RawPostDataException):
    # A large multipart form sent to an operation that reads JSON: its stream was parsed as a form already.
    return problem(400, *status_problem(400))


@api.exception_handler(Exception)
def server_error(request: HttpRequest, error: Exception):
    logger.exception("API error at %s", request.path)
    return problem(500, *status_problem(500))


def _domain_handler(status: int, code: str):
    def handle(request: HttpRequest, error: Exception):
        return problem(status, code, str(error))

    return handle


for make_section in hooks.get_hooks(API_ROUTERS):
    section = make_section()
    api.add_router(section.prefix, section.router)
    api.links = [*api.links, *section.links]
    for error_class, answer in section.errors.items():
        api.add_exception_handler(error_class, _domain_handler(answer.status, answer.code))
