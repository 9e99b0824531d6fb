"""The anonymous page cache: hits cost no query, nothing personal is ever stored, publishing shows at once."""

import datetime
import time
import uuid

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache

from conftest import skip_or_fail
from home import factories
from home.models import PortalSettings
from plumbing.middleware import (
    GENERATION_KEY,
    Announcements,
    AnonymousPageCacheMiddleware,
    bump_page_cache_generation,
    generation,
)

pytestmark = pytest.mark.django_db


def cache_status(response) -> str | None:
    return response.get("X-Page-Cache")


# Views for the tests that need a response of a particular kind (ROOT_URLCONF = this module).
def sets_a_cookie(request):
    response = HttpResponse("<p>hello</p>")
    response.set_cookie("seen", "1")
    return response


def uses_the_csrf_token(request):
    return HttpResponse(
        f'<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="{get_token(request)}"></form>'
    )


def plain(request):
    return HttpResponse("<p>plain</p>")


@never_cache
def never_cached(request):
    return HttpResponse("<p>private</p>")


def uses_a_csp_nonce(request):
    return HttpResponse(f'<script nonce="{request.csp_nonce}" src="/static/x.js"></script>')


urlpatterns = [path("plain/", plain)] + i18n_patterns(
    path("cookie/", sets_a_cookie),
    path("csrf/", uses_the_csrf_token),
    path("plain/", plain),
    path("never-cached/", never_cached),
    path("nonce/", uses_a_csp_nonce),
    prefix_default_language=True,
)


@pytest.fixture
def test_views(settings):
    settings.ROOT_URLCONF = __name__


@pytest.fixture
def site_pages(site_pages):
    # The footer's settings row exists on a real site; creating it on the first render
    # would count as a content change and empty the cache once.
    PortalSettings.load()
    return site_pages


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_second_anonymous_view_is_served_from_the_cache_without_a_query(client, site_pages, django_assert_num_queries, language):
    factories.notice(factories.notice_index(language), title="停水通知")
    first = client.get(f"/{language}/")
    assert cache_status(first) == "miss"

    with django_assert_num_queries(0):
        second = client.get(f"/{language}/")

    assert cache_status(second) == "hit"
    assert second.status_code == 200
    assert second.content == first.content
    assert "停水通知" in second.content.decode()
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]


def test_notice_page_and_list_are_cached_too(client, site_pages, django_assert_num_queries):
    notice = factories.notice(title="停水通知")
    for url in (notice.url, notice.get_parent().url, notice.get_parent().url + "?category=general"):
        assert cache_status(client.get(url)) == "miss"
        with django_assert_num_queries(0):
            assert cache_status(client.get(url)) == "hit"


def test_login_page_with_a_csrf_token_is_never_stored(client, site_pages):
    for _attempt in range(2):
        response = client.get("/zh-hans/accounts/login/")
        assert response.status_code == 200
        assert "csrfmiddlewaretoken" in response.content.decode()
        assert "csrftoken" in response.cookies
        assert cache_status(response) is None


def test_response_that_sets_a_cookie_is_never_stored(client, test_views):
    for _attempt in range(2):
        response = client.get("/zh-hans/cookie/")
        assert "seen" in response.cookies
        assert cache_status(response) is None


def test_response_that_uses_a_csrf_token_is_never_stored_even_when_the_visitor_has_the_cookie(client, test_views):
    token_cookie = client.get("/zh-hans/csrf/").cookies["csrftoken"].value
    client.cookies["csrftoken"] = token_cookie
    for _attempt in range(2):
        response = client.get("/zh-hans/csrf/")
        assert cache_status(response) is None


def test_response_with_a_csrf_field_but_no_cookie_is_still_not_stored(rf):
    # The second guard: a token in the body is enough to refuse, whatever the cookies say.
    middleware = AnonymousPageCacheMiddleware(lambda request: HttpResponse('<input name="csrfmiddlewaretoken" value="x">'))
    for _attempt in range(2):
        assert cache_status(middleware(rf.get("/zh-hans/form/"))) is None


def test_a_plain_response_of_the_same_test_views_is_stored(client, test_views):
    assert cache_status(client.get("/zh-hans/plain/")) == "miss"
    assert cache_status(client.get("/zh-hans/plain/")) == "hit"


@pytest.mark.parametrize("url", ["/zh-hans/never-cached/", "/zh-hans/nonce/"])
def test_never_cache_responses_and_csp_nonces_are_not_stored(client, test_views, url):
    for _attempt in range(2):
        response = client.get(url)
        assert response.status_code == 200
        assert cache_status(response) is None


def test_a_response_varying_on_more_than_cookies_is_not_stored(client, test_views):
    # Outside the language prefixes the language comes from Accept-Language (Vary says so).
    for _attempt in range(2):
        response = client.get("/plain/")
        assert "Accept-Language" in response["Vary"]
        assert cache_status(response) is None


def test_visitor_with_a_session_cookie_always_bypasses_the_cache(client, site_pages, django_assert_num_queries):
    anonymous = client.get("/zh-hans/")
    assert cache_status(anonymous) == "miss"
    assert "/zh-hans/me/" not in anonymous.content.decode()

    resident = factories.UserFactory()
    client.force_login(resident)
    for _attempt in range(2):
        response = client.get("/zh-hans/")
        # Not the anonymous page: the resident page cache's, with the logged-in header (test_resident_page_cache.py).
        assert cache_status(response) in ("resident-miss", "resident-hit")
        assert "/zh-hans/me/" in response.content.decode()  # their own "My page" link, not the cached page

    client.logout()
    client.cookies["sessionid"] = "no-such-session"
    assert cache_status(client.get("/zh-hans/")) is None


def test_visitor_with_a_flash_message_cookie_bypasses_the_cache(client, site_pages):
    client.get("/zh-hans/")
    client.cookies["messages"] = "anything"
    assert cache_status(client.get("/zh-hans/")) is None


def test_publishing_a_notice_shows_it_on_the_home_page_at_once(client, site_pages):
    index = factories.notice_index()
    assert "新的停水通知" not in client.get("/zh-hans/").content.decode()
    assert cache_status(client.get("/zh-hans/")) == "hit"

    notice = factories.notice(index, title="新的停水通知", publish=False)
    assert "新的停水通知" not in client.get("/zh-hans/").content.decode()  # a draft changes nothing
    notice.get_latest_revision().publish()

    response = client.get("/zh-hans/")
    assert cache_status(response) == "miss"
    assert "新的停水通知" in response.content.decode()


def test_unpublishing_and_deleting_a_notice_remove_it_at_once(client, site_pages):
    first = factories.notice(title="第一条通知")
    second = factories.notice(title="第二条通知")
    assert "第一条通知" in client.get("/zh-hans/").content.decode()

    first.unpublish()
    html = client.get("/zh-hans/").content.decode()
    assert "第一条通知" not in html and "第二条通知" in html
    assert cache_status(client.get(first.url)) is None  # 404 now, and never stored

    second.delete()
    assert "第二条通知" not in client.get("/zh-hans/").content.decode()


def test_changing_the_footer_settings_shows_at_once(client, site_pages):
    settings_row = PortalSettings.load()
    settings_row.hotline = "0571-11111111"
    settings_row.save()
    assert "0571-11111111" in client.get("/zh-hans/").content.decode()
    settings_row.hotline = "0571-22222222"
    settings_row.save()
    assert "0571-22222222" in client.get("/zh-hans/").content.decode()


def test_a_page_rendered_while_content_was_published_is_never_served_afterwards(rf):
    # A request that read the old content before a publish committed may store its page
    # after the publish: it is stored under the generation it started with, so it is dropped.
    def render_during_publish(request):
        bump_page_cache_generation()
        return HttpResponse("<p>before the publish</p>")

    AnonymousPageCacheMiddleware(render_during_publish)(rf.get("/zh-hans/"))
    response = AnonymousPageCacheMiddleware(lambda request: HttpResponse("<p>after the publish</p>"))(rf.get("/zh-hans/"))

    assert cache_status(response) == "miss"
    assert response.content == b"<p>after the publish</p>"


def test_a_lost_generation_key_empties_the_cache_instead_of_resurrecting_old_pages(client, site_pages):
    client.get("/zh-hans/")
    assert cache_status(client.get("/zh-hans/")) == "hit"
    cache.delete(GENERATION_KEY)  # evicted, or the cache server restarted with old entries on disk
    assert cache_status(client.get("/zh-hans/")) == "miss"


def test_large_text_cookie_gets_its_own_cached_variant(client, site_pages):
    normal = client.get("/zh-hans/")
    assert 'class="text-large' not in normal.content.decode()

    client.cookies["linli_text"] = "large"
    large = client.get("/zh-hans/")
    assert cache_status(large) == "miss"
    assert 'class="text-large' in large.content.decode()
    assert cache_status(client.get("/zh-hans/")) == "hit"

    client.cookies["linli_text"] = "normal"
    again = client.get("/zh-hans/")
    assert cache_status(again) == "hit"
    assert again.content == normal.content


def test_languages_do_not_mix(client, site_pages):
    factories.notice(factories.notice_index("zh-hans"), title="中文通知")
    factories.notice(factories.notice_index("en"), title="English notice")
    for _round in range(2):
        chinese = client.get("/zh-hans/").content.decode()
        english = client.get("/en/").content.decode()
        assert 'lang="zh-hans"' in chinese and "中文通知" in chinese and "English notice" not in chinese
        assert 'lang="en"' in english and "English notice" in english and "中文通知" not in english
    assert cache_status(client.get("/en/")) == "hit"


def test_language_cookie_does_not_change_a_language_prefixed_page(client, site_pages):
    chinese = client.get("/zh-hans/")
    client.cookies["linli_language"] = "en"
    again = client.get("/zh-hans/")
    assert cache_status(again) == "hit"
    assert again.content == chinese.content


def test_hosts_and_schemes_are_cached_apart(rf):
    middleware = AnonymousPageCacheMiddleware(lambda request: HttpResponse(request.build_absolute_uri()))
    assert middleware(rf.get("/zh-hans/", HTTP_HOST="portal.example")).content == b"http://portal.example/zh-hans/"
    other = middleware(rf.get("/zh-hans/", HTTP_HOST="other.example"))
    secure = middleware(rf.get("/zh-hans/", HTTP_HOST="portal.example", secure=True))
    assert cache_status(other) == "miss" and other.content == b"http://other.example/zh-hans/"
    assert cache_status(secure) == "miss" and secure.content == b"https://portal.example/zh-hans/"
    assert cache_status(middleware(rf.get("/zh-hans/", HTTP_HOST="portal.example"))) == "hit"


def test_a_refused_host_is_never_served_from_the_cache(client, site_pages, settings):
    settings.ALLOWED_HOSTS = ["portal.example"]
    assert cache_status(client.get("/zh-hans/", HTTP_HOST="portal.example")) == "miss"
    assert client.get("/zh-hans/", HTTP_HOST="evil.example").status_code == 400
    assert client.get("/zh-hans/", HTTP_HOST="evil.example").status_code == 400


def test_notices_expire_from_the_cached_home_page_at_midnight(client, site_pages, monkeypatch):
    today = timezone.localdate()
    factories.notice(title="今天最后一天", expires_on=today + datetime.timedelta(days=1))
    assert "今天最后一天" in client.get("/zh-hans/").content.decode()
    assert cache_status(client.get("/zh-hans/")) == "hit"

    tomorrow = timezone.now() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: tomorrow)
    response = client.get("/zh-hans/")

    assert cache_status(response) == "miss"
    assert "今天最后一天" not in response.content.decode()


def test_a_cached_page_expires_after_page_cache_seconds(client, site_pages, settings, monkeypatch):
    settings.PAGE_CACHE_SECONDS = 60
    client.get("/zh-hans/")
    assert cache_status(client.get("/zh-hans/")) == "hit"

    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 61)

    assert cache_status(client.get("/zh-hans/")) == "miss"


def test_posts_and_private_areas_are_not_cached(client, site_pages):
    assert cache_status(client.get("/healthz")) is None
    assert cache_status(client.get("/zh-hans/me/")) is None  # redirect to the login page
    assert cache_status(client.post("/zh-hans/")) is None
    assert client.get("/").status_code == 302 and cache_status(client.get("/")) is None  # never_cache


@pytest.mark.parametrize(
    "query",
    ["?q=random-words", "?utm_source=x", "?page=1&page=2", "?page=" + "9" * 40, "?category=a%20b", "?date=%00"],
)
def test_only_short_allow_listed_query_parameters_are_cached(client, site_pages, query):
    # A random query must not become a new cache entry: it is rendered afresh and never stored.
    notices = factories.notice(title="停水通知").get_parent().url
    assert cache_status(client.get(notices + "?category=general&page=1")) == "miss"
    assert cache_status(client.get(notices + "?category=general&page=1")) == "hit"
    before = len(cache._cache)
    for _ in range(2):
        response = client.get(notices + query)
        assert response.status_code in (200, 400, 404)
        assert cache_status(response) is None
    assert len(cache._cache) == before


def test_head_is_served_from_the_cache_but_never_stores(site_pages):
    factory = RequestFactory()
    middleware = AnonymousPageCacheMiddleware(lambda request: HttpResponse("<p>page</p>"))
    assert cache_status(middleware(factory.head("/zh-hans/"))) is None
    assert cache_status(middleware(factory.get("/zh-hans/"))) == "miss"
    assert cache_status(middleware(factory.head("/zh-hans/"))) == "hit"


@pytest.fixture
def redis_cache(settings):
    """The default cache on the real Redis (db 15, a key prefix of its own)."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        skip_or_fail("Redis does not answer on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": f"linli-test-{uuid.uuid4().hex}",
        }
    }
    yield cache
    cache.delete(GENERATION_KEY)


def wait_for(condition, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_with_redis_every_process_hears_of_a_publish_at_once(redis_cache):
    worker = Announcements()  # a gunicorn worker serving pages
    editor = Announcements()  # another process, where an editor publishes
    try:
        first = worker.current()  # starts the worker's subscription
        assert wait_for(lambda: worker.copy is not None), "the worker never subscribed to the announcements"
        assert worker.current() == first == redis_cache.get(GENERATION_KEY)

        editor.publish()
        published = redis_cache.get(GENERATION_KEY)

        assert published != first
        assert wait_for(lambda: worker.current() == published, seconds=1)
    finally:
        worker.stop()


def test_with_redis_a_publish_shows_on_the_next_request(client, site_pages, redis_cache, django_assert_num_queries):
    generation.stop()  # the module's watcher subscribes anew on this Redis
    try:
        client.get("/zh-hans/")
        assert wait_for(lambda: generation.copy is not None)
        with django_assert_num_queries(0):
            assert cache_status(client.get("/zh-hans/")) == "hit"

        factories.notice(title="刚发布的通知")

        assert "刚发布的通知" in client.get("/zh-hans/").content.decode()
    finally:
        generation.stop()


def test_with_redis_copies_are_trusted_only_while_the_subscription_answers(redis_cache, monkeypatch):
    """A connection that died without a word (no answer, no error): within a second nothing is trusted any more,
    and the generation is read from Redis again."""
    import redis

    worker = Announcements()
    try:
        worker.current()
        assert wait_for(worker.confirmed), "the worker never subscribed to the announcements"
        assert worker.known() == redis_cache.get(GENERATION_KEY)
        monkeypatch.setattr(redis.client.PubSub, "ping", lambda self, message=None: None)  # no PING gets through

        assert wait_for(lambda: not worker.confirmed(), seconds=2)
        assert worker.known() is None
        Announcements().publish()
        assert worker.current() == redis_cache.get(GENERATION_KEY)
    finally:
        worker.stop()


def test_with_redis_a_watcher_keeps_the_announced_values_without_reading_them_back(redis_cache, monkeypatch):
    """A generation's value travels with its announcement (set and announced in one MULTI/EXEC): however many
    processes publish at once, the value a watcher keeps is the key's value in Redis, read back never."""
    import threading

    import plumbing.middleware

    worker = Announcements()
    try:
        worker.current()
        assert wait_for(worker.confirmed), "the worker never subscribed to the announcements"
        reads = []
        monkeypatch.setattr(plumbing.middleware, "read_generation", lambda key=GENERATION_KEY: reads.append(key) or "")

        def publish_many() -> None:
            editor = Announcements()
            for _ in range(50):
                editor.publish()

        editors = [threading.Thread(target=publish_many) for _ in range(4)]
        for thread in editors:
            thread.start()
        for thread in editors:
            thread.join()

        assert wait_for(lambda: worker.known() == redis_cache.get(GENERATION_KEY), seconds=2)
        assert reads == []
    finally:
        worker.stop()


def test_with_redis_announcements_of_another_database_are_not_heard(redis_cache):
    """Pub/sub channels are shared by every database of a Redis server: a site on another database with the same key
    prefix announces on a channel of its own, and a value announced there never becomes this one's copy."""
    worker = Announcements()
    try:
        current = worker.current()
        assert wait_for(worker.confirmed), "the worker never subscribed to the announcements"
        client = redis_cache.client.get_client(write=True)
        channel = worker.channel_name()
        assert channel.endswith(":15")
        client.publish(channel[: -len("15")] + "14", f"generation:{GENERATION_KEY}=from-another-database")
        client.publish(channel, "generation:no-such-key=ignored")  # a key this process never asked about
        time.sleep(Announcements.HEARTBEAT * 2)
        assert wait_for(worker.confirmed)
        assert worker.known() == current == redis_cache.get(GENERATION_KEY)
        assert "no-such-key" not in worker.copies
    finally:
        worker.stop()
