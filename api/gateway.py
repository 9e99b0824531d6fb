"""At most one cache round trip per API request: its rate limits, its session token and, for a kept answer, the
answer; none for a kept answer whose every check this process can make without asking.

`ApiGatewayMiddleware` (api/middleware.py) sends, before Django's sessions, locale, auth and URL resolution run,
one pipelined request to the shared cache that

- counts the request against its client address and its session token (a fixed window, as before);
- reads what the session token needs (the token's kept resolution, the session itself, the auth generation),
  unless this process trusts the token already (below);
- reads the kept answer of a hot read (`shared_json`) and the generations it was built under, unless this process
  knows them (below).

A kept answer still valid is answered from there (200, or 304 to its ETag) without a query; anything else goes on
down the stack with what was read, so that the endpoint's authentication and `shared_json` ask the cache nothing
more. Each worker also holds the kept answers it served in memory: the round trip then reads only what decides
whether they are still valid. With Redis the round trip is one pipeline (one MGET when no limit counts); with
another cache (locmem in tests, files without Redis) the same reads and counts are made one by one.

With Redis each process also keeps copies of the generations (the publish generation, the auth generation, those
its kept answers were built under), kept up to date by its announcements' watcher (plumbing.middleware.
Announcements: whoever starts a new generation announces it on a pub/sub channel) and trusted only while that
subscription is confirmed healthy. Where no rate limit counts the request, a kept answer whose generations and
token this process knows costs no round trip at all.

**Session tokens.** A token is a session key (allauth's session-token strategy). Resolving one the long way costs
the session (from the cache with `cached_db`) and the user's row; its result is kept under an HMAC of the token
for AUTH_SECONDS and trusted only while, at every request:

- the session is still in the session cache (logging out, ending or cycling a session deletes it there at once),
  names the same user and the same password hash, and an authentication backend still configured;
- the auth generation has not changed since: any change to a user row (deactivation, a new password, erasure,
  deletion; not the log-in time) starts a new one, now and again on commit (api/signals.py).

A token that fails any of these is resolved the long way again (allauth's `authenticate_by_x_session_token`,
then `is_active`), so a revoked token, a deactivated, erased or deleted user is refused on the next request.
Only session engines that keep the session in the default cache (`cached_db`, `cache`) can be checked in the
round trip; with others every token is resolved the long way, as before.

A process may skip those checks for a token only while nothing can have failed them since it last made them in a
round trip (`LocalTokens`): with production's session engine (api/sessions.py), which announces every session it
ends or saves anew, and its announcements' subscription confirmed healthy all along; until the session's time to
live, AUTH_SECONDS, a new auth generation or an announcement about its session, whichever comes first. An
announcement is in every process's socket before the change that made it returns, and a process with anything
unread or unhandled trusts nothing: the rule above holds for the next request in every process. Whenever the
subscription is not confirmed (starting, lost, made again by redis-py behind the watcher's back), and with any
other cache or session engine, every token is checked in the round trip.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import pickle
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import cache, caches
from django.db import transaction
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from plumbing.middleware import GENERATION_KEY, Announcements, generation
from plumbing.network import client_address

AUTH_GENERATION = "api-auth:generation"
AUTH_SECONDS = 300  # a kept resolution is trusted at most this long, whatever happens (a backstop)
KEPT_PREFIX = "api-kept:"
KEPT_VERSION = 1  # of what is kept (answers, token resolutions): an entry of another version is not read
LOCAL_TOKENS = 5000  # token resolutions each process trusts without a round trip (LocalTokens)
RATE_PREFIX = "api-rate:"
REFRESH_MARGIN = 1.0  # seconds before a kept answer expires when one request per process builds it again
SESSION_KEY_FORM = re.compile(r"[0-9a-z]{8,64}")  # Django's session keys: 32 of [0-9a-z]
# Generations that kept answers were built under, besides the publish generation: each process learns them from
# the answers it builds (`shared_json(..., generations=...)`) and reads them in every later round trip.
known_generations: frozenset[str] = frozenset({GENERATION_KEY})  # replaced, never changed: read by every request


# ---------------------------------------------------------------------------
# The round trip


def _redis_client():
    from django_redis.cache import RedisCache

    backend = caches["default"]
    return backend.client.get_client(write=True) if isinstance(backend, RedisCache) else None


def _count_one_by_one(key: str, window: int) -> int:
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request
        if cache.add(key, 1, timeout=window + 1):
            return 1
        return cache.incr(key)  # another request began the window meanwhile


def round_trip(
    counters: list[str], keys: list[str], window: int, lifetimes: tuple[str, ...] = ()
) -> tuple[list[int], dict, dict]:
    """Count one request on each counter (a fixed window of `window` seconds) and read `keys`: one pipeline with
    Redis, else one call per counter and one get_many. The counts, the values found (absent keys left out) and,
    with Redis, the seconds each of `lifetimes` has left (None: it never expires; absent keys left out)."""
    if not counters and not keys and not lifetimes:
        return [], {}, {}  # everything is known here: no round trip
    client = _redis_client()
    if client is None:
        counts = [_count_one_by_one(key, window) for key in counters]
        return counts, (cache.get_many(keys) if keys else {}), {}
    made = [cache.client.make_key(key) for key in keys]
    if not counters and not lifetimes:
        found = client.mget(made) if made else []
        return [], {key: cache.client.decode(raw) for key, raw in zip(keys, found, strict=True) if raw is not None}, {}
    pipe = client.pipeline(transaction=False)
    for key in counters:
        raw = cache.client.make_key(key)
        pipe.incr(raw)
        pipe.expire(raw, window + 1)  # the key names its window: it only has to outlive it
    for key in lifetimes:
        pipe.pttl(cache.client.make_key(key))
    if made:
        pipe.mget(made)
    results = pipe.execute()
    counts = [int(count) for count in results[0 : 2 * len(counters) : 2]]
    left = {}
    for key, milliseconds in zip(lifetimes, results[2 * len(counters) : 2 * len(counters) + len(lifetimes)], strict=True):
        if milliseconds == -1 or milliseconds >= 0:
            left[key] = None if milliseconds == -1 else milliseconds / 1000
    values = {}
    if made:
        values = {key: cache.client.decode(raw) for key, raw in zip(keys, results[-1], strict=True) if raw is not None}
    return counts, values, left


@dataclass
class Prefetched:
    """What the gateway read for this request: the keys it asked for (`asked`) and the values it found; for a session
    token that this process may trust without asking next time, the session's seconds left (`lifetimes`), the
    `tokens` that would keep it and their `mark` taken before the round trip."""

    asked: frozenset[str] = frozenset()
    values: dict = field(default_factory=dict)
    lifetimes: dict = field(default_factory=dict)
    tokens: LocalTokens | None = None
    mark: tuple | None = None

    def has(self, *keys: str) -> bool:
        return all(key in self.asked for key in keys)


def prefetched(request: HttpRequest) -> Prefetched:
    return getattr(request, "_api_prefetched", None) or Prefetched()


# ---------------------------------------------------------------------------
# Rate limits


def rate_counters(request: HttpRequest) -> list[tuple[str, int]]:
    """The counters this request counts on (key, limit), in the current window."""
    bucket = int(time.time() // settings.LINLI_API_RATE_WINDOW_SECONDS)
    counters = []
    if settings.LINLI_API_RATE_PER_ADDRESS:
        counters.append((f"{RATE_PREFIX}addr:{client_address(request)}:{bucket}", settings.LINLI_API_RATE_PER_ADDRESS))
    token = request.headers.get("X-Session-Token")
    if token and settings.LINLI_API_RATE_PER_TOKEN:
        digest = hashlib.sha256(token.encode()).hexdigest()[:32]
        counters.append((f"{RATE_PREFIX}token:{digest}:{bucket}", settings.LINLI_API_RATE_PER_TOKEN))
    return counters


def seconds_to_wait(counts: list[int], limits: list[int]) -> int:
    """0 within every limit, else the seconds until the window ends (at least 1)."""
    if all(count <= limit for count, limit in zip(counts, limits, strict=True)):
        return 0
    window = settings.LINLI_API_RATE_WINDOW_SECONDS
    now = time.time()
    return max(1, math.ceil((int(now // window) + 1) * window - now))


# ---------------------------------------------------------------------------
# Session tokens


def token_key(token: str) -> str:
    """Where a token's resolution is kept: an HMAC of it (a new SECRET_KEY makes every kept one unreachable)."""
    return _token_key(token, settings.SECRET_KEY)


@functools.lru_cache(maxsize=4096)
def _token_key(token: str, secret: str) -> str:
    return "api-auth:" + salted_hmac("linli.api.session-token", token, secret=secret).hexdigest()


def session_cache_key(token: str) -> str | None:
    """The session's own entry in the default cache, if the session engine keeps one there (else None)."""
    if not SESSION_KEY_FORM.fullmatch(token) or settings.SESSION_CACHE_ALIAS != "default":
        return None
    prefix = _session_cache_prefix(settings.SESSION_ENGINE)
    return None if prefix is None else prefix + token


@functools.lru_cache
def _session_cache_prefix(engine: str) -> str | None:
    return getattr(import_module(engine).SessionStore, "cache_key_prefix", None)


def changes_announced() -> bool:
    """Whether the session engine announces every session it ends or saves anew (api/sessions.py): only then may a
    process trust a token without asking the cache (LocalTokens)."""
    return _changes_announced(settings.SESSION_ENGINE) and settings.SESSION_CACHE_ALIAS == "default"


@functools.lru_cache
def _changes_announced(engine: str) -> bool:
    return getattr(import_module(engine).SessionStore, "announces_changes", False)


SESSION_CHANGED = "session"  # the announcement's kind; its name is the token's key (token_key), never the token


def announce_session_change(session_key: str, *, ended: bool) -> None:
    """A session ended or was saved anew (api/sessions.py): every process drops its local trust in the token at
    once, now and again on commit. An ended session's cache entry is deleted again on commit, as a request that read
    it from the database before the deletion committed may have put it back there."""
    key = token_key(session_key)
    generation.announce(SESSION_CHANGED, key)
    if not transaction.get_connection().in_atomic_block:
        return  # committed already

    def committed() -> None:
        if ended:
            cache.delete(_session_cache_prefix(settings.SESSION_ENGINE) + session_key)
        generation.announce(SESSION_CHANGED, key)

    transaction.on_commit(committed)


def auth_keys(token: str) -> list[str]:
    """What a token's resolution needs from the cache; none when the session engine keeps no session there."""
    session = session_cache_key(token)
    return [] if session is None else [token_key(token), session, AUTH_GENERATION]


def new_auth_generation() -> None:
    generation.publish(AUTH_GENERATION)


def _read_or_make(key: str) -> str:
    value = cache.get(key)
    if value is None:
        cache.add(key, uuid.uuid4().hex, None)
        value = cache.get(key)
    return value


def _still_valid(kept, session, current_generation) -> bool:
    return (
        isinstance(kept, dict)
        and kept.get("version") == KEPT_VERSION
        and isinstance(session, dict)
        and current_generation is not None
        and kept["generation"] == current_generation
        and session.get(SESSION_KEY) == str(kept.get("pk"))
        and session.get(HASH_SESSION_KEY) == kept["hash"]
        and session.get(BACKEND_SESSION_KEY) in settings.AUTHENTICATION_BACKENDS
    )


def resolve_token(request: HttpRequest):
    """The active user the request's X-Session-Token names now, else None (resolved once per request)."""
    if resident_pk(request) is None:
        return None
    pk, user = request._api_resident
    if isinstance(user, bytes):  # kept: unpickled only now that the request needs the user
        user = pickle.loads(user)  # noqa: S301  (written by _resolve below, in our own cache)
        request._api_resident = (pk, user)
    return user


def resident_pk(request: HttpRequest) -> int | None:
    """The pk of the active user the request's X-Session-Token names now, else None."""
    if not hasattr(request, "_api_resident"):
        token = request.headers.get("X-Session-Token")
        request._api_resident = _resolve(token, prefetched(request)) if token else None
    return None if request._api_resident is None else request._api_resident[0]


class LocalTokens:
    """Session tokens this process trusts without asking the cache, while nothing can have ended them.

    A token's resolution is kept here from a round trip that found it still valid (`_still_valid`) and read how
    long its session lives, and trusted without a round trip while:

    - the announcements' subscription (plumbing.middleware.Announcements) has stayed confirmed since before that
      round trip (the same `epoch`) and is confirmed now;
    - the auth generation's copy is the one it was made under: a change to any user row (deactivation, a new
      password, erasure, deletion) starts a new one and announces it;
    - its session has not expired (the seconds it had left in the cache), nor AUTH_SECONDS passed since the
      resolution was made (the backstop);
    - nothing was announced of its session: the session engine announces every session it deletes (log-out,
      flush, a key cycled, a session ended elsewhere) or saves anew (api/sessions.py), which drops it here at once.
      Any such announcement heard between the round trip and keeping it stops it being kept.

    Whenever any of these cannot be known here, the token is checked in the round trip, as before.
    """

    def __init__(self, announcements: Announcements) -> None:
        self.announcements = announcements
        self.entries: dict[str, tuple] = {}
        self.ended = 0  # announcements of sessions heard so far
        self.lock = threading.Lock()
        announcements.listen(SESSION_CHANGED, self.drop)

    def mark(self) -> tuple | None:
        """Taken before a round trip that reads a token: what keeping its resolution afterwards depends on; None
        when it cannot be kept (another cache or session engine, a subscription not confirmed)."""
        if not changes_announced() or not self.announcements.confirmed():
            return None
        return self.announcements.epoch, self.ended, time.monotonic()

    def keep(self, key: str, mark: tuple, kept: dict, seconds_left: float | None) -> None:
        epoch, ended, read_at = mark  # time.monotonic(): a clock set back extends nothing
        until = read_at + min(AUTH_SECONDS, kept.get("made", 0) + AUTH_SECONDS - time.time())
        if seconds_left is not None:
            until = min(until, read_at + seconds_left)
        with self.lock:
            if self.announcements.epoch != epoch or self.ended != ended or until <= time.monotonic():
                return
            if any(entry[0] != epoch for entry in itertools.islice(self.entries.values(), 1)):
                self.entries.clear()  # all kept under an epoch that ended: none is trusted any more
            self.entries.pop(key, None)
            if len(self.entries) >= LOCAL_TOKENS:
                del self.entries[next(iter(self.entries))]  # the oldest
            self.entries[key] = (epoch, until, kept["generation"], kept["pk"], kept["user"])

    def trusted(self, key: str, auth_generation: str | None) -> tuple[int, bytes] | None:
        """(pk, the user pickled) of a token trusted now; `auth_generation` is this process's confirmed copy."""
        entry = self.entries.get(key)
        if entry is None or auth_generation is None:
            return None
        epoch, until, made_under, pk, user = entry
        if epoch != self.announcements.epoch or time.monotonic() >= until or made_under != auth_generation:
            return None
        return pk, user

    def drop(self, key: str) -> None:
        with self.lock:
            self.ended += 1
            self.entries.pop(key, None)


tokens = LocalTokens(generation)


def _resolve(token: str, known: Prefetched) -> tuple[int, object] | None:
    """(pk, the user or, when kept, the user pickled), or None."""
    from allauth.headless.internal.sessionkit import authenticate_by_x_session_token

    keys = auth_keys(token)
    current = None
    if keys:
        values = known.values if known.has(*keys) else cache.get_many(keys)
        kept, session, current = (values.get(key) for key in keys)
        if _still_valid(kept, session, current):
            if known.mark is not None and keys[1] in known.lifetimes:
                known.tokens.keep(keys[0], known.mark, kept, known.lifetimes[keys[1]])
            return kept["pk"], kept["user"]
        # Read before the session and the user's row: a change after this read starts a newer generation.
        current = current or _read_or_make(AUTH_GENERATION)
    found = authenticate_by_x_session_token(token)
    if found is None or not found[0].is_active:
        return None
    user, session = found
    if keys:
        # The user is pickled apart, and unpickled only when the request needs it (a kept answer needs only the pk).
        kept = {
            "version": KEPT_VERSION,
            "pk": user.pk,
            "user": pickle.dumps(user),
            "hash": session.get(HASH_SESSION_KEY),
            "generation": current,
            "made": time.time(),
        }
        cache.set(keys[0], kept, AUTH_SECONDS)
    return user.pk, user


def forget_token(token: str | None) -> None:
    """Drop a token's kept resolution (at log-out: it would no longer be trusted anyway, as its session is gone)."""
    if token:
        cache.delete(token_key(token))


# ---------------------------------------------------------------------------
# Kept answers


def kept_key(language: str, full_path: str, token: str | None) -> str:
    """A kept answer's key: the public one (token None) or the one for this session token."""
    scope = token_key(token) if token else "public"
    return KEPT_PREFIX + hashlib.sha256(f"{language}\n{full_path}\n{scope}".encode()).hexdigest()


def generation_values(request: HttpRequest, keys: tuple[str, ...]) -> dict[str, str]:
    """The current value of each generation key: as the gateway read it at the start of the request, else read
    now (made when missing). Read before the data an answer is built from."""
    global known_generations
    known = prefetched(request)
    values = {}
    for key in (GENERATION_KEY, *keys):
        if key not in known_generations:
            known_generations = known_generations | {key}
        value = known.values.get(key) if known.has(key) else None
        if value is None:
            value = generation.current() if key == GENERATION_KEY else _read_or_make(key)
        values[key] = value
    return values


def local_generations(announcements: Announcements = generation) -> dict[str, str]:
    """The generations this process knows without asking (with Redis, the copies its announcements' watcher keeps
    up to date: the publish generation, the auth generation, those of the answers it kept); {} when it knows none."""
    return announcements.known_many(known_generations | {AUTH_GENERATION})


def trust_locally(request: HttpRequest, local_tokens: LocalTokens, local: dict[str, str]) -> bool:
    """Resolve the request's session token from what this process trusts (LocalTokens), if it may: no round trip
    for it then."""
    token = request.headers.get("X-Session-Token")
    trusted = local_tokens.trusted(token_key(token), local.get(AUTH_GENERATION)) if token else None
    if trusted is not None:
        request._api_resident = trusted
    return trusted is not None


def prefetch_keys(request: HttpRequest, kept: list[str], local: dict[str, str]) -> list[str]:
    """The keys to read in the round trip: the session token's (unless already trusted locally), the `kept`
    answers' and, when there are kept answers to check, the generations not known locally."""
    token = request.headers.get("X-Session-Token")
    keys = auth_keys(token) if token and not hasattr(request, "_api_resident") else []
    if kept is not None:
        keys += kept
        keys += [key for key in known_generations if key not in local]
    return keys


def still_current(entry, known: Prefetched, now: float) -> bool:
    """A kept answer is valid until it expires, while every generation it was built under is the current one."""
    return (
        isinstance(entry, dict)
        and entry.get("version") == KEPT_VERSION
        and now < entry["expires"]
        and all(known.has(key) and known.values.get(key) == value for key, value in entry["generations"].items())
    )


class Refreshes:
    """Which kept answers this process is building again before they expire.

    In the last moments of an answer's life (REFRESH_MARGIN, at most a fifth of it) the first request of each process
    builds it again while the others are still answered from the kept one: a busy answer never expires under load,
    so that every worker's threads do not all build it at once (seats left are kept 5 seconds), and no answer is
    ever older than it may be."""

    def __init__(self) -> None:
        self.claims: dict[str, float] = {}

    def claim(self, key: str, entry: dict, now: float) -> bool:
        margin = min(REFRESH_MARGIN, (entry["expires"] - entry["built"]) / 5)
        if entry["expires"] - now > margin or self.claims.get(key, 0) > now:
            return False
        if len(self.claims) > 10_000:
            self.claims.clear()
        self.claims[key] = now + margin
        return True
