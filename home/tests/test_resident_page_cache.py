"""The resident page cache (plumbing/middleware.py, plumbing/personal.py): what the shared text of a logged-in page
shows of its visitor (logged in, text size, the admin link) is part of its key; messages are rendered per visitor."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponse
from django.test import Client

from home.factories import ResidentProfileFactory, VerifiedUserFactory
from home.models import PortalSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def settings_row(site_pages):
    return PortalSettings.objects.create(hotline="0571-12345")  # made on first use otherwise: a new generation


def resident(**profile):
    user = VerifiedUserFactory()
    ResidentProfileFactory(user=user, **profile)
    client = Client()
    client.force_login(user)
    return user, client


def test_messages_show_once_on_a_cached_page(settings_row):
    _user, client = resident()
    client.get("/zh-hans/")
    assert client.get("/zh-hans/")["X-Page-Cache"] == "resident-hit"
    # A message waiting for the next page, as a view leaves it.
    response = HttpResponse()
    storage = CookieStorage(HttpRequest())
    storage.add(constants.SUCCESS, "您的资料已保存。")
    storage.update(response)
    client.cookies[CookieStorage.cookie_name] = response.cookies[CookieStorage.cookie_name].value
    shown = client.get("/zh-hans/")
    assert shown["X-Page-Cache"] == "resident-hit" and "您的资料已保存。" in shown.content.decode()
    assert "您的资料已保存。" not in client.get("/zh-hans/").content.decode()


def test_the_admin_link_and_the_text_size_are_part_of_the_key(settings_row):
    staff, staff_client = resident()
    staff.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    _large, large_client = resident(large_text=True)
    _plain, plain_client = resident()
    pages = {}
    for name, client in (("staff", staff_client), ("large", large_client), ("plain", plain_client)):
        client.get("/zh-hans/")
        pages[name] = client.get("/zh-hans/")
        assert pages[name]["X-Page-Cache"] == "resident-hit"
    html = {name: response.content.decode() for name, response in pages.items()}
    assert 'href="/admin/"' in html["staff"] and 'href="/admin/"' not in html["large"] + html["plain"]
    assert 'class="text-large' in html["large"] and 'class="text-large' not in html["staff"] + html["plain"]


def test_my_page_shows_each_residents_own_profile(settings_row):
    _first, first_client = resident(display_name="王阿姨")
    _second, second_client = resident(display_name="李大爷")
    for client in (first_client, second_client):
        client.get("/zh-hans/me/")
    first, second = first_client.get("/zh-hans/me/").content.decode(), second_client.get("/zh-hans/me/").content.decode()
    assert 'value="王阿姨"' in first and "李大爷" not in first
    assert 'value="李大爷"' in second and "王阿姨" not in second
