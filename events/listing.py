"""What the activity list, the calendar and an activity's page show: read-only queries, flat in count."""

from __future__ import annotations

import calendar as month_calendar
import datetime
import functools
import secrets
import uuid
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.template.loader import render_to_string
from django.utils import dateformat, timezone, translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

from home.models import Community
from plumbing.middleware import LocalCopies, generation, shared_part
from plumbing.parsing import parse_date
from plumbing.personal import CSRF_STAND_IN, personal_part, with_csrf_token

from .models import (
    ActivityPage,
    AgeBand,
    Booking,
    Category,
    Kind,
    NextSession,
    Session,
    bookings_generation,
    sessions_generation,
)

PER_PAGE = 20
# An activity list right under a home page (root 1, home 2, list 3) is the street's list: it
# shows every activity of its language, those that communities keep in their own sections too.
STREET_LIST_DEPTH = 3


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    category: str = ""
    age: str = ""
    community: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    free_only: bool = False
    query: str = ""

    @classmethod
    def from_request(cls, request) -> Filters:
        get = request.GET

        def choice(name: str, values) -> str:
            value = get.get(name, "")
            return value if value in values else ""

        def date(name: str) -> datetime.date | None:
            return parse_date(get.get(name))

        # Communities change only with a new publish generation (home/signals.py).
        codes = shared_part(("events.community-codes",), lambda: set(Community.objects.values_list("code", flat=True)))
        return cls(
            kind=choice("kind", Kind.values),
            category=choice("category", Category.values),
            age=choice("age", AgeBand.values),
            community=choice("community", codes | {"street"}),
            date_from=date("from"),
            date_to=date("to"),
            free_only=get.get("free") == "1",
            query=get.get("q", "").strip()[:100],
        )

    def querystring(self) -> str:
        """The filters as a query string, for pagination and calendar links."""
        from urllib.parse import urlencode

        pairs = {
            "kind": self.kind,
            "category": self.category,
            "age": self.age,
            "community": self.community,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "free": "1" if self.free_only else "",
            "q": self.query,
        }
        return urlencode({key: value for key, value in pairs.items() if value})


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The start of a day in the portal's time zone: the days of the filters and calendars as ranges of the
    indexed start time (a date computed from every row's start cannot use the index)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def upcoming_sessions() -> QuerySet[Session]:
    return Session.objects.filter(starts_at__gt=timezone.now(), status=Session.Status.SCHEDULED)


def matching_activities(index, filters: Filters):
    """Live activities of the index page's language matching the filters."""
    activities = ActivityPage.objects.live().filter(locale_id=index.locale_id)
    if index.depth > STREET_LIST_DEPTH:
        activities = activities.descendant_of(index)  # a community's own list shows its own activities
    if filters.kind:
        activities = activities.filter(kind=filters.kind)
    if filters.category:
        activities = activities.filter(category=filters.category)
    if filters.age:
        activities = activities.filter(age_band=filters.age)
    if filters.community == "street":
        activities = activities.filter(community__isnull=True)
    elif filters.community:
        activities = activities.filter(community__code=filters.community)
    if filters.query:
        words = Q()
        for field in ("title", "summary", "organiser", "venue"):
            words |= Q(**{f"{field}__icontains": filters.query})
        activities = activities.filter(words)
    sessions = upcoming_sessions()
    if filters.date_from:
        sessions = sessions.filter(starts_at__gte=local_midnight(filters.date_from))
    if filters.date_to:
        sessions = sessions.filter(starts_at__lt=local_midnight(filters.date_to + datetime.timedelta(days=1)))
    if filters.free_only:
        sessions = sessions.filter(seats_taken__lt=F("capacity"))
    if filters.date_from or filters.date_to or filters.free_only:
        activities = activities.filter(translation_key__in=sessions.values("activity__translation_key"))
    return activities


def filtered_activities(index, filters: Filters):
    """The matching activities with their next session and free seats, soonest first."""
    next_sessions_fresh()
    now = timezone.now()
    # Each activity's next session from its row (primary-key lookups) when the row can be trusted: it names a session
    # that is still scheduled at the row's time, which has not come, or says there is none (NO_SESSION). Without such
    # a row (a new activity; a session started, cancelled, moved or deleted since the last refresh), from its
    # sessions, as before the rows existed.
    row = NextSession.objects.filter(translation_key=OuterRef("translation_key"))
    valid = Q(session__status=Session.Status.SCHEDULED, session__starts_at=F("starts_at"), starts_at__gt=now)
    trusted = row.annotate(
        kept=Case(When(valid, then=F("starts_at")), When(session__isnull=True, starts_at__isnull=True, then=Value(NO_SESSION)))
    ).values("kept")
    own = upcoming_sessions().filter(activity__translation_key=OuterRef("translation_key"))
    row_seats = row.filter(valid).annotate(free=F("session__capacity") - F("session__seats_taken"))
    return (
        matching_activities(index, filters)
        .annotate(
            next_starts_at=NullIf(
                Coalesce(Subquery(trusted), Subquery(own.order_by("starts_at").values("starts_at")[:1])),
                Value(NO_SESSION),
            ),
            # The next session's own seats (not the sum over every session: a full next session said "5 left").
            free_seats=Coalesce(
                Subquery(row_seats.values("free")),
                Subquery(own.order_by("starts_at", "pk").annotate(free=F("capacity") - F("seats_taken")).values("free")[:1]),
                0,
                output_field=IntegerField(),
            ),
        )
        .select_related("community")
        .order_by(F("next_starts_at").asc(nulls_last=True), "-first_published_at", "pk")
    )


def kept_generation() -> str:
    """What the list's and calendars' kept copies are kept for: the publish generation (pages published, moved,
    deleted) and the sessions' (a session saved or deleted, sessions added by the services)."""
    return f"{generation.current()}:{sessions_generation()}"


# Until when this process need not refresh the next-session rows (`NextSession.refresh`): the earliest of their
# sessions' starts, for the `kept_generation` (a new activity is published, a session saved or deleted) and at most
# NEXT_SESSIONS_CHECK_SECONDS (sessions changed by an UPDATE that sends no signal are caught within that time).
_next_sessions = LocalCopies(1)
NEXT_SESSIONS_CHECK_SECONDS = 60
# A row's "no upcoming session" in the list's query: later than any session, and shown as none.
NO_SESSION = datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC)


def next_sessions_fresh() -> None:
    """Refresh the next-session rows if they may have gone stale since this process last did.

    The refresh waits for the end of the caller's transaction (at once outside one): the list is right without it
    (it reads an activity whose row is stale from its sessions), so it never runs in a transaction that then rolls
    back. Until it has run, the rows are not looked at again by this process."""
    current = kept_generation()  # before the sessions are read: a change meanwhile starts another
    until = _next_sessions.get("until", current)
    if until is not None and timezone.now() < until:
        return
    _next_sessions.put("until", current, NO_SESSION, NEXT_SESSIONS_CHECK_SECONDS)

    def refresh() -> None:
        _next_sessions.put("until", current, NextSession.refresh() or NO_SESSION, NEXT_SESSIONS_CHECK_SECONDS)

    transaction.on_commit(refresh)


def activity_list_context(index, request) -> dict:
    filters = Filters.from_request(request)
    view = request.GET.get("view", "list")
    view = view if view in ("list", "week", "month") else "list"

    def filter_form() -> str:
        form = {
            "filters": filters,
            "view": view,
            "kinds": Kind.choices,
            "categories": Category.choices,
            "age_bands": AgeBand.choices,
            "communities": Community.objects.order_by("code"),
        }
        return render_to_string("events/includes/filter_form.html", form)

    context = {
        "filters": filters,
        "filter_query": filters.querystring(),
        # The same for everyone who filters alike: made once per language, view, filters and publish generation.
        "filter_form": shared_part(
            ("events.filter-form", translation.get_language(), view, *filters.__dict__.values()), filter_form
        ),
        "view": view,
    }
    if context["view"] == "list":
        entries, seats_read = listed_activities(index, filters)
        context["page_obj"] = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
        context["activity_items"] = entry_items(context["page_obj"].object_list, request, seats_read=seats_read)
    else:
        context.update(calendar_context(index, filters, request, context["view"]))
    return context


# What an activity's entry in a list shows (events/includes/activity_item.html; its address from its path): the rest of
# a page's columns (its description, its booking rules) are not read for the list.
ITEM_FIELDS = ("title", "url_path", "kind", "category", "age_band", "summary", "community")


def activity_items(activities, request=None) -> list[str]:
    """Each activity of a list as the list shows it: made once per activity, next session, free seats, language,
    site and publish generation (an edit is published, which starts a new one)."""
    entries = [Entry(activity.pk, activity.next_starts_at, None, activity.free_seats) for activity in activities]
    shown = {activity.pk: activity for activity in activities}
    return entry_items(entries, request, seats_read=True, activities=shown)


class Entry(NamedTuple):
    """An activity in the list's order: its page, its next session (or none) and that session's free seats."""

    pk: int
    next_starts_at: datetime.datetime | None
    next_session: int | None
    free_seats: int


def entry_items(entries: list[Entry], request, *, seats_read: bool, activities: dict | None = None) -> list[str]:
    """The entries as `activity_items` shows them, with their free seats read now unless `seats_read` (they were, with
    the order); their pages are loaded (in one query) only if one of them is not kept already."""
    if not seats_read:
        sessions = [entry.next_session for entry in entries if entry.next_starts_at is not None]
        free = dict(
            Session.objects.filter(pk__in=sessions)
            .order_by()
            .annotate(free=F("capacity") - F("seats_taken"))
            .values_list("pk", "free")
        )
        entries = [entry._replace(free_seats=free.get(entry.next_session, 0)) for entry in entries]
    activities = activities or {}

    def page(entry: Entry) -> ActivityPage:
        if not activities:  # the first entry not kept: all of them in one query
            pks = [each.pk for each in entries]
            activities.update(
                (activity.pk, activity)
                for activity in ActivityPage.objects.filter(pk__in=pks).only(*ITEM_FIELDS).select_related("community")
            )
        activity = activities[entry.pk]
        activity.next_starts_at, activity.free_seats = entry.next_starts_at, entry.free_seats
        return activity

    language = translation.get_language()
    host = request.get_host() if request is not None else ""
    return [
        shared_part(
            ("events.activity-item", entry.pk, entry.next_starts_at, entry.free_seats, language, host),
            lambda entry=entry: render_to_string(
                "events/includes/activity_item.html", {"activity": page(entry), "request": request}
            ),
        )
        for entry in entries
    ]


# The list's order kept in each process per index and filters, as long as it cannot change: for the
# `kept_generation` (a page published, a session added, saved or deleted), until the first listed session starts and
# at most NEXT_SESSIONS_CHECK_SECONDS. Not with a search or with filters by date or free seats, whose matches change with
# the sessions and every booking: those are read on every request.
_orders = LocalCopies(100)  # 1,000 activities are some 150 kB


def listed_activities(index, filters: Filters) -> tuple[list[Entry], bool]:
    """Every activity the list shows, in its order, and whether their free seats were read now (with the order) or
    must be (a kept order)."""

    def read() -> list[Entry]:
        now = timezone.now()
        row = NextSession.objects.filter(
            translation_key=OuterRef("translation_key"),
            session__status=Session.Status.SCHEDULED,
            session__starts_at=F("starts_at"),
            starts_at__gt=now,
        )
        own = upcoming_sessions().filter(activity__translation_key=OuterRef("translation_key")).order_by("starts_at", "pk")
        return [
            Entry(pk, starts_at, session if starts_at is not None else None, free)
            for pk, starts_at, session, free in filtered_activities(index, filters)
            .annotate(
                next_session=Coalesce(
                    Subquery(row.values("session_id")), Subquery(own.values("pk")[:1]), output_field=IntegerField()
                )
            )
            .values_list("pk", "next_starts_at", "next_session", "free_seats")
        ]

    if filters.date_from or filters.date_to or filters.free_only or filters.query:
        return read(), True
    current = kept_generation()  # before the order is read: a change committed meanwhile starts another
    key = (index.pk, filters.kind, filters.category, filters.age, filters.community)
    kept = _orders.get(key, current)
    if kept is not None and timezone.now() < kept[1]:
        return kept[0], False
    entries = read()
    until = min((entry.next_starts_at for entry in entries if entry.next_starts_at is not None), default=NO_SESSION)
    _orders.put(key, current, (entries, until), NEXT_SESSIONS_CHECK_SECONDS)
    return entries, True


def page_urls(index, request):
    """`url_of(url_path, pk)`: a page's URL from its path in the tree, as Wagtail makes it for the index page (the
    segments below the site's root, after the root's own address), without loading the page; a page elsewhere
    (another site) is loaded and asked."""
    url, url_path = index.get_url(request=request), index.url_path
    tail = 0
    url_parts, path_parts = url.strip("/").split("/"), url_path.strip("/").split("/")
    while tail < min(len(url_parts), len(path_parts)) and url_parts[-1 - tail] == path_parts[-1 - tail]:
        tail += 1
    root = "/" + "/".join(path_parts[: len(path_parts) - tail]) + "/" if len(path_parts) > tail else "/"
    prefix = url[: len(url) - len("/".join(url_parts[len(url_parts) - tail :]) + "/")] if tail else url

    def url_of(page_path: str, pk: int) -> str:
        if url.startswith("/") and page_path.startswith(root):
            return prefix + page_path[len(root) :]
        return ActivityPage.objects.get(pk=pk).get_url(request=request)

    return url_of


def calendar_pages(index, filters: Filters, activities, request, keys: set) -> dict:
    """The address and title of each shown activity by its translation key, escaped. Which activities match and what
    they are called change only with a publish: made once per publish generation, language, site and filters, for all
    of them. With "free seats only", which activities match changes with every booking: those of `keys`, per request."""

    def read(activities) -> dict:
        url_of = page_urls(index, request)
        return {
            key: (escape(url_of(url_path, pk)), escape(title))
            for key, url_path, pk, title in activities.order_by().values_list("translation_key", "url_path", "pk", "title")
        }

    if filters.free_only:
        return read(activities.filter(translation_key__in=keys))
    shown = (filters.kind, filters.category, filters.age, filters.community, filters.query)
    key = ("events.calendar-pages", index.pk, translation.get_language(), request.get_host(), *shown)
    return shared_part(key, lambda: read(activities))


# The sessions of a calendar's week or month, each with its day and its entry up to the seats, kept in each process
# per index, window, language, site and filters for the `kept_generation` (a page published, a session added, saved
# or deleted) and at most NEXT_SESSIONS_CHECK_SECONDS; their seats are read on every request. Not
# with a search or "free seats only", whose matches change with every booking: read on every request.
_calendars = LocalCopies(100)  # a month of 800 sessions is some 200 kB


def calendar_sessions(index, filters: Filters, request, first: datetime.date, last: datetime.date) -> tuple[list, dict]:
    """The window's sessions of the shown activities as (session, day, entry up to its seats), in order, and the
    seats (capacity, taken) of the window's sessions that are not cancelled, by session."""
    window = Session.objects.filter(
        starts_at__gte=local_midnight(first),  # a range on the indexed column, not a date computed per row
        starts_at__lt=local_midnight(last + datetime.timedelta(days=1)),
    ).exclude(status=Session.Status.CANCELLED)

    def read() -> tuple[list, dict]:
        activities = matching_activities(index, Filters(**{**filters.__dict__, "date_from": None, "date_to": None}))
        # Sessions are keyed to the source page: its translation key picks this language's page. The window's
        # sessions come by the index on their start, without their activities' filters: a session whose activity is
        # not shown has no page below and is left out. Plain rows, not model instances: a month shows hundreds.
        rows = list(
            window.order_by("starts_at", "pk").values_list(
                "pk", "starts_at", "capacity", "seats_taken", "activity__translation_key"
            )
        )
        pages = calendar_pages(index, filters, activities, request, {row[4] for row in rows})
        zone = timezone.get_current_timezone()
        shown = []
        for session, starts_at, _capacity, _taken, key in rows:
            if key in pages:
                local = starts_at.astimezone(zone)
                url, title = pages[key]
                # Each entry made here, not by a template loop: a month shows hundreds of them.
                shown.append((session, local.date(), f'<li><a href="{url}">{local:%H:%M} {title}</a> '))
        return shown, {session: (capacity, taken) for session, _at, capacity, taken, _key in rows}

    if filters.free_only or filters.query:
        return read()
    current = kept_generation()  # before the sessions are read: a change committed meanwhile starts another
    shown_filters = (filters.kind, filters.category, filters.age, filters.community)
    key = (index.pk, first, last, translation.get_language(), request.get_host(), *shown_filters)
    shown = _calendars.get(key, current)
    if shown is None:
        shown, seats = read()
        _calendars.put(key, current, shown, NEXT_SESSIONS_CHECK_SECONDS)
        return shown, seats
    seats = {
        session: (capacity, taken) for session, capacity, taken in window.order_by().values_list("pk", "capacity", "seats_taken")
    }
    return shown, seats


@functools.lru_cache(maxsize=2048)
def seats_label(left: int, language: str) -> str:
    """A calendar entry's seats left, translated and escaped once per number and language (`language` is the active
    one: a key of the kept label, not switched to)."""
    return escape(ngettext("%(seats)s seat left", "%(seats)s seats left", left) % {"seats": left} if left else gettext("Full"))


@functools.lru_cache(maxsize=1024)
def day_heading(day: datetime.date, language: str) -> str:
    """A calendar day's heading, made once per day and language (the active one, as for `seats_label`)."""
    return f'<h3><time datetime="{day:%Y-%m-%d}">{escape(dateformat.format(day, "n/j D"))}</time></h3>'


def calendar_context(index, filters: Filters, request, view: str) -> dict:
    """A week or month of sessions of the filtered activities, each titled in the page's language."""
    # Within 1900-2100: the previous and following week or month of year 1 or 9999 do not exist.
    anchor = parse_date(request.GET.get("date")) or timezone.localdate()
    if view == "week":
        first = anchor - datetime.timedelta(days=anchor.weekday())
        last = first + datetime.timedelta(days=6)
        previous, following = first - datetime.timedelta(days=7), first + datetime.timedelta(days=7)
    else:
        first = anchor.replace(day=1)
        last = first.replace(day=month_calendar.monthrange(first.year, first.month)[1])
        previous = (first - datetime.timedelta(days=1)).replace(day=1)
        following = last + datetime.timedelta(days=1)
    shown, seats_now = calendar_sessions(index, filters, request, first, last)
    language = translation.get_language()
    days: dict[datetime.date, list] = {}
    day = first
    while day <= last:
        days[day] = []
        day += datetime.timedelta(days=1)
    for session, day, entry in shown:
        if session not in seats_now:
            continue  # cancelled since the window was read
        capacity, seats_taken = seats_now[session]
        if filters.free_only and seats_taken >= capacity:
            continue
        left = max(capacity - seats_taken, 0)  # Session.seats_left
        days[day].append(f'{entry}<span class="meta">{seats_label(left, language)}</span></li>')
    # The days made here too, not by a template loop (a month is 28 to 31 of them): a month's grid starts on a Monday.
    today = timezone.localdate()
    html = ['<li class="calendar-blank" aria-hidden="true"></li>'] * (first.weekday() if view == "month" else 0)
    for day, entries in days.items():
        marks = (" is-today" if day == today else "") + ("" if entries else " is-empty")
        heading = day_heading(day, language)
        html.append(
            f'<li class="calendar-day{marks}">{heading}<ul>{"".join(entries)}</ul></li>'
            if entries
            else f'<li class="calendar-day{marks}">{heading}</li>'
        )
    return {
        "calendar_html": mark_safe("\n".join(html)),  # noqa: S308  (each entry and title escaped above)
        "calendar_first": first,
        "calendar_last": last,
        "calendar_previous": previous,
        "calendar_next": following,
        "today": today,
    }


def page_sessions(page: ActivityPage) -> list[Session]:
    """The sessions an activity page shows (from 30 days ago), with their queue lengths and draws: one query."""
    return list(
        page.sessions()
        .filter(ends_at__gt=timezone.now() - datetime.timedelta(days=30))
        .annotate(waiting=Count("bookings", filter=Q(bookings__status=Booking.Status.WAITLISTED)))
        .annotate(applied=Count("bookings", filter=Q(bookings__status=Booking.Status.APPLIED)))
        .select_related("activity", "draw")[:60]
    )


VISITOR_SECONDS = 60
_visitors = LocalCopies(5000)


@dataclass
class Visitor:
    """What an activity page's sessions show for one visitor: their places by session (with, for a waiting one, its
    number on the list), their household and the people they may book for. Nobody's for an anonymous visitor."""

    own: dict[int, list[Booking]]
    members: list
    people: list[dict]

    @classmethod
    def of(cls, user, sessions: list[Session]) -> Visitor:
        """Kept per resident, sessions and language in each process while the bookings generation stays (any change
        to a booking, a session, a household's members or a profile starts a new one: events/apps.py), at most
        VISITOR_SECONDS (a child's consent follows the year)."""
        if not user.is_authenticated:
            return cls({}, [], [])
        key = (user.pk, tuple(session.pk for session in sessions), translation.get_language())
        current = bookings_generation()  # before the rows: a change meanwhile starts a newer one
        visitor = _visitors.get(key, current)
        if visitor is None:
            visitor = cls.read(user, sessions)
            _visitors.put(key, current, visitor, VISITOR_SECONDS)
        return visitor

    @classmethod
    def read(cls, user, sessions: list[Session]) -> Visitor:
        # The resident's places; for waiting ones (if any), how many wait before each, in one more query.
        bookings = list(
            Booking.objects.active().filter(resident=user, session__in=[session.pk for session in sessions]).order_by("pk")
        )
        waiting = [booking.pk for booking in bookings if booking.status == Booking.Status.WAITLISTED]
        ahead = {}
        if waiting:
            before = (
                Booking.objects.filter(session_id=OuterRef("session_id"), status=Booking.Status.WAITLISTED)
                .filter(Q(queued_at__lt=OuterRef("queued_at")) | Q(queued_at=OuterRef("queued_at"), pk__lt=OuterRef("pk")))
                .order_by()
                .values("session_id")
                .annotate(count=Count("pk"))
                .values("count")
            )
            ahead = dict(
                Booking.objects.filter(pk__in=waiting)
                .annotate(ahead=Coalesce(Subquery(before, output_field=IntegerField()), 0))
                .values_list("pk", "ahead")
            )
        own: dict[int, list[Booking]] = {}
        for booking in bookings:
            booking.waiting_number = ahead.get(booking.pk, 0) + 1
            own.setdefault(booking.session_id, []).append(booking)
        members = list(user.household_members.all())
        return cls(own, members, bookable_people(user, members))

    def shown(self) -> tuple:
        """Everything of the visitor's that the sessions show: two visitors alike here see the same sessions."""
        people = tuple((person["value"], person["label"], person["birth_year"], person.get("consent")) for person in self.people)
        places = tuple(
            (
                booking.session_id,
                booking.participant_key,
                booking.participant_name,
                booking.status,
                booking.waiting_number,
                str(booking.code),
            )
            for bookings in self.own.values()
            for booking in bookings
        )
        return people, places, bool(self.members)


def activity_page_context(
    page: ActivityPage, request, sessions: list[Session] | None = None, visitor: Visitor | None = None
) -> dict:
    """Sessions with seats left and queue length; for a logged-in resident, their own status and household."""
    now = timezone.now()
    if sessions is None:
        sessions = page_sessions(page)
    if visitor is None:
        visitor = Visitor.of(request.user, sessions)
    own, members, people = visitor.own, visitor.members, visitor.people
    rows = [
        {
            "session": session,
            "mine": own.get(session.pk, []),
            "upcoming": session.starts_at > now and not session.is_cancelled,
            "choices": participant_choices(page, session, people, booked={b.participant_key for b in own.get(session.pk, [])}),
        }
        for session in sessions
    ]
    for row in rows:
        # The box shows whenever a child who needs it can be chosen; it is `required` in the page itself only when
        # everyone offered is such a child (booking.js requires it while one is chosen; the server checks it).
        row["needs_consent"] = any(person.get("consent") for person in row["choices"])
        row["always_consent"] = row["needs_consent"] and all(person.get("consent") for person in row["choices"])
    return {
        "session_rows": rows,
        "upcoming_rows": [row for row in rows if row["upcoming"]],
        "past_draws": [row["session"] for row in rows if hasattr(row["session"], "draw") and row["session"].drawn_at],
        "household": members,
        "request_token": uuid.uuid4(),
        "window_state": page.booking_window_state(now),
    }


# Stand-ins for the two values of a sessions part that differ on every request, so that the rest is kept.
REQUEST_TOKEN_STAND_IN = f"request-token-{secrets.token_hex(8)}"  # the CSRF token's is plumbing.personal's
_sessions_html = LocalCopies(1000)


@personal_part("events.sessions")
def sessions_part(request, *, page: int) -> str:
    """An activity page's sessions, seats and queues with the visitor's own bookings and booking forms: rendered
    for each visitor, the rest of the page is shared (plumbing/personal.py).

    Residents whose places, household and age show alike see the same sessions: each such version is rendered once
    per copy of the sessions (see below) in each process and kept, with stand-ins for the form's CSRF and request
    tokens, which are filled in for every request. The visitor's places and household are read on every request."""

    # The page and its sessions with seats and queues are the same for everyone: read once per publish generation
    # and at most LINLI_SEATS_CACHE_SECONDS apart in each process, as old as the anonymous page cache's copy may be.
    def read() -> tuple[ActivityPage, list[Session], str]:
        activity = ActivityPage.objects.get(pk=page)
        return activity, page_sessions(activity), uuid.uuid4().hex  # the last names this copy

    activity, sessions, copy = shared_part(("events.sessions", page), read, seconds=settings.LINLI_SEATS_CACHE_SECONDS)
    visitor = Visitor.of(request.user, sessions)
    if not request.user.is_authenticated:
        context = {"page": activity, **activity_page_context(activity, request, sessions, visitor)}
        return render_to_string("events/includes/sessions.html", context, request=request)
    now = timezone.now()
    upcoming = tuple(session.pk for session in sessions if session.starts_at > now and not session.is_cancelled)
    key = (page, translation.get_language(), activity.booking_window_state(now), upcoming, visitor.shown())
    html = _sessions_html.get(key, copy)
    if html is None:
        context = {
            "page": activity,
            **activity_page_context(activity, request, sessions, visitor),
            "csrf_token": CSRF_STAND_IN,
            "request_token": REQUEST_TOKEN_STAND_IN,
        }
        html = render_to_string("events/includes/sessions.html", context, request=request)
        _sessions_html.put(key, copy, html, settings.LINLI_SEATS_CACHE_SECONDS)
    if REQUEST_TOKEN_STAND_IN in html:  # a booking form: a request token of its own
        html = html.replace(REQUEST_TOKEN_STAND_IN, str(uuid.uuid4()))
    return with_csrf_token(request, html)  # and the CSRF token (and the cookie it needs) of any form


def bookable_people(user, members) -> list[dict]:
    """The resident and their household as the booking form offers them."""
    from .services import GUARDIAN_CONSENT_UNDER

    profile = getattr(user, "profile", None)
    this_year = timezone.localdate().year
    chinese = (translation.get_language() or "").startswith("zh")  # full-width brackets: 小明（2017）
    people = [
        {"value": "me", "key": f"u{user.pk}", "label": gettext("Myself"), "birth_year": profile.birth_year if profile else None}
    ]
    people += [
        {
            "value": str(member.pk),
            "key": f"m{member.pk}",
            "label": f"{member.name}（{member.birth_year}）" if chinese else f"{member.name} ({member.birth_year})",
            "birth_year": member.birth_year,
            # A child under 14 needs the guardian's consent, unless it was given when the child was added.
            "consent": this_year - member.birth_year < GUARDIAN_CONSENT_UNDER and member.guardian_consent_at is None,
        }
        for member in members
    ]
    return people


def participant_choices(page: ActivityPage, session: Session, people: list[dict], *, booked: set[str]) -> list[dict]:
    """Who can still be booked into the session: in the age band and not booked already. The resident
    themself is offered when their birth year is unknown (booking then says to add it)."""
    from .services import fits_age_band

    return [
        person
        for person in people
        if person["key"] not in booked
        and (
            fits_age_band(activity=page, birth_year=person["birth_year"], session=session)
            or (person["value"] == "me" and person["birth_year"] is None)
        )
    ]


def home_section(home_page) -> dict:
    """The home page's "Coming up" section: the next classes and activities of its language, soonest first
    (two queries)."""
    from .models import ActivityIndexPage

    index = ActivityIndexPage.objects.live().filter(locale=home_page.locale).order_by("path").first()
    if index is None:
        return {"activity_index": None, "upcoming_activities": [], "upcoming_items": []}
    upcoming = list(filtered_activities(index, Filters()).filter(next_starts_at__isnull=False).only(*ITEM_FIELDS)[:4])
    return {"activity_index": index, "upcoming_activities": upcoming, "upcoming_items": activity_items(upcoming)}
