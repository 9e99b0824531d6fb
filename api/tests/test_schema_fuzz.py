"""schemathesis against the live schema (/api/v1/openapi.json) on the demo street: every operation with
generated input, valid and not, then sequences of operations along the schema's links, as a resident, a
community's staff member and a council member. Nothing may answer 5xx, and every answer must be one the schema
declares (status, content type, body).

Bounded: a fixed number of examples per operation and a fixed seed (derandomize), so a run takes the same
time and finds the same things. The database plays no part in what the schema promises, so it runs in CI's
SQLite run only (LINLI_BOTH_DATABASES=1 runs it on PostgreSQL too).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.testing import token_for
from api.urls import api
from deliberation.council.models import CouncilMember
from home.models import Community
from home.tests.test_api_wechat import StandIn

EXAMPLES_PER_OPERATION = 12
STATEFUL_EXAMPLES = 15
STATEFUL_STEPS = 8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def in_the_test_transaction(application):
    """The WSGI application as Django's test client runs it: the request does not close the test's connection."""

    def app(environ, start_response):
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            return application(environ, start_response)
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)

    return app


schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = in_the_test_transaction(get_wsgi_application())

BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def one_run(db):
    if connection.vendor != "sqlite" and not os.environ.get("LINLI_BOTH_DATABASES"):
        pytest.skip("the schema's promises do not depend on the database: runs in the SQLite run (CI time)")


@pytest.fixture
def wechat():
    server = StandIn()
    yield server
    server.close()


@pytest.fixture
def tokens(one_run, demo_street, settings, wechat) -> dict[str, str]:
    """A session token each for a resident, a community's staff member and a council member of the demo street."""
    settings.LINLI_API_RATE_PER_ADDRESS = 0  # thousands of requests from one address: the limit is tested in test_core
    settings.LINLI_API_RATE_PER_TOKEN = 0
    # WeChat's jscode2session on loopback, refusing every generated code as WeChat would (40029: invalid code).
    settings.LINLI_WECHAT_API_BASE_URL = wechat.url
    settings.LINLI_WECHAT_MINI_APP_ID, settings.LINLI_WECHAT_MINI_APP_SECRET = "wx-mini-app", "mini-secret"
    people = get_user_model().objects.filter(username__startswith="demo-", is_active=True).order_by("pk")
    staff = people.filter(groups__in=Community.objects.values("editors")).first()
    member = CouncilMember.objects.select_related("user").order_by("pk").first().user
    resident = people.exclude(pk__in=[staff.pk, member.pk]).filter(is_staff=False, groups=None).first()
    return {"resident": token_for(resident), "staff": token_for(staff), "council member": token_for(member)}


ROLES = ["resident", "staff", "council member"]
# Each role asks in one language: the resident in Chinese, the others in English (both languages, half the time).
LANGUAGE = {"resident": "zh-hans", "staff": "en", "council member": "en"}


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@BOUNDED
def test_every_operation_with_generated_input(case, role, tokens):
    case.call_and_validate(headers={"X-Session-Token": tokens[role], "Accept-Language": LANGUAGE[role]}, checks=CHECKS)


@pytest.mark.parametrize("role", ROLES)
def test_sequences_of_operations_along_the_links(role, tokens):
    workflow = schema.as_state_machine()
    headers = {"X-Session-Token": tokens[role], "Accept-Language": LANGUAGE[role]}

    class AsRole(workflow):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=(), **kwargs):
            case.validate_response(response, checks=CHECKS)

    run_state_machine_as_test(
        AsRole,
        settings=settings(BOUNDED, max_examples=STATEFUL_EXAMPLES, stateful_step_count=STATEFUL_STEPS),
    )


# Lists whose entries no operation addresses: nothing to link to.
LEAVES = {"points_api_statement"}  # ledger entries are read only in the statement


def test_the_schema_links_every_list_to_its_items():
    """Each list operation leads somewhere: the stateful test above can only reach what the links connect."""
    raw = api.get_openapi_schema()
    lists = [
        operation["operationId"]
        for methods in raw["paths"].values()
        for method, operation in methods.items()
        if method == "get" and "cursor" in {parameter["name"] for parameter in operation.get("parameters", [])}
    ]
    assert lists, "no list operations found"
    unlinked = [
        name
        for name in lists
        if name not in LEAVES
        if not any(
            answer.get("links")
            for methods in raw["paths"].values()
            for operation in methods.values()
            if operation.get("operationId") == name
            for answer in operation["responses"].values()
        )
    ]
    assert unlinked == []


def test_every_schema_has_its_own_name():
    """ninja names each schema in the document by its class name: two classes of one name would share one entry,
    and one operation's answers would be checked against the other's fields (as a preferences topic once was)."""
    from ninja import Schema

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = {
        sub
        for sub in subclasses(Schema)
        if sub.__module__.split(".")[0] in {"api", "home", "events", "points", "deliberation", "outbox"}
    }
    names = [sub.__name__ for sub in ours if sub.__name__ != "ListParams"]  # query parameters: not in the document
    assert sorted({name for name in names if names.count(name) > 1}) == []
