"""Personal responses are never kept by a proxy or the phone's cache: `Cache-Control: private, no-store`, set in one place."""

import pytest

from events.models import CalendarFeed
from home import factories

pytestmark = pytest.mark.django_db

PERSONAL = [
    "/zh-hans/me/",
    "/en/me/data.json",
    "/zh-hans/me/bookings/",
    "/en/me/household/",
    "/zh-hans/me/points/",
    "/zh-hans/me/points/statement/",
    "/en/me/points/statement.csv",
    "/zh-hans/me/letters/",
    "/zh-hans/me/council/",
]


def is_private(response) -> bool:
    parts = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= parts and "public" not in parts


@pytest.mark.parametrize("url", PERSONAL)
def test_every_personal_page_and_download_is_private(client, site_pages, url):
    client.force_login(factories.ResidentProfileFactory().user)
    response = client.get(url)
    assert response.status_code == 200, url
    assert is_private(response)


def test_public_pages_are_private_for_a_logged_in_resident_but_not_for_visitors(client, site_pages):
    assert not is_private(client.get("/zh-hans/"))
    client.force_login(factories.ResidentProfileFactory().user)
    assert is_private(client.get("/zh-hans/"))


def test_addresses_with_a_key_are_private_for_anyone(client, site_pages):
    feed = CalendarFeed.objects.create(resident=factories.ResidentProfileFactory().user)
    assert is_private(client.get(f"/calendar/{feed.token}.ics"))
    assert is_private(client.get("/zh-hans/mailbox/track/LX-0/nothing/"))
    assert is_private(client.get("/zh-hans/accounts/login/"))
