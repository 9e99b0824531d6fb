"""Site-wide middleware: the anonymous and the resident page caches, CSP for public pages, no caching of personal
responses, staff TOTP."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import select
import threading
import time
import uuid
import weakref

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache, caches
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.cache import cc_delim_re, patch_vary_headers

from plumbing import personal

logger = logging.getLogger(__name__)

GENERATION_KEY = "page-cache:generation"
PAGE_KEY_PREFIX = "page-cache:page:"
RESIDENT_KEY_PREFIX = "page-cache:resident:"
TEXT_SIZE_COOKIE = "linli_text"
CACHE_STATUS_HEADER = "X-Page-Cache"

# Never served from or stored into the cache: private, per-visitor or already fast paths.
# Language-prefixed paths are checked without their /zh-hans or /en prefix.
EXCLUDED_PREFIXES = (
    "/admin/",
    "/django-admin/",
    "/documents/",
    "/static/",
    "/media/",
    "/healthz",
    "/text-size/",
    "/language/",
    "/calendar/",
    "/api/",  # the JSON API answers per token and language, with its own ETags
    "/_allauth/",
)
EXCLUDED_LOCALIZED_PREFIXES = ("/accounts/", "/me/")
# Pages under those that logged-in residents may still share (their personal parts hold all that is theirs): My page.
RESIDENT_PAGES_UNDER_EXCLUDED = ("/me/",)
# Responses that vary only on cookies may be shared: the key holds the one cookie pages read.
SHAREABLE_VARY = {"cookie"}
# Pages each worker process keeps in its own memory (about 10-30 kB each).
LOCAL_PAGES = 500
# Query parameters of public lists and calendars whose pages may be cached, each given once with a
# short plain value (a page number, a date, a filter's code). Any other query (a search's free text,
# tracking tags, junk) is rendered afresh and never stored, so random queries cannot fill the cache.
CACHEABLE_PARAMETERS = frozenset(
    {"page", "view", "date", "kind", "category", "age", "community", "from", "to", "free", "status", "period"}
)
CACHEABLE_VALUE = re.compile(r"[0-9A-Za-z_-]{0,16}")


def _redis_client():
    """The raw Redis client of the default cache, or None for other cache backends."""
    from django_redis.cache import RedisCache

    backend = caches["default"]
    return backend.client.get_client(write=True) if isinstance(backend, RedisCache) else None


def read_generation(key: str = GENERATION_KEY) -> str:
    """A generation's current value from the shared cache (made when there is none)."""
    token = cache.get(key)
    if token is None:
        token = uuid.uuid4().hex
        if not cache.add(key, token, None):
            token = cache.get(key, token)
    return token


def _unread(fd: int, wait: float = 0) -> bool:
    """Whether the socket holds something not read yet (a closed one counts as such), without reading it; waits
    at most `wait` seconds for something to come."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(wait * 1000))


class Resubscribed(ConnectionError):
    """redis-py made the connection again by itself: announcements may have been lost meanwhile."""


class Announcements:
    """What changed, heard by every process at once: new generations, and the end of what processes keep copies of.

    Whoever starts a new generation (`publish`: the publish generation, the bookings', the API's auth generation) or
    ends something processes may hold (`announce`: a session) says so on one Redis pub/sub channel. With Redis, a
    thread per process subscribes to it, keeps a copy of each generation it was asked about (`known`) and tells the
    listeners (`listen`) of the rest: a cache hit then needs no round trip at all.

    The copies are trusted only while the subscription is confirmed healthy (`confirmed`):
    - subscribed first, read second: no announcement can fall between the two;
    - a PING through the subscription answered less than HEALTHY_FOR ago (one is sent every HEARTBEAT), so that
      every announcement made before that PING has been handled, even on a connection that died silently;
    - nothing received and not handled yet: the socket is polled, and the thread says when it is reading, so an
      announcement that reached this process before a request began is handled before the request trusts a copy;
    - never reconnected behind the thread's back (redis-py connects and subscribes again by itself): messages may
      have been lost meanwhile, so every copy is dropped (`epoch` moves on) and read again after subscribing.
    Whenever it is not, and with any other cache, `known` answers None and callers read the shared cache (one round
    trip, as without copies). Either way a change anywhere is seen by the next request everywhere.
    """

    HEARTBEAT = 0.25  # seconds between PINGs through the subscription
    HEALTHY_FOR = 1.0  # seconds an answered PING confirms the subscription
    CHECK_EVERY = 30  # seconds; every copy is also read again this often (a generation made without announcement)

    def __init__(self) -> None:
        self.copies: dict[str, str] = {}  # replaced whole on every change: readers need no lock
        self.watched: frozenset[str] = frozenset({GENERATION_KEY})
        self.epoch = 0  # moves on whenever the copies stop being trusted: what was kept under an older one is not
        self.listeners: dict[str, list] = {}
        self._confirmed = 0.0  # time.monotonic() when the last answered PING was sent
        self._reading = False
        self._fd: int | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    @property
    def copy(self) -> str | None:
        """The publish generation's copy (None before the subscription's first read)."""
        return self.copies.get(GENERATION_KEY)

    def confirmed(self) -> bool:
        """Whether this process's copies are up to date now (see above). Starts the watcher."""
        if self._pid != os.getpid():
            self._start_watching()
            return False
        fd = self._fd
        if fd is None or time.monotonic() - self._confirmed > self.HEALTHY_FOR:
            return False
        # The socket first, the flag second: the thread raises the flag before it reads the socket.
        return not _unread(fd) and not self._reading and self._fd == fd

    def known(self, key: str = GENERATION_KEY) -> str | None:
        """This process's copy of a generation when it is up to date (Redis), else None: read the key then (in one
        round trip with other reads). Starts watching the key."""
        return self.known_many((key,)).get(key)

    def known_many(self, keys) -> dict[str, str]:
        """The up-to-date copies of those generations (the ones this process has); {} when none can be trusted."""
        if not self.watched.issuperset(keys):
            self.watch(keys)
        if not self.confirmed():
            return {}
        copies = self.copies
        return {key: copies[key] for key in keys if key in copies}

    def current(self, key: str = GENERATION_KEY) -> str:
        value = self.known(key)
        return value if value is not None else read_generation(key)

    def watch(self, keys) -> None:
        """Keep copies of these generations too (read by the thread within a HEARTBEAT)."""
        with self._lock:
            self.watched = self.watched.union(keys)

    def publish(self, key: str = GENERATION_KEY) -> None:
        """A new generation of `key` (a fresh random token, never a counter: a key the cache lost cannot come back
        with an old value), announced to every process."""
        token = uuid.uuid4().hex
        client = _redis_client()
        if client is None:
            cache.set(key, token, None)
        with self._lock:
            if key in self.copies:
                self.copies = {**self.copies, key: token}  # this process sees its own change at once
        if client is not None:
            # The new value and its announcement as one: MULTI/EXEC runs both before any other command, so the
            # announcements of a key reach every watcher in the order its values were set, and the last one it
            # hears is the key's value (the watcher trusts it without reading it back).
            pipe = client.pipeline(transaction=True)
            pipe.set(cache.client.make_key(key), cache.client.encode(token))
            self._announce(client, pipe, "generation", f"{key}={token}")

    def announce(self, kind: str, name: str) -> None:
        """Tell every process (this one at once) that `name` changed or ended; `listen`ers of `kind` hear it."""
        client = _redis_client()
        if client is not None:
            self._announce(client, client.pipeline(transaction=False), kind, name)
        for listener in self.listeners.get(kind, ()):
            listener(name)

    def _announce(self, client, pipe, kind: str, name: str) -> None:
        pipe.publish(self.channel_name(), f"{kind}:{name}")
        pipe.execute()
        # Redis writes what a command sends to subscribers before it reads another command: once this PING is
        # answered, the announcement is in every subscriber's socket (see confirmed()), not merely on its way.
        client.ping()

    def listen(self, kind: str, listener) -> None:
        self.listeners.setdefault(kind, []).append(listener)

    @staticmethod
    def channel_name() -> str:
        """The channel of this site's cache: its key prefix and its Redis database (channels are shared by all the
        databases of a Redis server, and a value announced must be the value of the key in this one)."""
        client = _redis_client()
        database = client.connection_pool.connection_kwargs.get("db", 0) if client is not None else 0
        return f"{cache.make_key(GENERATION_KEY)}:announcements:{database}"

    def _start_watching(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()  # after a fork, the child starts its own watcher
            self._lose()
            if _redis_client() is not None:
                self._stop = threading.Event()
                threading.Thread(target=self._watch, args=(self._stop,), name="announcements", daemon=True).start()

    def stop(self) -> None:
        """End the watcher (tests); the next request starts a new one."""
        with self._lock:
            self._stop.set()
            self._lose()
            self._pid = None

    def _lose(self) -> None:
        """Trust nothing kept so far (called with the lock held)."""
        self._fd = None
        self._confirmed = 0.0
        self.copies = {}
        self.epoch += 1

    def _read(self, stop: threading.Event, keys) -> None:
        values = {key: read_generation(key) for key in keys}
        with self._lock:
            if not stop.is_set():
                self.copies = {**self.copies, **values}

    def _watch(self, stop: threading.Event) -> None:
        while not stop.is_set():
            pubsub = None
            try:
                pubsub = _redis_client().pubsub()
                pubsub.subscribe(self.channel_name())
                while (message := pubsub.get_message(timeout=1)) is None or message["type"] != "subscribe":
                    if stop.is_set():
                        return
                # Subscribed first, read second: no announcement can fall between the two.
                self._read(stop, self.watched)
                with self._lock:
                    if stop.is_set():
                        return
                    self._fd = pubsub.connection._sock.fileno()
                self._listen(stop, pubsub)
            except Exception:  # noqa: BLE001  (any failure: read per request until subscribed again)
                with self._lock:
                    if not stop.is_set():
                        self._lose()
                logger.warning("announcements: lost the subscription; reading generations per request", exc_info=True)
                stop.wait(1)
            finally:
                if pubsub is not None:
                    pubsub.close()

    def _listen(self, stop: threading.Event, pubsub) -> None:
        pings: dict[bytes, float] = {}
        number, sent, checked = 0, 0.0, time.monotonic()
        fd = self._fd
        while not stop.is_set():
            _unread(fd, self.HEARTBEAT)
            self._reading = True  # before the socket is read: see confirmed()
            try:
                while (message := pubsub.get_message(timeout=0)) is not None:
                    self._handle(stop, message, pings)
                now = time.monotonic()
                if now - sent >= self.HEARTBEAT:
                    number, sent = number + 1, now
                    pings[str(number).encode()] = now
                    pubsub.ping(str(number))
                if now - checked > self.CHECK_EVERY:
                    self._read(stop, self.watched)
                    checked = now
                elif not self.watched.issubset(self.copies):
                    self._read(stop, self.watched.difference(self.copies))
            except BaseException:
                with self._lock:  # before the flag drops: nothing is trusted in between
                    if not stop.is_set():
                        self._lose()
                raise
            finally:
                self._reading = False

    def _handle(self, stop: threading.Event, message: dict, pings: dict[bytes, float]) -> None:
        kind = message["type"]
        if kind == "subscribe":
            raise Resubscribed("the announcements' connection was made again")
        if kind == "pong":
            sent = pings.pop(message["data"], None)
            if sent is not None:
                for older in [number for number, when in pings.items() if when < sent]:
                    del pings[older]
                self._confirmed = sent
            return
        if kind != "message":
            return
        what, _colon, name = message["data"].decode(errors="replace").partition(":")
        if what == "generation":
            # The value as announced (publish): set with its announcement in one MULTI/EXEC, in this database.
            key, _equals, token = name.partition("=")
            if key in self.watched and token:
                with self._lock:
                    if not stop.is_set():
                        self.copies = {**self.copies, key: token}
        else:
            for listener in self.listeners.get(what, ()):
                listener(name)


generation = Announcements()


def bump_page_cache_generation() -> None:
    """Invalidate every cached page at once (called when content is published).

    A generation is a fresh random token, not a counter: if the cache ever loses the
    key (eviction, restart), the next token still cannot match an old entry.
    """
    generation.publish()


def _language_prefixes() -> tuple[str, ...]:
    return tuple(f"/{code}/" for code, _name in settings.LANGUAGES)


class AnonymousPageCacheMiddleware:
    """Serve anonymous GETs of public pages from the cache, without touching the database.

    Only visitors without a session or messages cookie are served from or stored into the
    cache, and only responses that set no cookie, carry no CSRF token or CSP nonce and
    vary on nothing but cookies are stored, so a cached page never carries somebody's
    session, CSRF token or messages.

    The key holds the scheme, host, path with query string, today's date (notices expire
    at midnight) and the text-size variant. An entry carries the publish generation seen
    when its request *started* and its expiry time; it is served only while that
    generation is the current one, so publishing (a new generation) empties the cache at
    once, and a page rendered from data read before a publish is never served after it.

    Entries live in the shared cache and, for the hot pages, in this process's memory too:
    with Redis (see Announcements) a hit then costs no query and no round trip.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.localized_excluded = tuple(
            language + prefix[1:] for language in _language_prefixes() for prefix in EXCLUDED_LOCALIZED_PREFIXES
        )
        self.pages: dict[str, tuple] = {}
        self.pages_lock = threading.Lock()

    def __call__(self, request):
        if not self.cacheable_request(request):
            return self.get_response(request)
        key = self.key(request)
        now = time.time()
        current = generation.current()
        entry = self.pages.get(key)
        if entry is None or entry[0] != current or entry[1] < now:
            entry = cache.get(key)  # the shared cache expires its entries itself
            if entry is None or entry[0] != current:
                entry = None
            else:
                self.remember(key, entry)
        if entry is not None:
            _generation, _expires, status, headers, content = entry
            response = HttpResponse(content, status=status, headers=headers)
            response[CACHE_STATUS_HEADER] = "hit"
            return response
        response = self.get_response(request)
        if request.method == "GET" and self.cacheable_response(request, response):
            headers = {name: value for name, value in response.items() if name != CACHE_STATUS_HEADER}
            # A page with live figures (seats left) asks for a shorter life: page_cache_seconds.
            seconds = min(getattr(response, "page_cache_seconds", settings.PAGE_CACHE_SECONDS), settings.PAGE_CACHE_SECONDS)
            entry = (current, now + seconds, response.status_code, headers, response.content)
            cache.set(key, entry, seconds)
            self.remember(key, entry)
            response[CACHE_STATUS_HEADER] = "miss"
        return response

    def remember(self, key: str, entry: tuple) -> None:
        with self.pages_lock:
            self.pages.pop(key, None)
            if len(self.pages) >= LOCAL_PAGES:
                del self.pages[next(iter(self.pages))]  # the oldest
            self.pages[key] = entry

    def cacheable_request(self, request) -> bool:
        if request.method not in ("GET", "HEAD"):
            return False
        # A visitor with a session or a flash message may see something personal.
        cookies = request.COOKIES
        if settings.SESSION_COOKIE_NAME in cookies or CookieStorage.cookie_name in cookies:
            return False
        path = request.path
        return (
            not path.startswith(EXCLUDED_PREFIXES)
            and not path.startswith(self.localized_excluded)
            and self.cacheable_query(request.GET)
        )

    @staticmethod
    def cacheable_query(query) -> bool:
        return all(
            name in CACHEABLE_PARAMETERS and len(values) == 1 and CACHEABLE_VALUE.fullmatch(values[0])
            for name, values in query.lists()
        )

    @staticmethod
    def key(request) -> str:
        # The raw Host header is safe here: a host that ALLOWED_HOSTS refuses gets a 400,
        # which is never stored, so no entry can exist for it.
        raw = "\n".join(
            (
                request.scheme,
                request.META.get("HTTP_HOST", ""),
                request.get_full_path(),
                timezone.localdate().isoformat(),
                "large" if request.COOKIES.get(TEXT_SIZE_COOKIE) == "large" else "",
            )
        )
        return PAGE_KEY_PREFIX + hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def cacheable_response(request, response) -> bool:
        if response.status_code != 200 or response.streaming or response.cookies:
            return False
        cache_control = {part.split("=")[0].strip().lower() for part in cc_delim_re.split(response.get("Cache-Control", ""))}
        if cache_control & {"private", "no-cache", "no-store"}:
            return False
        vary = {part.strip().lower() for part in cc_delim_re.split(response.get("Vary", "")) if part.strip()}
        if not vary <= SHAREABLE_VARY:
            return False  # e.g. Accept-Language on a path without a language prefix
        if isinstance(getattr(request, "_csp_nonce", None), str):
            return False  # a nonce must be fresh on every response
        # CsrfViewMiddleware sets a cookie whenever a token was used; the marker is a second guard.
        return b"csrfmiddlewaretoken" not in response.content


class LocalCopies:
    """A process's copies of values that change only with the publish generation (or their own expiry), at most
    `size` of them, the oldest dropped first: read without any round trip while the generation stays."""

    every: weakref.WeakSet[LocalCopies] = weakref.WeakSet()

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: dict = {}
        self.lock = threading.Lock()
        LocalCopies.every.add(self)

    @classmethod
    def forget_all(cls) -> None:
        """Empty every process's copies (the tests do between tests: their users and pages reuse ids)."""
        for copies in list(cls.every):
            with copies.lock:
                copies.entries.clear()

    def get(self, key, current: str):
        entry = self.entries.get(key)
        if entry is None or entry[0] != current or entry[1] < time.time():
            return None
        return entry[2]

    def put(self, key, current: str, value, seconds: float) -> None:
        with self.lock:
            self.entries.pop(key, None)
            if len(self.entries) >= self.size:
                del self.entries[next(iter(self.entries))]  # the oldest
            self.entries[key] = (current, time.time() + seconds, value)


_shared_parts = LocalCopies(2000)


def shared_part(key: tuple, make, seconds: float | None = None):
    """A value every visitor shares (the footer, the language switcher's links), made once per publish generation
    (and at most every `seconds`, PAGE_CACHE_SECONDS by default) in each process: a change that empties the
    anonymous page cache makes it again."""
    current = generation.current()
    value = _shared_parts.get(key, current)
    if value is None:
        value = make()
        _shared_parts.put(key, current, value, settings.PAGE_CACHE_SECONDS if seconds is None else seconds)
    return value


ADMIN_LINK_SECONDS = 60  # how long the header's admin link may outlive a withdrawn permission (the admin checks it)


_admin_links = LocalCopies(5000)


def links_to_admin(user) -> bool:
    """Whether the header links this visitor to the admin: their permission, kept a minute per person in each
    process (two queries otherwise on every page); the admin itself checks the permission on every request."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    current = generation.current()  # an emptied cache forgets them too (the tests' users reuse ids)
    answer = _admin_links.get(user.pk, current)
    if answer is None:
        answer = user.has_perm("wagtailadmin.access_admin")
        _admin_links.put(user.pk, current, answer, ADMIN_LINK_SECONDS)
    return answer


class ResidentPageCacheMiddleware:
    """Public pages for logged-in residents from a cache: the shared text once, the personal parts per request.

    A page opts in by setting `shared_with_residents` on its response (the home page, the activity list,
    activity pages and My page); everything on it that differs between residents is a personal part
    (`plumbing/personal.py`: the messages, an activity's sessions with the resident's bookings and booking forms,
    My page's profile and account), rendered per request.
    The key is the anonymous cache's (scheme, host, path and query, day, text size) plus what the shared text
    shows of the visitor: logged in, the text size of their profile, whether the header links to the admin.
    Entries follow the anonymous cache's rules: the publish generation seen when the request started and the
    page's own lifetime (`page_cache_seconds`), and nothing with a cookie, a CSRF token or a nonce outside the
    personal parts is kept.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.anonymous = AnonymousPageCacheMiddleware(get_response)
        self.pages = LocalCopies(LOCAL_PAGES)
        self.shared_under_excluded = {
            language + path[1:] for language in _language_prefixes() for path in RESIDENT_PAGES_UNDER_EXCLUDED
        }

    def __call__(self, request):
        if not self.cacheable_request(request):
            return self.get_response(request)
        key = self.key(request)
        current = generation.current()
        entry = self.pages.get(key, current)
        if entry is None:
            entry = cache.get(key)
            if entry is not None and entry[0] == current:
                self.pages.put(key, current, entry, entry[1] - time.time())
            else:
                entry = None
        if entry is not None:
            _generation, _expires, status, headers, chunks = entry
            response = HttpResponse(personal.fill(request, chunks), status=status, headers=headers)
            response[CACHE_STATUS_HEADER] = "resident-hit"
            return response
        setattr(request, personal.COLLECTING, True)
        response = self.get_response(request)
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            return response
        charset = response.charset
        chunks, plain = personal.split(response.content.decode(charset))
        response.content = plain.encode(charset)
        if (
            request.method == "GET"
            and getattr(response, "shared_with_residents", False)
            and self.storable(request, response, chunks)
        ):
            headers = {name: value for name, value in response.items() if name not in (CACHE_STATUS_HEADER, "Content-Length")}
            seconds = min(getattr(response, "page_cache_seconds", settings.PAGE_CACHE_SECONDS), settings.PAGE_CACHE_SECONDS)
            entry = (current, time.time() + seconds, response.status_code, headers, chunks)
            cache.set(key, entry, seconds)
            self.pages.put(key, current, entry, seconds)
            response[CACHE_STATUS_HEADER] = "resident-miss"
        return response

    def cacheable_request(self, request) -> bool:
        if request.method not in ("GET", "HEAD"):
            return False
        path = request.path
        return (
            not path.startswith(EXCLUDED_PREFIXES)
            and (not path.startswith(self.anonymous.localized_excluded) or path in self.shared_under_excluded)
            and self.anonymous.cacheable_query(request.GET)
            and request.user.is_authenticated
        )

    def key(self, request) -> str:
        user = request.user
        cookie = request.COOKIES.get(TEXT_SIZE_COOKIE)
        if cookie is None:  # as the context processor decides (home.context_processors.portal)
            profile = getattr(user, "profile", None)
            large = bool(profile and profile.large_text)
        else:
            large = cookie == "large"
        variant = f"resident{':large' if large else ''}{':admin' if links_to_admin(user) else ''}"
        return RESIDENT_KEY_PREFIX + self.anonymous.key(request).removeprefix(PAGE_KEY_PREFIX) + ":" + variant

    @staticmethod
    def storable(request, response, chunks: list) -> bool:
        """The anonymous cache's rules (`cacheable_response`), applied to the shared text only: the personal parts
        may carry a CSRF token, which is then set as a cookie by CsrfViewMiddleware, outside this one."""
        if response.status_code != 200 or response.cookies:
            return False
        cache_control = {part.split("=")[0].strip().lower() for part in cc_delim_re.split(response.get("Cache-Control", ""))}
        if cache_control & {"private", "no-cache", "no-store"}:
            return False
        vary = {part.strip().lower() for part in cc_delim_re.split(response.get("Vary", "")) if part.strip()}
        if not vary <= SHAREABLE_VARY or isinstance(getattr(request, "_csp_nonce", None), str):
            return False
        return not any("csrfmiddlewaretoken" in chunk for chunk in chunks if isinstance(chunk, str))


class PublicContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp on public pages; the Wagtail and Django admins are exempt (inline scripts).

    The admin is protected instead by login, TOTP and X-Frame-Options: DENY.
    """

    def process_response(self, request, response):
        if request.path.startswith(settings.LINLI_CSP_EXEMPT_PREFIXES):
            return response
        return super().process_response(request, response)


# Personal whoever asks (a key or token in the address, or a page about the visitor).
PERSONAL_PREFIXES = ("/admin/", "/django-admin/", "/calendar/")
PERSONAL_LOCALIZED_PREFIXES = ("/me/", "/accounts/", "/mailbox/track/")


class PrivateResponseMiddleware:
    """Personal responses carry `Cache-Control: private, no-store`, decided here once for the site.

    Personal are: everything a logged-in visitor gets (their name is in the header), and the
    personal addresses whoever asks (/me/, accounts, a letter's tracking page, calendar feeds,
    the admin). Neither a shared proxy nor the phone's disk cache then keeps a ticket, a data
    export, a statement or a CSV of residents.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.localized = tuple(
            language + prefix[1:] for language in _language_prefixes() for prefix in PERSONAL_LOCALIZED_PREFIXES
        )

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        path = request.path
        if (user is not None and user.is_authenticated) or path.startswith(PERSONAL_PREFIXES) or path.startswith(self.localized):
            directives = {part.split("=")[0].strip().lower() for part in cc_delim_re.split(response.get("Cache-Control", ""))}
            if not {"private", "no-store"} <= directives or "public" in directives:
                response["Cache-Control"] = "private, no-store"  # never_cache's stricter header is kept
            patch_vary_headers(response, ("Cookie",))
        return response


class StaffMfaMiddleware:
    """Staff must set up TOTP before they may use the Wagtail admin or the Django admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.LINLI_STAFF_MFA_REQUIRED
            and request.path.startswith(("/admin/", "/django-admin/"))
            and request.user.is_authenticated
            and (request.user.is_staff or request.user.has_perm("wagtailadmin.access_admin"))
            and not self.has_totp(request.user)
        ):
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def has_totp(user) -> bool:
        from allauth.mfa.models import Authenticator

        return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
