"""Every URL of the site's own apps, fed malformed values, answers with something other than a 5xx.

The walk: every URL pattern whose view lives in home, events, points, deliberation or neighbours (the site-level
ones in site/linli/urls.py and the custom admin views registered in wagtail_hooks.py included), every
live page of the site's own page types, and the Wagtail admin searches the audit named. Path
parameters get real ids of a demo data set (`seed_demo`) and, where the converter is `str`, each
malformed value. Query strings and form bodies get each malformed value in every parameter and form
field the site reads: all fields of the apps' forms plus the names views read by hand, at once, and
then one at a time for any combination that failed, so that a failure names its parameter. Views
that branch on `action` are posted once per action. Each database walks the values it treats its own
way (POSTGRESQL_ONLY, SQLITE_ONLY below); CI runs both. Staff walk the site and every admin page open to them;
the superuser walks the admin pages only the street office may open.
"""

from __future__ import annotations

import inspect
import os
import re
import urllib.parse
from html.parser import HTMLParser

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from wagtail.models import Page

OWN_APPS = ("home", "events", "points", "deliberation", "neighbours", "outbox")

REFUSED_VALUES = ["a\x00b", "x" * 5000]
MALFORMED = ["a\x00b", "²", str(10**23), "abc", "9999-12-31", "0001-01-01", "x" * 5000, "王秀英☃", "-1", '"', "<"]
# Each form field alone, the others valid: the audit's set (quotes and "<" matter to searches, which the
# all-at-once probes reach; -1 and year 1 to the numbers and dates they also reach). Bounds CI's time.
MALFORMED_ALONE = ["a\x00b", "²", str(10**23), "abc", "9999-12-31", "x" * 5000, "王秀英☃"]
# Which database walks which value (CI runs both; LINLI_FULL_WALK=1 walks every value on either). PostgreSQL
# refuses what SQLite stores, a NUL byte in text and text longer than its column, so those two are walked there.
# "²", "abc" and "-1" are turned away in Python before any query (plumbing.parsing, the forms' fields), the same
# on both databases, so they are walked on SQLite only. The others reach each database differently and are
# walked on both: integers past 64 bits, the ends of the calendar, search syntax and text beyond Latin-1.
POSTGRESQL_ONLY = {"a\x00b", "x" * 5000}
SQLITE_ONLY = {"²", "abc", "-1"}
# A form field alone: a date at the end of the calendar and text beyond Latin-1 in one field are checked and stored
# the same way by both databases (no search reads a single form field), so they too are walked on SQLite only.
SQLITE_ONLY_ALONE = SQLITE_ONLY | {"9999-12-31", "王秀英☃"}

# Names the views read from request.GET/POST by hand (the forms' fields are added from the form classes).
READ_BY_HAND = {
    "q", "page", "p", "date", "view", "from", "to", "kind", "category", "age", "community", "free", "before",
    "after", "item", "participant", "resident", "assignee", "topic", "member", "objection", "follow_up_action",
    "older_than", "status", "period", "next", "code", "raw", "export", "format", "session", "position", "size",
    "opt_in", "scan", "reason", "message", "text", "title", "summary", "name", "name_en", "withdraw", "rows",
    "action", "purpose", "user", "booking", "state", "recusal",
}  # fmt: skip

# Views that branch on a query parameter: each branch is walked with the other parameters malformed.
GET_BRANCHES = {
    "page:ActivityIndexPage": [{}, {"view": "week"}, {"view": "month"}],
    "points_admin:dashboard": [{}, {"export": "csv"}, {"export": "xlsx"}],
    "mailbox_admin:dashboard": [{}, {"format": "csv"}],
}

# Views that branch on a posted `action`: each branch is walked. Not "end" or "cancel": they read no input
# and would close the running session before the door and the other council pages are walked.
ACTIONS = {
    "mailbox:write_letter": ["check", "send"],
    "council:council_session_live": [
        "here",
        "vote",
        "recuse",
        "record_recusal",
        "withdraw_recusal",
        "present",
        "record",
        "open",
        "start",
        "close",
    ],
    "mailbox_admin:letter": ["note", "reply", "assign", "merge", "new_topic", "split", "accept", "answer", "out_of_scope"],
    "mailbox_admin:topic": ["approve", "status"],
    "mailbox_admin:hotline_upload": ["preview", "import"],
    "mailbox_admin:hotline_preview": ["import"],
    "council_admin:council": ["settings", "add", "change", "end"],
    "council_admin:session": ["add_item", "move", "present", "open", "close", "announce", "start", "remove"],
    "followup_admin:decision": ["answer", "add_action", "progress"],
    "neighbours:answer": ["accept", "decline"],
    "neighbours_admin:post": ["warn", "hide"],
    "neighbours_admin:moderate": ["hide", "warn", "suspend", "dismiss"],
}


def form_field_names() -> set[str]:
    """Every field of every form class defined in the apps' modules (forms, views, admin views)."""
    import importlib
    import pkgutil

    names: set[str] = set()
    for app in OWN_APPS:
        package = importlib.import_module(app)
        for module_info in pkgutil.walk_packages(package.__path__, prefix=f"{app}."):
            if not any(part in module_info.name for part in ("form", "view")):
                continue
            module = importlib.import_module(module_info.name)
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__ and hasattr(cls, "base_fields"):
                    names.update(cls.base_fields)
    return names


def own_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, name, pattern) of every URL pattern whose view lives in one of the site's own apps."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace or "") if part)
            yield from own_patterns(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern) and entry.callback.__module__.split(".")[0] in OWN_APPS:
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or str(entry.pattern)
            yield prefix + str(entry.pattern), name, entry


PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


class FormsOnPage(HTMLParser):
    """The forms of a page as the browser would send them: (method, action, fields with their values, buttons)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.current: dict | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = {key: value or "" for key, value in attrs}
        name = attributes.get("name", "")
        if tag == "form":
            self.current = {"method": attributes.get("method", "get").upper(), "action": attributes.get("action", "")}
            self.current.update(fields={}, buttons=[])
            self.forms.append(self.current)
        elif self.current is None or not name or name == "csrfmiddlewaretoken":
            return
        elif tag == "button" or (tag == "input" and attributes.get("type") == "submit"):
            self.current["buttons"].append((name, attributes.get("value", "")))
        elif tag == "input" and attributes.get("type") not in ("file", "checkbox", "radio"):
            self.current["fields"].setdefault(name, attributes.get("value", ""))
        elif tag == "input":  # checkboxes and radios: the first value is as good as any
            self.current["fields"].setdefault(name, attributes.get("value", "on"))
        elif tag in ("textarea", "select"):
            self.current["fields"].setdefault(name, "")
            self.select = name if tag == "select" else None
        elif tag == "option" and self.select and not self.current["fields"][self.select]:
            self.current["fields"][self.select] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


class DemoStreet:
    """The demo street (seeded) with the objects the walk needs by name; missing kinds are made with factories."""

    def __init__(self) -> None:
        from deliberation.council.models import AgendaItem, CouncilMember, CouncilSession
        from deliberation.council.tests.council_helpers import open_item, running_session
        from deliberation.followup.models import Decision
        from deliberation.mailbox.models import Letter, LetterPhoto, Topic
        from events.factories import HouseholdMemberFactory
        from events.models import ActivityPage, Booking, CalendarFeed
        from neighbours.models import Post, PostPhoto, Report, Response
        from points.models import LedgerEntry, Reservation, Reward

        session = CouncilSession.objects.filter(items__isnull=False).order_by("pk").first()
        chair = CouncilMember.objects.filter(council=session.council, role=CouncilMember.Role.CHAIR).first()
        self.resident = chair.user
        # A session in progress too, with an item open for voting and its chair checked in: the live pages' actions.
        running, _items = running_session(session.council, present=[chair], items=2)
        open_item(running)
        community = session.council.community
        self.staff = get_user_model().objects.filter(groups=community.editors, is_superuser=False).first()
        self.superuser = get_user_model().objects.create_superuser("walk-admin", "walk-admin@linli.localhost", "x")
        booking = Booking.objects.filter(resident__isnull=False).order_by("pk").first()
        letter = Letter.objects.filter(writer__isnull=False).order_by("pk").first()
        if not letter.access_key:
            letter.access_key = "walk-key"
            letter.save(update_fields=["access_key"])
        member = HouseholdMemberFactory(resident=self.resident)
        feed, _created = CalendarFeed.objects.get_or_create(resident=self.resident)
        decision = Decision.objects.order_by("pk").first()
        # A neighbour-help post of the resident's grid (the demo has some in every grid), with an answer.
        grid_id = getattr(getattr(self.resident, "profile", None), "grid_id", None)
        neighbour_post = Post.objects.filter(grid_id=grid_id).order_by("pk").first() or Post.objects.order_by("pk").first()
        self.users = {"resident": self.resident, "staff": self.staff, "superuser": self.superuser}
        self.letter, self.booking = letter, booking
        first = lambda queryset: queryset.order_by("pk").values_list("pk", flat=True).first() or 1  # noqa: E731
        self.pk_by_name = {
            "mailbox:topic_detail": first(Topic.objects),
            "mailbox:support_topic": first(Topic.objects),
            "mailbox:letter_photo": first(LetterPhoto.objects),
            "points:redeem": first(Reward.objects),
            "points:reservation": first(Reservation.objects),
            "points:cancel": first(Reservation.objects),
            "mailbox_admin:letter": letter.pk,
            "mailbox_admin:topic": first(Topic.objects),
            "council_admin:council": session.council_id,
            "council_admin:item": first(AgendaItem.objects.filter(session=running)),
            "council:council_session_live": running.pk,
            "council_admin:session": running.pk,
            "council_admin:session_edit": running.pk,
            "council_admin:door_qr": running.pk,
            "followup:decision_detail": decision.pk,
            "followup:file_objection": decision.pk,
            "followup_admin:decision": decision.pk,
            "neighbours:photo": first(PostPhoto.objects),
        }
        self.values = {
            "session_id": booking.session_id,
            "booking_id": booking.pk,
            "member_id": member.pk,
            "code": booking.code,
            "tracking_number": letter.tracking_number,
            "key": letter.access_key,
            "token": feed.token,
            "language": "en",
            "page_id": first(ActivityPage.objects),
            "user_id": self.resident.pk,
            "entry_id": first(LedgerEntry.objects),
            "photo_pk": first(LetterPhoto.objects),
            "council_pk": session.council_id,
            "session_pk": running.pk,
            "door_key": running.door_key,
            "pk": session.pk,  # the council's sessions that took place; other views are in pk_by_name
            "post_id": neighbour_post.pk,
            "response_id": first(Response.objects.filter(post=neighbour_post)),
            "report_id": first(Report.objects),
        }

    def paths(self, route: str, name: str, malformed: list[str]) -> list[tuple[str, str, str]]:
        """(path, malformed parameter, its value) for a route: the real one, then malformed path parameters."""

        def fill(bad_name: str | None, bad_value: str | None) -> str:
            def value(match: re.Match) -> str:
                kwarg = match.group(2)
                if kwarg == bad_name:
                    return urllib.parse.quote(bad_value, safe="")
                real = self.pk_by_name.get(name) if kwarg == "pk" and name in self.pk_by_name else self.values[kwarg]
                return urllib.parse.quote(str(real), safe="")

            return "/" + PARAMETER.sub(value, route)

        found = [(fill(None, None), "", "")]
        for converter, kwarg in PARAMETER.findall(route):
            bad_values = [bad for bad in malformed if converter in ("", "str") or bad == str(10**23)]
            found += [(fill(kwarg, bad), f"path:{kwarg}", bad) for bad in bad_values]
        return found


def site_urls(street: DemoStreet) -> list[tuple[str, str, str]]:
    """(name, route, url kind) of everything walked: own patterns, own live pages, the named admin searches."""
    walked = [(name, route, "pattern") for route, name, _pattern in own_patterns()]
    for app in OWN_APPS:
        from django.apps import apps

        for model in apps.get_app_config(app).get_models():
            if issubclass(model, Page):
                page = model.objects.live().public().order_by("pk").first()
                if page is not None and page.url:
                    walked.append((f"page:{model.__name__}", page.url.lstrip("/"), "page"))
    for route in ("admin/choose-page/search/", "admin/pages/search/", "admin/pages/search/results/"):
        walked.append((route, route, "admin search"))
    return walked


@pytest.fixture(scope="module")
def street(demo_street, django_db_blocker):
    """The shared demo street and, in a savepoint that ends with the module, what the walk adds to it; every
    role's test runs in a savepoint inside that and rolls back."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            yield DemoStreet()
            transaction.set_rollback(True)


ROLES = ["anonymous", "resident", "staff", "superuser"]
# The admin pages staff opened (200) in this run's walk: the superuser (run after staff) walks only the others, the
# ones for the street office alone. Run alone (`-k superuser`), the superuser walks every admin page.
STAFF_WALKED: set[tuple[str, str]] = set()


def is_admin(route: str) -> bool:
    return route.startswith(("admin/", "django-admin/"))


def walked_here(values: list[str], role: str, sqlite_only: set[str] = SQLITE_ONLY) -> list[str]:
    """The values this database walks for the role (see POSTGRESQL_ONLY); all of them with LINLI_FULL_WALK=1."""
    if os.environ.get("LINLI_FULL_WALK"):
        return values
    if connection.vendor == "postgresql":
        return [value for value in values if value not in sqlite_only]
    if role == "superuser":
        # The superuser walks only the admin pages closed to staff (STAFF_WALKED): what SQLite alone can break
        # (search syntax, integer overflow) staff reach on theirs. Here it walks only the values PostgreSQL leaves to SQLite.
        return [value for value in values if value in SQLITE_ONLY]
    return [value for value in values if value not in POSTGRESQL_ONLY]


@pytest.mark.parametrize("role", ROLES)
def test_no_server_error_on_malformed_input(street, role, db, settings, request):
    malformed, malformed_alone = walked_here(MALFORMED, role), walked_here(MALFORMED_ALONE, role, SQLITE_ONLY_ALONE)
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.force_login(street.users[role])
    fields = sorted(READ_BY_HAND | form_field_names())
    failures: list[tuple[str, str, str, str, str]] = []
    counted = {"requests": 0, "urls": 0}

    def send(method: str, path: str, data: dict[str, str]) -> int:
        counted["requests"] += 1
        if method == "GET":
            return client.get(path, data).status_code
        # Encoded as a browser sends a form without a file input (the test client's default, multipart, cost a
        # seventh of the walk's time in parsing; the input guard's multipart reading has tests of its own).
        body = urllib.parse.urlencode(data)
        return client.post(path, body, content_type="application/x-www-form-urlencoded").status_code

    def culprits(method: str, path: str, base: dict[str, str], value: str, names: list[str]) -> list[str]:
        """The fields that, malformed, make a server error: halves of a failing set are tried in turn."""
        if send(method, path, {**{name: value for name in names}, **base}) < 500:
            return []
        if len(names) == 1:
            return names
        half = len(names) // 2
        found = culprits(method, path, base, value, names[:half]) + culprits(method, path, base, value, names[half:])
        return found or [" & ".join(names)]  # only together

    def probe(method: str, path: str, base: dict[str, str], value: str) -> None:
        """All fields malformed at once, then, on a server error, the culprits by halving."""
        for name in culprits(method, path, base, value, [name for name in fields if name not in base]):
            failures.append((method, path, name, value[:24], role))

    def forms_of(path: str) -> list[tuple[str, str, dict[str, str]]]:
        """(method, path, valid-looking data) of each form on the page, once per named submit button."""
        counted["requests"] += 1
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            return []
        parser = FormsOnPage()
        parser.feed(response.content.decode())
        found = []
        for form in parser.forms:
            target = urllib.parse.urlsplit(urllib.parse.urljoin(path, form["action"] or path)).path
            for button in form["buttons"] or [None]:
                found.append((form["method"], target, {**form["fields"], **dict([button] if button else [])}))
        return found

    def walk_forms(path: str) -> None:
        """Each field of each form on the page malformed alone, the other fields as the page filled them in."""
        for method, target, data in forms_of(path):
            signature = (method, re.sub(r"\d+", "N", f"{target} {sorted(data.items())}"))
            if signature in seen_forms:
                continue
            seen_forms.add(signature)
            for field in data:
                for value in malformed_alone:
                    if send(method, target, {**data, field: value}) >= 500:
                        failures.append((method, target, f"form:{field}", value[:24], role))

    seen_forms: set = set()
    for name, route, kind in site_urls(street):
        refused = role in ("anonymous", "resident") and is_admin(route) and kind != "admin search"
        if refused:
            paths = street.paths(route, name, malformed)[:1]  # refused before any input is read: the real path is enough
        elif role == "superuser" and (not is_admin(route) or (name, route) in STAFF_WALKED):
            continue  # staff covers the site's pages and every admin page open to them; the superuser the rest
        else:
            paths = street.paths(route, name, malformed)
        counted["urls"] += 1
        if role == "staff" and is_admin(route) and send("GET", paths[0][0], {}) == 200:
            STAFF_WALKED.add((name, route))
        for path, malformed_part, bad in paths:
            if malformed_part:
                for method in ("GET", "POST"):
                    if send(method, path, {}) >= 500:
                        failures.append((method, path, malformed_part, bad[:24], role))
                continue
            if not refused:
                walk_forms(path)
            # Refused requests still carry their input into the login redirect: the longest and the NUL.
            for value in REFUSED_VALUES if refused else malformed:
                for branch in GET_BRANCHES.get(name, [{}]):
                    probe("GET", path, branch, value)
                for action in ACTIONS.get(name, [None]):
                    probe("POST", path, {"action": action} if action else {}, value)
    # The figures of the walk, for a report: `pytest --junitxml=FILE -o junit_family=legacy`.
    request.node.user_properties += [
        ("urls", counted["urls"]),
        ("walked", " ".join(name for name, _route, _kind in site_urls(street))),
        ("requests", counted["requests"]),
        ("server_errors", len(failures)),
    ]
    assert not failures, f"{len(failures)} server errors in {counted['requests']} requests:\n" + "\n".join(
        " ".join(repr(part) for part in failure) for failure in failures
    )
