"""Query counts of the page-cache miss path: pinned, within 20, and flat as the lists grow.

Every request here is a cold miss (the cache is emptied first, Wagtail's site root paths
included), the worst case an anonymous visitor meets right after a publish. The counts
are the same for 10 and 45 notices (one page of the list, and three with a short last one):
a notice in a list costs no query of its own (its community comes with select_related, its
URL from the site root paths cached on the request).
"""

import pytest
from django.core.cache import cache

from home import factories
from home.factories import CommunityFactory
from home.models import PortalSettings

pytestmark = pytest.mark.django_db

MAX_QUERIES = 20
# Exact counts per page and language. English is one query dearer: routing to a home page
# that is not the site's root page looks up the root page's translation. Community names
# in the active language cost nothing (both are on the community's one row, home.i18n.label);
# the footer's menu pages cost one query per page (footer_pages). The home page looks for the activity
# list (one query; one more for its upcoming activities when it exists), for the announced
# council sessions (one query) and for the council decisions in their notice period (one query), and
# lists the communities' pages (one query). The street's notice list reads the communities for its
# "where" filter (one query).
EXPECTED = {
    "zh-hans": {"home": 17, "notice_list": 16, "notice_list_last_page": 16, "notice": 16},
    "en": {"home": 18, "notice_list": 17, "notice_list_last_page": 17, "notice": 17},
}


def cold_get(client, url, django_assert_num_queries, expected):
    cache.clear()
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200
    assert response["X-Page-Cache"] == "miss"
    return response.content.decode()


@pytest.mark.parametrize("count", [10, 45])  # each notice is a published page: 45 keep the test quick
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_miss_path_query_counts_are_pinned_and_do_not_grow_with_the_number_of_notices(
    client, site_pages, django_assert_num_queries, language, count
):
    PortalSettings.objects.create(hotline="0571-12345")  # the footer's settings exist, as on a real site
    index = factories.notice_index(language)
    # Notices of both languages point at the community's one row.
    community = CommunityFactory(name="六和社区")
    notices = [
        factories.notice(index, title=f"通知 {number}", community=community if number % 2 else None, pinned=number < 2)
        for number in range(count)
    ]
    expected = EXPECTED[language]
    last_page = (count + index.per_page - 1) // index.per_page

    home = cold_get(client, f"/{language}/", django_assert_num_queries, expected["home"])
    first = cold_get(client, index.url, django_assert_num_queries, expected["notice_list"])
    last = cold_get(client, f"{index.url}?page={last_page}", django_assert_num_queries, expected["notice_list_last_page"])
    notice = cold_get(client, notices[1].url, django_assert_num_queries, expected["notice"])

    assert home.count('class="notice-item') == 2 + 8  # both pinned notices and the eight newest others
    assert first.count('class="notice-item') == min(count, index.per_page)
    assert last.count('class="notice-item') == count - (last_page - 1) * index.per_page
    assert "六和社区" in notice and notices[1].title in notice
    assert all(number <= MAX_QUERIES for number in expected.values())
