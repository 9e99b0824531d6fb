"""Query counts of the activity list, its calendars and an activity page: pinned, and flat as the data grows.

Every request is a cold page-cache miss (the cache is emptied first), the worst case. The
counts are the same for 10 and 100 activities with many sessions each: an activity in the
list costs no query of its own (next session and free seats are subqueries of the one list
query, its community comes with select_related, named in both languages on its one row),
a calendar entry neither (sessions come with their activity, the pages in the page's
language from one query), and an activity page reads its sessions with their queue lengths
and draws in one query however many there are.
"""

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from wagtail.models import Locale

from events import factories
from events.models import ActivityPage, Booking, Session
from home import factories as home_factories
from home.factories import CommunityFactory, ResidentProfileFactory, VerifiedUserFactory
from home.models import PortalSettings

pytestmark = pytest.mark.django_db

CALENDAR_ENTRY = re.compile(r'<li><a href="[^"]+">\d\d:\d\d ')  # a session on a calendar day
MAX_QUERIES = 20  # an anonymous visitor's cache miss
MAX_QUERIES_LOGGED_IN = 27  # a cold miss; a warm request of the cached page: 3
# Sessions per activity: the bigger street has more of them too.
SESSIONS = {10: 3, 100: 12}
# Exact counts per view and language, anonymous unless said. English is one query dearer
# (routing to a home page that is not the site's root page looks up the root's translation).
# An activity page reads itself once more for its sessions, a personal part (events/listing.py:
# sessions_part, kept a few seconds per process). A logged-in resident's cold miss also costs the
# session, the user, their bookings at these sessions, how many wait before each of their waiting
# places (one query, only when they wait somewhere), their household and the messages framework's
# session read; once the page is cached, three queries in all: the resident's places and household are
# kept per bookings generation (events/listing.py: Visitor; six before).
EXPECTED = {
    "zh-hans": {
        "list": 17,
        "list_filtered": 17,
        "list_last_page": 17,
        "week": 17,
        "month": 17,
        "activity": 18,
        "activity_logged_in": 26,
        "activity_logged_in_warm": 3,
    },
    "en": {
        "list": 18,
        "list_filtered": 18,
        "list_last_page": 18,
        "week": 18,
        "month": 18,
        "activity": 19,
        "activity_logged_in": 27,
        "activity_logged_in_warm": 3,
    },
}


def make_street(count: int, english, sessions_each: int) -> tuple:
    """count activities in both languages (the English ones share the Chinese ones' translation key)."""
    PortalSettings.objects.create(hotline="0571-12345")  # the footer's settings exist, as on a real site
    community = CommunityFactory(name="六和社区", code="liuhe")
    zh_index = factories.activity_index("zh-hans")
    en_index = factories.activity_index("en", title="Classes and activities")
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=1)
    sessions = []
    activities = []
    for number in range(count):
        fields = {
            "kind": ("class", "activity", "volunteering")[number % 3],
            "category": ("heritage", "health", "service")[number % 3],
            "age_band": ("all", "adults", "60+")[number % 3],
            "community": community if number % 2 else None,
        }
        zh = factories.activity(zh_index, title=f"活动 {number}", slug=f"activity-{number}", **fields)
        home_factories.add_page(
            en_index,
            ActivityPage(
                title=f"Activity {number}",
                slug=f"activity-{number}",
                locale=english,
                translation_key=zh.translation_key,
                **fields,
            ),
        )
        activities.append(zh)
        for day in range(sessions_each):
            starts = start + datetime.timedelta(days=day * 3, hours=number % 10)
            sessions.append(
                Session(
                    activity=zh,
                    starts_at=starts,
                    ends_at=starts + datetime.timedelta(hours=1),
                    capacity=10,
                    seats_taken=10 if (number + day) % 4 == 0 else day % 10,
                )
            )
    Session.objects.bulk_create(sessions)
    return zh_index, en_index, activities


def cold_get(client, url, django_assert_num_queries, expected) -> str:
    cache.clear()
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture(scope="module", params=[10, 100], ids=str)
def street(request, shared_site, django_db_blocker):
    """(count, the street): built once for both languages' tests, in a savepoint rolled back after them (each
    test runs and rolls back in a savepoint inside it, as on the shared site, conftest.py's Layer)."""
    count = request.param
    with django_db_blocker.unblock(), transaction.atomic():
        from home.services import ensure_site

        ensure_site()  # the shared site's pages (made already when the shared site's transaction is open)
        english = Locale.objects.get(language_code="en")
        yield count, make_street(count, english, SESSIONS[count])
        transaction.set_rollback(True)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_list_calendars_and_activity_page_query_counts_are_pinned_and_flat(
    street, client, site_pages, django_assert_num_queries, language
):
    count, (zh_index, en_index, activities) = street
    index = zh_index if language == "zh-hans" else en_index
    activity = activities[1].get_translation(Locale.objects.get(language_code=language))
    expected = EXPECTED[language]
    last_page = (count + 19) // 20
    week_of = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()

    listed = cold_get(client, index.url, django_assert_num_queries, expected["list"])
    filtered = cold_get(
        client,
        f"{index.url}?kind=activity&community=liuhe&free=1&from={week_of}",
        django_assert_num_queries,
        expected["list_filtered"],
    )
    last = cold_get(client, f"{index.url}?page={last_page}", django_assert_num_queries, expected["list_last_page"])
    week = cold_get(client, f"{index.url}?view=week&date={week_of}", django_assert_num_queries, expected["week"])
    month = cold_get(client, f"{index.url}?view=month&date={week_of}", django_assert_num_queries, expected["month"])
    page = cold_get(client, activity.url, django_assert_num_queries, expected["activity"])

    resident = VerifiedUserFactory()
    ResidentProfileFactory(user=resident, birth_year=1980)
    for session in activities[1].sessions():  # their own status shows on every session
        Booking.objects.create(
            session=session, resident=resident, participant_key=f"u{resident.pk}", participant_name="居民", status="waitlisted"
        )
    client.force_login(resident)
    page_logged_in = cold_get(client, activity.url, django_assert_num_queries, expected["activity_logged_in"])
    with django_assert_num_queries(expected["activity_logged_in_warm"]):
        warm = client.get(activity.url).content.decode()

    assert listed.count('class="activity-item"') == min(count, 20)
    assert last.count('class="activity-item"') == count - (last_page - 1) * 20
    assert 0 < filtered.count('class="activity-item"') < min(count, 20)
    # Every session of the week and of the month is listed, whatever day the test runs on.
    shown_on = datetime.date.fromisoformat(week_of)
    monday = shown_on - datetime.timedelta(days=shown_on.weekday())
    days = [timezone.localdate(starts) for starts in Session.objects.values_list("starts_at", flat=True)]
    in_week = sum(monday <= day < monday + datetime.timedelta(days=7) for day in days)
    in_month = sum((day.year, day.month) == (shown_on.year, shown_on.month) for day in days)
    assert in_week > 0
    assert len(CALENDAR_ENTRY.findall(week)) == in_week
    assert len(CALENDAR_ENTRY.findall(month)) == in_month
    assert page.count('class="session-item"') == page_logged_in.count('class="session-item"') == SESSIONS[count]
    assert page_logged_in.count("居民: ") == warm.count("居民: ") == SESSIONS[count]
    assert all(number <= MAX_QUERIES for name, number in expected.items() if not name.startswith("activity_logged_in"))
    assert expected["activity_logged_in"] <= MAX_QUERIES_LOGGED_IN


# A visitor the page caches do not serve (a session cookie naming no session, as the bench's uncached requests), once
# the list's order, a calendar window's sessions and Wagtail's route are kept (events/listing.py, plumbing/routing.py):
# Wagtail's two view-restriction queries and the shown sessions' seats (the cold request before: as `EXPECTED`).
EXPECTED_KEPT = {"list": 3, "list_last_page": 3, "week": 3, "month": 3}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_uncached_list_and_calendars_with_kept_order_and_route_are_pinned_and_flat(
    street, client, site_pages, django_assert_num_queries, language
):
    count, (zh_index, en_index, activities) = street
    index = zh_index if language == "zh-hans" else en_index
    week_of = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    urls = {
        "list": index.url,
        "list_last_page": f"{index.url}?page={(count + 19) // 20}",
        "week": f"{index.url}?view=week&date={week_of}",
        "month": f"{index.url}?view=month&date={week_of}",
    }
    client.cookies["sessionid"] = "no-such-session"
    cache.clear()
    for name, url in urls.items():
        cold = client.get(url).content.decode()  # keeps the order, the window and the route
        with django_assert_num_queries(EXPECTED_KEPT[name]):
            kept = client.get(url).content.decode()
        assert kept == cold
