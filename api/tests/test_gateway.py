"""The API's gateway (api/gateway.py): one cache round trip per request for the rate limits, the session token and
kept answers; what it keeps never outlives a revoked token, a changed user or another resident's question."""

from __future__ import annotations

import os
import socket
import time
import uuid
from importlib import import_module

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings

from api import gateway
from api.middleware import ApiGatewayMiddleware
from api.testing import assert_problem, token_for
from conftest import skip_or_fail
from events import factories, services
from home.factories import ResidentProfileFactory, VerifiedUserFactory
from plumbing.middleware import GENERATION_KEY, Announcements, generation

PASSWORD = "correct horse battery staple"
BOOKINGS = "/api/v1/me/bookings/"
ACTIVITIES = "/api/v1/activities/"


@pytest.fixture
def cached_sessions(settings):
    """Production's session engine (sessions in the cache, backed by the database): token resolutions are kept."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


def make_resident(name: str):
    user = VerifiedUserFactory(username=name)
    user.set_password(PASSWORD)
    user.save()
    ResidentProfileFactory(user=user)
    return user


@pytest.fixture
def resident(site_pages, cached_sessions):
    return make_resident("gateway-a")


@pytest.fixture
def neighbour(site_pages, cached_sessions):
    return make_resident("gateway-b")


def phone_of(user) -> tuple[Client, str]:
    """A phone client (no cookies) and the user's session token."""
    return Client(), token_for(user)


def warm(phone: Client, token: str, django_assert_num_queries) -> str:
    """The bookings list fetched once (built, kept) and again from what was kept: no query. Its ETag."""
    first = phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token)
    assert first.status_code == 200
    with django_assert_num_queries(0):
        again = phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token)
        assert again.status_code == 200 and again["ETag"] == first["ETag"]
        assert phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    return first["ETag"]


def refused(phone: Client, token: str, etag: str) -> None:
    """Neither the list nor a 304 to the ETag the phone holds: 401."""
    assert_problem(phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token), 401, "not_authenticated")
    assert_problem(phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token, HTTP_IF_NONE_MATCH=etag), 401, "not_authenticated")


# ---------------------------------------------------------------------------
# Session tokens: kept, and never trusted past a change


def test_a_kept_token_and_answer_cost_no_query_and_the_token_still_works_for_writes(resident, django_assert_num_queries):
    phone, token = phone_of(resident)
    warm(phone, token, django_assert_num_queries)
    # Another operation resolves the token from what was kept too: only its own queries.
    assert phone.get("/api/v1/me/household/", HTTP_X_SESSION_TOKEN=token).status_code == 200


def test_logging_out_ends_the_token_at_once_despite_the_kept_resolution(resident, django_assert_num_queries):
    login = Client().post(
        "/_allauth/app/v1/auth/login", {"email": resident.email, "password": PASSWORD}, content_type="application/json"
    )
    token = login.json()["meta"]["session_token"]
    phone = Client()
    etag = warm(phone, token, django_assert_num_queries)
    assert cache.get(gateway.token_key(token)) is not None

    assert phone.delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token).status_code == 401

    assert cache.get(gateway.token_key(token)) is None  # the log-out dropped it
    refused(phone, token, etag)


def test_a_session_ended_elsewhere_ends_its_token_at_once(resident, django_assert_num_queries):
    phone, token = phone_of(resident)
    etag = warm(phone, token, django_assert_num_queries)
    # Ended without a log-out signal (the account page's "log out other devices", an expired session).
    import_module(django_settings.SESSION_ENGINE).SessionStore(token).delete()
    assert cache.get(gateway.token_key(token)) is not None  # still kept, and no longer trusted
    refused(phone, token, etag)


@pytest.mark.parametrize("change", ["deactivated", "new password", "deleted", "erased"])
def test_a_changed_user_is_refused_at_once(resident, change, django_assert_num_queries):
    phone, token = phone_of(resident)
    etag = warm(phone, token, django_assert_num_queries)
    user = get_user_model().objects.get(pk=resident.pk)
    if change == "deactivated":
        user.is_active = False
        user.save()
    elif change == "new password":
        user.set_password("another horse battery staple")
        user.save(update_fields=["password"])
    elif change == "deleted":
        user.delete()
    else:
        from home.services import erase_account

        erase_account(user=user, actor=user)
    refused(phone, token, etag)


def test_a_log_in_elsewhere_keeps_the_tokens_resolution(resident, django_assert_num_queries):
    phone, token = phone_of(resident)
    etag = warm(phone, token, django_assert_num_queries)
    Client().force_login(resident)  # saves last_login only
    with django_assert_num_queries(0):
        assert phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_token_is_resolved_the_long_way_with_a_session_engine_outside_the_cache(site_pages, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    user = make_resident("gateway-db")
    phone, token = phone_of(user)
    assert phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token).status_code == 200
    assert cache.get(gateway.token_key(token)) is None
    user.is_active = False
    user.save()
    assert_problem(phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token), 401, "not_authenticated")


# ---------------------------------------------------------------------------
# Personal answers: whose they are


def test_another_residents_etag_gets_their_own_list(resident, neighbour, django_assert_num_queries):
    """Both have no bookings, so their lists are the same bytes: the tag still tells them apart."""
    phone_a, token_a = phone_of(resident)
    phone_b, token_b = phone_of(neighbour)
    etag_a = warm(phone_a, token_a, django_assert_num_queries)
    etag_b = warm(phone_b, token_b, django_assert_num_queries)
    assert etag_a != etag_b

    answer = phone_b.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token_b, HTTP_IF_NONE_MATCH=etag_a)

    assert answer.status_code == 200 and answer["ETag"] == etag_b
    assert answer.json() == {"items": [], "next": None}


def test_a_resident_never_gets_anothers_kept_list(resident, neighbour, bookable, django_assert_num_queries):
    services.book_session(session=bookable, resident=resident, actor=resident)
    phone_a, token_a = phone_of(resident)
    phone_b, token_b = phone_of(neighbour)
    etag_a = warm(phone_a, token_a, django_assert_num_queries)
    assert len(phone_a.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token_a).json()["items"]) == 1

    answer = phone_b.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token_b, HTTP_IF_NONE_MATCH=etag_a)

    assert answer.status_code == 200 and answer.json()["items"] == []
    assert answer["ETag"] != etag_a


@pytest.fixture
def bookable(site_pages):
    index = factories.activity_index()
    return factories.SessionFactory(activity=factories.activity(parent=index, title="太极", slug="taiji"), capacity=5)


def test_a_new_booking_changes_the_kept_list_at_once(resident, bookable, django_assert_num_queries):
    phone, token = phone_of(resident)
    etag = warm(phone, token, django_assert_num_queries)
    services.book_session(session=bookable, resident=resident, actor=resident)

    answer = phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token, HTTP_IF_NONE_MATCH=etag)
    assert answer.status_code == 200 and len(answer.json()["items"]) == 1


# ---------------------------------------------------------------------------
# Kept answers are the whole stack's answers


def comparable(response) -> dict:
    return {name: value for name, value in response.items() if name not in ("Date",)}


@pytest.mark.parametrize("with_token", [False, True])
def test_a_kept_answer_has_the_headers_of_a_built_one(resident, bookable, with_token, django_assert_num_queries):
    phone, token = phone_of(resident)
    headers = {"HTTP_X_SESSION_TOKEN": token} if with_token else {}
    for path in (ACTIVITIES, BOOKINGS) if with_token else (ACTIVITIES,):
        built = phone.get(path, **headers)
        cache.clear()  # nothing kept: the next answer is built by the whole stack too
        built_304 = phone.get(path, HTTP_IF_NONE_MATCH=built["ETag"], **headers)
        with django_assert_num_queries(0):
            kept = phone.get(path, **headers)
            kept_304 = phone.get(path, HTTP_IF_NONE_MATCH=built["ETag"], **headers)
        assert (kept.status_code, kept.content) == (built.status_code, built.content)
        assert comparable(kept) == comparable(built)
        assert kept_304.status_code == built_304.status_code == 304
        assert comparable(kept_304) == comparable(built_304)


def test_the_public_list_has_one_etag_for_everyone(resident, bookable):
    phone, token = phone_of(resident)
    anonymous = Client().get(ACTIVITIES)
    assert phone.get(ACTIVITIES, HTTP_X_SESSION_TOKEN=token)["ETag"] == anonymous["ETag"]
    assert phone.get(ACTIVITIES, HTTP_X_SESSION_TOKEN=token, HTTP_IF_NONE_MATCH=anonymous["ETag"]).status_code == 304


def test_a_query_the_operation_does_not_read_is_answered_but_not_kept(site_pages, bookable, django_assert_num_queries):
    phone = Client()
    for _ in range(2):
        assert phone.get(ACTIVITIES + "?junk=1").status_code == 200
    assert not any(key.startswith(gateway.KEPT_PREFIX) for key in _kept_keys())
    phone.get(ACTIVITIES + "?limit=5")
    with django_assert_num_queries(0):
        assert phone.get(ACTIVITIES + "?limit=5").status_code == 200


def _kept_keys() -> list[str]:
    return [key.split(":", 2)[-1] for key in cache._cache]  # locmem: "<prefix>:<version>:<key>"


def test_a_browser_session_is_never_answered_from_or_into_a_kept_answer(resident, bookable, django_assert_num_queries):
    browser = Client()
    browser.force_login(resident)
    first = browser.get(BOOKINGS)
    assert first.status_code == 200 and "no-store" in first["Cache-Control"]
    assert not any(key.startswith(gateway.KEPT_PREFIX) for key in _kept_keys())


# ---------------------------------------------------------------------------
# Rate limits still count every request, kept answers too


def test_kept_answers_count_against_the_limits(resident, bookable, settings):
    settings.LINLI_API_RATE_PER_ADDRESS = 0
    settings.LINLI_API_RATE_PER_TOKEN = 3
    phone, token = phone_of(resident)
    for _ in range(3):
        assert phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token).status_code == 200
    response = phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token)
    assert_problem(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1
    settings.LINLI_API_RATE_PER_ADDRESS = 2
    settings.LINLI_API_RATE_PER_TOKEN = 0
    anonymous = Client(REMOTE_ADDR="10.0.0.7")
    assert [anonymous.get(ACTIVITIES).status_code for _ in range(3)] == [200, 200, 429]


# ---------------------------------------------------------------------------
# On Redis: one round trip, or none


@pytest.fixture
def redis_cache(settings, cached_sessions):
    """The default cache on the real Redis (db 15, a key prefix of its own), as in production."""
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
    generation.stop()  # the watcher subscribes anew on this Redis
    yield cache
    generation.stop()
    cache.delete_pattern("*")


@pytest.fixture
def round_trips(monkeypatch):
    """Counts the requests sent to Redis (a pipeline is one)."""
    count = {"n": 0}
    command, execute = redis.client.Redis.execute_command, redis.client.Pipeline.execute

    def counted_command(self, *args, **options):
        if not isinstance(self, redis.client.Pipeline):
            count["n"] += 1
        return command(self, *args, **options)

    def counted_execute(self, *args, **options):
        count["n"] += 1
        return execute(self, *args, **options)

    monkeypatch.setattr(redis.client.Redis, "execute_command", counted_command)
    monkeypatch.setattr(redis.client.Pipeline, "execute", counted_execute)
    return count


def test_with_redis_a_kept_personal_answer_is_one_round_trip_and_no_query(
    resident, bookable, redis_cache, round_trips, settings, django_assert_num_queries
):
    settings.LINLI_API_RATE_PER_ADDRESS = 100
    settings.LINLI_API_RATE_PER_TOKEN = 100
    login = Client().post(
        "/_allauth/app/v1/auth/login", {"email": resident.email, "password": PASSWORD}, content_type="application/json"
    )
    token = login.json()["meta"]["session_token"]
    phone = Client()
    etag = phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token)["ETag"]
    for headers in ({}, {"HTTP_IF_NONE_MATCH": etag}):
        round_trips["n"] = 0
        with django_assert_num_queries(0):
            assert phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token, **headers).status_code in (200, 304)
        assert round_trips["n"] == 1
    # The session's own entry in Redis is what a log-out deletes: refused at once.
    assert phone.delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token).status_code == 401
    refused(phone, token, etag)


def test_with_redis_and_no_limits_a_public_answer_needs_no_round_trip(
    site_pages, bookable, redis_cache, round_trips, settings, django_assert_num_queries
):
    settings.LINLI_API_RATE_PER_ADDRESS = 0
    settings.LINLI_API_RATE_PER_TOKEN = 0
    phone = Client()
    first = phone.get(ACTIVITIES)
    assert _wait_for(lambda: generation.known() is not None)
    round_trips["n"] = 0
    with django_assert_num_queries(0):
        assert phone.get(ACTIVITIES, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert round_trips["n"] == 0
    # Publishing drops it everywhere at once (the page cache's generation).
    factories.SessionFactory(activity=factories.activity(parent=bookable.activity.get_parent(), title="书法", slug="shufa"))
    assert _wait_for(lambda: generation.known() == redis_cache.get(GENERATION_KEY))
    assert "书法" in phone.get(ACTIVITIES).content.decode()


def _wait_for(condition, seconds: float = 5) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


# ---------------------------------------------------------------------------
# On Redis with production's session engine: a token trusted without a round trip, never past its end


class OtherProcessGateway(ApiGatewayMiddleware):
    """The gateway of another worker process: its own announcements' watcher and the tokens it trusts."""

    announcements: Announcements | None = None

    def __init__(self, get_response) -> None:
        super().__init__(get_response, announcements=OtherProcessGateway.announcements)


@pytest.fixture
def announced_sessions(redis_cache, settings):
    """Production's session engine (api/sessions.py): every session it ends is announced."""
    settings.SESSION_ENGINE = "api.sessions"
    return redis_cache


@pytest.fixture
def other_process(announced_sessions, settings):
    """A phone client of another process (its own middleware, watcher and trusted tokens) beside this one's."""
    watcher = OtherProcessGateway.announcements = Announcements()
    middleware = [
        "api.tests.test_gateway.OtherProcessGateway" if path == "api.middleware.ApiGatewayMiddleware" else path
        for path in settings.MIDDLEWARE
    ]

    def phone() -> Client:
        client = Client()
        with override_settings(MIDDLEWARE=middleware):
            client.handler.load_middleware()
        return client

    yield phone, watcher
    watcher.stop()


def settled(*watchers: Announcements) -> None:
    """Each watcher subscribed and holds copies of every generation the kept answers use."""
    keys = gateway.known_generations | {gateway.AUTH_GENERATION}
    for watcher in watchers:
        assert _wait_for(lambda watcher=watcher: len(watcher.known_many(keys)) == len(keys)), "never subscribed"


def trusted_hit(phone: Client, token: str, round_trips, django_assert_num_queries) -> str:
    """The bookings list built, its token checked in a round trip (and trusted from then on), then an ETag hit with
    no round trip and no query. Its ETag."""
    etag = phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token)["ETag"]
    assert phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token, HTTP_IF_NONE_MATCH=etag).status_code == 304
    round_trips["n"] = 0
    with django_assert_num_queries(0):
        assert phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token, HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token).json() == {"items": [], "next": None}
    assert round_trips["n"] == 0
    return etag


def test_with_announced_sessions_a_personal_etag_hit_needs_no_round_trip(
    resident, announced_sessions, round_trips, settings, django_assert_num_queries
):
    settings.LINLI_API_RATE_PER_ADDRESS = 0
    settings.LINLI_API_RATE_PER_TOKEN = 0
    phone, token = phone_of(resident)
    phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token)
    settled(generation)
    trusted_hit(phone, token, round_trips, django_assert_num_queries)
    # A rate limit still counts every request: one round trip, with nothing to read for the token or the answer.
    settings.LINLI_API_RATE_PER_TOKEN = 100
    round_trips["n"] = 0
    assert phone.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token).status_code == 200
    assert round_trips["n"] == 1


def log_out(token: str) -> None:
    assert Client().delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token).status_code == 401


def end_from_the_session_store(token: str) -> None:
    import_module(django_settings.SESSION_ENGINE).SessionStore(token).delete()


def cycle_the_key(token: str) -> None:
    store = import_module(django_settings.SESSION_ENGINE).SessionStore(token)
    store.load()
    store.cycle_key()


def expire(token: str) -> None:
    store = import_module(django_settings.SESSION_ENGINE).SessionStore(token)
    store.set_expiry(1)
    store.save()


@pytest.mark.parametrize(
    "end", [log_out, end_from_the_session_store, cycle_the_key], ids=["log-out", "session store", "key cycled"]
)
def test_a_session_ended_in_one_process_is_refused_by_the_next_request_of_another(
    resident, other_process, round_trips, settings, end, django_assert_num_queries
):
    """No waiting between the end and the next request: the announcement is handled before anything is trusted."""
    settings.LINLI_API_RATE_PER_ADDRESS = 0
    settings.LINLI_API_RATE_PER_TOKEN = 0
    new_phone, watcher = other_process
    login = Client().post(
        "/_allauth/app/v1/auth/login", {"email": resident.email, "password": PASSWORD}, content_type="application/json"
    )
    token = login.json()["meta"]["session_token"]
    here, there = Client(), new_phone()
    here.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token)
    there.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token)
    settled(generation, watcher)
    etag = trusted_hit(here, token, round_trips, django_assert_num_queries)
    assert trusted_hit(there, token, round_trips, django_assert_num_queries) == etag

    end(token)

    refused(there, token, etag)
    refused(here, token, etag)


@pytest.mark.parametrize("change", ["deactivated", "new password", "deleted", "erased"])
def test_a_user_changed_in_one_process_is_refused_by_the_next_request_of_another(
    resident, other_process, round_trips, settings, change, django_assert_num_queries
):
    settings.LINLI_API_RATE_PER_ADDRESS = 0
    settings.LINLI_API_RATE_PER_TOKEN = 0
    new_phone, watcher = other_process
    token = token_for(resident)
    there = new_phone()
    there.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token)
    settled(watcher)
    etag = trusted_hit(there, token, round_trips, django_assert_num_queries)

    user = get_user_model().objects.get(pk=resident.pk)
    if change == "deactivated":
        user.is_active = False
        user.save()
    elif change == "new password":
        user.set_password("another horse battery staple")
        user.save(update_fields=["password"])
    elif change == "deleted":
        user.delete()
    else:
        from home.services import erase_account

        erase_account(user=user, actor=user)

    refused(there, token, etag)


def test_an_expired_session_is_refused_though_trusted_before(
    resident, other_process, round_trips, settings, django_assert_num_queries
):
    """A token is trusted locally at most as long as its session had left when it was checked; a session saved anew
    elsewhere (here with a second to live) is checked again."""
    settings.LINLI_API_RATE_PER_ADDRESS = 0
    settings.LINLI_API_RATE_PER_TOKEN = 0
    new_phone, watcher = other_process
    token = token_for(resident)
    there = new_phone()
    there.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token)
    settled(watcher)
    etag = trusted_hit(there, token, round_trips, django_assert_num_queries)

    expire(token)

    round_trips["n"] = 0
    assert there.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert round_trips["n"] == 1
    assert there.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token, HTTP_IF_NONE_MATCH=etag).status_code == 304
    time.sleep(1.1)
    refused(there, token, etag)


def subscription_of(watcher: Announcements) -> str:
    """The address Redis knows the watcher's subscription by."""
    with socket.socket(fileno=os.dup(watcher._fd)) as sock:
        host, port = sock.getsockname()[:2]
    return f"{host}:{port}"


@pytest.mark.parametrize("retries", [0, 3], ids=["error", "silent reconnection"])
def test_a_lost_subscription_falls_back_to_the_round_trip_and_misses_no_end(
    resident, neighbour, other_process, round_trips, settings, monkeypatch, retries, django_assert_num_queries
):
    """Redis drops the other process's subscription (a restart, a network fault) and a log-out is announced before
    it is subscribed again: that announcement is lost to it, so nothing it trusted before is trusted again without
    being checked. redis-py connects and subscribes again by itself, and with retries says nothing of it."""
    import threading

    from redis.backoff import NoBackoff
    from redis.retry import Retry

    options = {"CONNECTION_POOL_KWARGS": {"retry": Retry(NoBackoff(), retries)}}
    settings.CACHES = {"default": {**settings.CACHES["default"], "OPTIONS": options}}
    settings.LINLI_API_RATE_PER_ADDRESS = 0
    settings.LINLI_API_RATE_PER_TOKEN = 0
    new_phone, watcher = other_process
    token, other_token = token_for(resident), token_for(neighbour)
    there = new_phone()
    for each in (token, other_token):
        there.get(BOOKINGS, HTTP_X_SESSION_TOKEN=each)
    settled(watcher)
    etag = trusted_hit(there, token, round_trips, django_assert_num_queries)
    other_etag = trusted_hit(there, other_token, round_trips, django_assert_num_queries)
    epoch = watcher.epoch
    reconnecting, reconnect = threading.Event(), threading.Event()
    connect = redis.connection.AbstractConnection.connect

    def held_up(self):
        if self._sock is None and threading.current_thread().name == "announcements":
            reconnecting.set()
            reconnect.wait(5)
        return connect(self)

    monkeypatch.setattr(redis.connection.AbstractConnection, "connect", held_up)
    redis.Redis(host="127.0.0.1", port=6379).client_kill_filter(_type="pubsub", addr=subscription_of(watcher))
    try:
        assert reconnecting.wait(5)
        log_out(token)  # announced while the other process is not subscribed
        refused(there, token, etag)
        round_trips["n"] = 0
        assert there.get(BOOKINGS, HTTP_X_SESSION_TOKEN=other_token, HTTP_IF_NONE_MATCH=other_etag).status_code == 304
        assert round_trips["n"] >= 1  # checked in the round trip, as before
    finally:
        reconnect.set()

    assert _wait_for(lambda: watcher.epoch != epoch and watcher.confirmed()), "never subscribed again"
    settled(watcher)
    refused(there, token, etag)
    trusted_hit(there, other_token, round_trips, django_assert_num_queries)


def test_an_announcement_not_yet_handled_is_never_overtaken(
    resident, other_process, round_trips, settings, monkeypatch, django_assert_num_queries
):
    """The other process's watcher is held up (a busy machine): the end waits, unread, and its requests ask Redis."""
    import threading

    settings.LINLI_API_RATE_PER_ADDRESS = 0
    settings.LINLI_API_RATE_PER_TOKEN = 0
    new_phone, watcher = other_process
    token = token_for(resident)
    there = new_phone()
    there.get(BOOKINGS, HTTP_X_SESSION_TOKEN=token)
    settled(watcher)
    etag = trusted_hit(there, token, round_trips, django_assert_num_queries)
    held_up, handled = threading.Event(), Announcements._handle

    def slow_handle(self, *args):
        if self is watcher:
            held_up.wait(5)
        return handled(self, *args)

    monkeypatch.setattr(Announcements, "_handle", slow_handle)
    try:
        log_out(token)
        refused(there, token, etag)
    finally:
        held_up.set()
    refused(there, token, etag)


def test_with_another_cache_a_token_is_never_trusted_without_asking(resident, settings, django_assert_num_queries):
    settings.SESSION_ENGINE = "api.sessions"
    phone, token = phone_of(resident)
    etag = warm(phone, token, django_assert_num_queries)
    assert gateway.token_key(token) not in gateway.tokens.entries
    import_module(django_settings.SESSION_ENGINE).SessionStore(token).delete()
    refused(phone, token, etag)


def test_a_session_put_back_before_its_deletion_committed_is_deleted_again(
    resident, settings, django_capture_on_commit_callbacks
):
    """cached_db deletes the cache's entry at once and the row on commit: a request reading the row meanwhile puts
    the session back in the cache, where the token would still be found. The commit deletes it again."""
    settings.SESSION_ENGINE = "api.sessions"
    token = token_for(resident)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    entry = store.cache_key_prefix + token
    data = store(token).load()
    with django_capture_on_commit_callbacks(execute=True):
        store(token).delete()
        cache.set(entry, data)  # as cached_db's load() does from the row it still sees
    assert cache.get(entry) is None
    assert_problem(Client().get(BOOKINGS, HTTP_X_SESSION_TOKEN=token), 401, "not_authenticated")
