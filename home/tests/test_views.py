"""The views of home/views.py not covered elsewhere: root, language and text size, search, feed, sitemap, robots, privacy, health.

The profile, data export and account deletion views are tested in test_profile.py.
"""

import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.db import OperationalError, connections
from wagtail.models import Locale

from home import factories
from home.models import ResidentProfile
from plumbing.middleware import TEXT_SIZE_COOKIE

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def english(page, **fields):
    """The English translation of a page, published (its parents are copied too)."""
    translated = page.copy_for_translation(Locale.objects.get(language_code="en"), copy_parents=True)
    for name, value in fields.items():
        setattr(translated, name, value)
    translated.save_revision().publish()
    translated.refresh_from_db()
    return translated


@pytest.fixture
def water_notice(site_pages):
    """A Chinese notice and its English translation."""
    chinese = factories.notice(
        title="六和社区停水通知",
        slug="water",
        summary="本周四上午九点至十二点停水，请提前储水。",
        body=[("paragraph", "<p>请提前储水。</p>")],
    )
    translated = english(
        chinese,
        title="Liuhe water outage",
        summary="No tap water on Thursday morning; please store some in advance.",
        body=[("paragraph", "<p>Please store water in advance.</p>")],
    )
    return chinese, translated


# `/` and the language switch


def test_root_redirects_to_chinese_by_default(client, site_pages):
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, "/zh-hans/")
    assert "no-store" in response["Cache-Control"]


def test_root_follows_the_browser_language_and_the_cache_never_mixes_visitors(client, site_pages):
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")["Location"] == "/en/"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")["Location"] == "/zh-hans/"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en")["Location"] == "/en/"


def test_root_follows_the_language_cookie(client, site_pages):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert client.get("/")["Location"] == "/en/"


def test_root_follows_the_profile_of_a_logged_in_resident(client, site_pages):
    profile = factories.ResidentProfileFactory(preferred_language="en")
    client.force_login(profile.user)

    assert client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")["Location"] == "/en/"

    profile.preferred_language = "zh-hans"
    profile.save()
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en")["Location"] == "/zh-hans/"


def test_language_switch_sets_the_cookie_and_returns_to_next(client, site_pages):
    response = client.get("/language/en/", {"next": "/en/notices/"})

    assert (response.status_code, response["Location"]) == (302, "/en/notices/")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["samesite"] == "Lax"
    assert not ResidentProfile.objects.exists()


def test_language_switch_leaves_the_saved_language_of_a_logged_in_resident_alone(client, site_pages):
    # A link from another site must not change the language of the resident's mail: only the cookie changes.
    profile = factories.ResidentProfileFactory(preferred_language="zh-hans")
    client.force_login(profile.user)

    response = client.get("/language/en/", {"next": "/en/"})

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    profile.refresh_from_db()
    assert profile.preferred_language == "zh-hans"
    # On this device the choice holds: `/` leads to English.
    assert client.get("/")["Location"] == "/en/"


def test_language_switch_makes_no_profile_for_a_user_without_one(client, site_pages):
    user = factories.VerifiedUserFactory()
    client.force_login(user)

    client.get("/language/en/")

    assert not ResidentProfile.objects.filter(user=user).exists()


@pytest.mark.parametrize("next_url", ["http://evil.example/", "//evil.example/", "https://evil.example/en/"])
def test_language_switch_refuses_an_unsafe_next(client, site_pages, next_url):
    response = client.get("/language/en/", {"next": next_url})
    assert response["Location"] == "/en/"


def test_language_switch_refuses_unknown_languages_and_post(client, site_pages):
    assert client.get("/language/fr/", follow=True).status_code == 404
    assert client.post("/language/en/").status_code == 405


# Text size


def test_text_size_sets_the_cookie_for_a_visitor(client, site_pages):
    response = client.post("/text-size/", {"size": "large", "next": "/en/"})

    assert (response.status_code, response["Location"]) == (302, "/en/")
    assert response.cookies[TEXT_SIZE_COOKIE].value == "large"
    assert "text-large" in client.get("/en/").content.decode()

    response = client.post("/text-size/", {"size": "normal", "next": "/en/"})
    assert response.cookies[TEXT_SIZE_COOKIE].value == "normal"
    assert "text-large" not in client.get("/en/").content.decode()


def test_text_size_is_saved_in_the_profile_of_a_logged_in_resident(client, site_pages):
    profile = factories.ResidentProfileFactory(large_text=False)
    client.force_login(profile.user)

    client.post("/text-size/", {"size": "large", "next": "/zh-hans/"})
    profile.refresh_from_db()
    assert profile.large_text is True

    client.post("/text-size/", {"size": "normal", "next": "/zh-hans/"})
    profile.refresh_from_db()
    assert profile.large_text is False


def test_text_size_refuses_an_unsafe_next_and_get(client, site_pages):
    assert client.post("/text-size/", {"size": "large", "next": "http://evil.example/"})["Location"] == "/"
    assert client.get("/text-size/").status_code == 405


# Search


def test_search_page_without_a_query(client, site_pages):
    response = client.get("/zh-hans/search/")
    assert response.status_code == 200
    assert response.context["results"] == []


@pytest.mark.parametrize("query", ["停水", "储水", "六和社区停水通知"])
def test_search_finds_a_chinese_notice_by_part_of_its_text(client, water_notice, query):
    chinese, _translated = water_notice

    response = client.get("/zh-hans/search/", {"q": query})

    assert [page.pk for page in response.context["results"]] == [chinese.pk]
    assert chinese.url in response.content.decode()


def test_search_finds_notices_in_the_active_language_only(client, water_notice):
    chinese, translated = water_notice

    assert [p.pk for p in client.get("/en/search/", {"q": "water"}).context["results"]] == [translated.pk]
    assert client.get("/zh-hans/search/", {"q": "water"}).context["results"] == []
    assert client.get("/en/search/", {"q": "停水"}).context["results"] == []
    assert translated.url in client.get("/en/search/", {"q": "outage"}).content.decode()


def test_search_with_nothing_found_says_so_and_refuses_post(client, water_notice):
    response = client.get("/en/search/", {"q": "elephant"})
    assert "Nothing found" in response.content.decode()
    assert client.post("/en/search/", {"q": "water"}).status_code == 405


def test_search_leaves_out_drafts(client, site_pages):
    factories.notice(title="停水草稿", slug="draft", publish=False)
    assert client.get("/zh-hans/search/", {"q": "停水"}).context["results"] == []


# RSS


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_feed_lists_the_notices_of_its_language(client, water_notice, language):
    chinese, translated = water_notice
    own, other = (chinese, translated) if language == "zh-hans" else (translated, chinese)

    response = client.get(f"/{language}/notices/feed.xml")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == [own.title]
    assert items[0].findtext("link") == f"http://testserver{own.url}"
    assert other.title not in response.content.decode()


def test_feed_title_is_in_the_language_of_the_feed(client, site_pages):
    english_title = ET.fromstring(client.get("/en/notices/feed.xml").content).find("channel").findtext("title")
    chinese_title = ET.fromstring(client.get("/zh-hans/notices/feed.xml").content).find("channel").findtext("title")
    assert english_title == "Linli notices"
    assert chinese_title != english_title


# Sitemap and robots


def test_sitemap_lists_both_languages_with_hreflang_alternates(client, water_notice):
    chinese, translated = water_notice
    factories.notice(title="只有中文的通知", slug="zh-only")

    response = client.get("/sitemap.xml")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    urls = {
        url.findtext(f"{SITEMAP}loc"): {
            link.get("hreflang"): link.get("href") for link in url.findall(f"{XHTML}link") if link.get("rel") == "alternate"
        }
        for url in ET.fromstring(response.content).findall(f"{SITEMAP}url")
    }
    pair = {"zh-hans": f"http://testserver{chinese.url}", "en": f"http://testserver{translated.url}"}
    assert urls[pair["zh-hans"]] == pair
    assert urls[pair["en"]] == pair
    assert urls["http://testserver/zh-hans/"] == {"zh-hans": "http://testserver/zh-hans/", "en": "http://testserver/en/"}
    only_chinese = [loc for loc in urls if "zh-only" in loc]
    assert len(only_chinese) == 1 and list(urls[only_chinese[0]]) == ["zh-hans"]


def test_sitemap_leaves_out_drafts(client, site_pages):
    factories.notice(title="草稿", slug="a-draft", publish=False)
    assert b"a-draft" not in client.get("/sitemap.xml").content


def test_robots_txt_keeps_crawlers_out_of_private_areas_and_names_the_sitemap(client, site_pages):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    lines = response.content.decode().splitlines()
    for private in ("/admin/", "/django-admin/", "/zh-hans/accounts/", "/en/accounts/", "/zh-hans/me/", "/en/me/"):
        assert f"Disallow: {private}" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


@pytest.mark.parametrize(
    "url", ["/", "/healthz", "/robots.txt", "/sitemap.xml", "/zh-hans/notices/feed.xml", "/en/privacy-notice/", "/en/search/"]
)
def test_read_only_views_refuse_post_and_answer_head(client, site_pages, url):
    english(factories.standard_page(title="隐私政策", slug="privacy"), title="Privacy notice")
    get = client.get(url)

    assert client.post(url).status_code == 405
    head = client.head(url)
    assert head.status_code == get.status_code
    assert head.status_code in (200, 302)


# Privacy notice


def test_privacy_view_redirects_to_the_privacy_page_of_the_active_language(client, site_pages):
    chinese = factories.standard_page(title="隐私政策", slug="privacy")
    translated = english(chinese, title="Privacy notice")

    zh = client.get("/zh-hans/privacy-notice/")
    en = client.get("/en/privacy-notice/")

    assert (zh.status_code, zh["Location"]) == (302, chinese.url)
    assert (en.status_code, en["Location"]) == (302, translated.url)
    assert chinese.url != translated.url
    assert client.get(en["Location"]).status_code == 200


def test_privacy_view_is_404_until_the_page_is_published_in_that_language(client, site_pages):
    assert client.get("/zh-hans/privacy-notice/").status_code == 404
    factories.standard_page(title="隐私政策", slug="privacy")
    assert client.get("/zh-hans/privacy-notice/").status_code == 302
    assert client.get("/en/privacy-notice/").status_code == 404


# Health check


def test_healthz_is_never_cached(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_healthz_is_503_without_detail_when_the_database_fails(client, db, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError('connection to server at "db.internal" failed: password authentication for user "linli"')

    monkeypatch.setattr(type(connections["default"]), "cursor", broken_cursor)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    body = response.content.decode()
    for leak in ("Traceback", "OperationalError", "db.internal", "password", settings.SECRET_KEY):
        assert leak not in body


def test_switching_language_works_even_when_the_profile_holds_old_invalid_data(client, site_pages):
    from home.models import ResidentProfile

    resident = factories.ResidentProfileFactory()
    ResidentProfile.objects.filter(pk=resident.pk).update(mobile="12345")  # from before validation existed
    client.force_login(resident.user)

    response = client.get("/language/en/?next=/en/")
    client.post("/text-size/", {"size": "large", "next": "/en/"})

    assert response.status_code == 302
    resident.refresh_from_db()
    assert (resident.large_text, resident.mobile) == (True, "12345")


# The database unavailable: 503 with Retry-After, not 500


@pytest.fixture
def unreachable_database(transactional_db, settings, tmp_path):
    """The default connection pointed at a database that cannot be reached (a closed port or a missing
    folder), for real: the next query fails to connect. Restored afterwards."""
    connection = connections["default"]
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.settings_dict["PORT"] = "1"  # nothing listens there
    else:
        connection.settings_dict["NAME"] = str(tmp_path / "missing" / "db.sqlite3")
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.mark.parametrize("url, session", [("/zh-hans/", False), ("/en/activities/", False), ("/zh-hans/me/", True)])
def test_pages_answer_503_with_retry_after_while_the_database_is_unreachable(unreachable_database, url, session):
    from django.test import Client

    client = Client(raise_request_exception=False)
    if session:  # a resident: the session middleware's own query fails first
        client.cookies[settings.SESSION_COOKIE_NAME] = "a" * 32
    response = client.get(url)

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    body = response.content.decode()
    assert "请稍候再试" in body and "Please try again in a minute" in body
    for leak in ("Traceback", "OperationalError", "127.0.0.1", "sqlite"):
        assert leak not in body


def test_other_faults_still_answer_500(rf):
    from home.views import server_error

    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(rf.get("/"))
    assert response.status_code == 500 and "Retry-After" not in response
