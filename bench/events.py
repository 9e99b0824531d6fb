#!/usr/bin/env python
"""`make bench`, part two: classes and activities under load, in production mode on loopback.

1. A booking rush. A throwaway PostgreSQL database (createdb on 127.0.0.1:5432; the bench
   is skipped with a message when PostgreSQL does not answer), `make serve` on it
   (gunicorn, production settings, SECURE_SSL_REDIRECT=0, mail kept in memory), 500
   verified residents logged in (session rows made directly, as a login would) and one
   30-seat session. Each resident first opens the activity page (their CSRF token and the
   form's request token), then all 500 POST the booking form at once, from 500 threads
   with their own cookies. A resident knows the outcome once the answer has come and the booking
   has been decided (a booking request may be answered while another request's transaction decides
   it: services.decide_booking_requests): the later of the two counts, the decision's moment being
   the booking's queued_at. Printed, each with its goal (exit status 1 when one is missed):
   bookings decided per second (>= 150), p95 until answered and decided (< 2 s), overbooking
   (none: confirmed <= seats, seats taken = confirmed), every resident booked once (30 confirmed, 470 waiting), the
   waiting list in the order of arrival and no server error. Arrival is the moment a booking's
   request was recorded, as the decisions see it: they take the requests in that order, stamp
   each booking's queued_at (strictly increasing, under the session's row lock) and insert it, so
   the order residents see (queued_at) must equal the order of the bookings' ids, with no ties and
   the seats with the first 30. Also printed: the server's CPU time per booking (gunicorn workers
   and PostgreSQL backends, /proc) and the pace of the seat decisions (queued_at to queued_at).
2. The activity list and its calendars with 1,000 activities and 10,000 sessions: req/s
   and p95 of the list, week and month pages from the anonymous page cache and uncached
   (a session cookie bypasses the cache), as ratios to a static file, measured in turns
   like bench/run.py; the uncached ones must reach 0.05 of the static file's rate.

All traffic stays on 127.0.0.1, every stretch of load is bounded in time and requests,
and gunicorn is stopped and the database dropped at the end, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (bench/run.py: server, load generators, measurement)

REPO = bench.REPO
HOST = bench.HOST
RESIDENTS = 500
SEATS = 30
ACTIVITIES = 1000
SESSIONS_EACH = 10
INDEX_PATH = "/zh-hans/activities/"
# The calendars a quarter ahead, where the 10-week series of the activities overlap fully.
CALENDAR_DATE = (datetime.date.today() + datetime.timedelta(weeks=12)).isoformat()
VIEWS = (("list", ""), ("week", f"?view=week&date={CALENDAR_DATE}"), ("month", f"?view=month&date={CALENDAR_DATE}"))
POST_TIMEOUT = 120  # seconds a single booking may take before it counts as an error
UNCACHED_RATIO = 0.05  # the list and calendars rendered afresh, to the static file


# ---------------------------------------------------------------------------
# Inside Django (run as `bench/events.py setup-rush|setup-calendar WORKDIR` with the server's environment)


def django_setup() -> None:
    sys.path[:0] = [str(REPO / "site"), str(REPO)]
    import django

    django.setup()


def setup_rush(workdir: Path) -> None:
    """500 verified residents with a logged-in session each, and one 30-seat session."""
    from importlib import import_module

    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from events import factories
    from home.models import ResidentProfile
    from home.services import ensure_site

    ensure_site()
    User = get_user_model()
    unusable = make_password(None)
    users = User.objects.bulk_create(
        [
            User(username=f"rush{number:03d}", email=f"rush{number:03d}@bench.localhost", password=unusable)
            for number in range(RESIDENTS)
        ]
    )
    users = list(User.objects.filter(username__startswith="rush").order_by("pk"))
    EmailAddress.objects.bulk_create([EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users])
    ResidentProfile.objects.bulk_create(
        [
            ResidentProfile(
                user=user,
                display_name=f"居民{number:03d}",
                birth_year=1960 + number % 40,
                privacy_notice_version=settings.LINLI_PRIVACY_NOTICE_VERSION,
                privacy_consented_at=timezone.now(),
            )
            for number, user in enumerate(users)
        ]
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    for user in users:
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    activity = factories.activity(title="非遗剪纸公开课", slug="rush", summary="抢课压测。", kind="class")
    starts = timezone.now() + datetime.timedelta(days=3)
    seat = factories.SessionFactory(activity=activity, starts_at=starts, capacity=SEATS)
    (workdir / "sessions.txt").write_text("\n".join(keys))
    (workdir / "rush.txt").write_text(f"{seat.pk} {activity.url}")


def setup_calendar() -> None:
    """1,000 activities with 10 weekly sessions each, starting through the year ahead."""
    from django.utils import timezone

    from events import factories
    from events.models import ActivityPage, Session
    from home.services import ensure_site

    ensure_site()  # made by the rush's setup already, unless only the calendars run
    index = factories.activity_index()
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    kinds, categories, ages = (
        ("class", "activity", "volunteering"),
        ("heritage", "health", "culture", "skills"),
        ("all", "adults", "60+", "7-12"),
    )
    sessions = []
    for number in range(ACTIVITIES):
        page = index.add_child(
            instance=ActivityPage(
                title=f"社区活动 {number:04d}",
                slug=f"bench-{number:04d}",
                summary="压测用活动。",
                kind=kinds[number % 3],
                category=categories[number % 4],
                age_band=ages[number % 4],
                venue="运河湾街道社区服务中心",
                first_published_at=timezone.now(),
            )
        )
        first_day = today + datetime.timedelta(days=1 + number * 365 // ACTIVITIES)
        for week in range(SESSIONS_EACH):
            starts = datetime.datetime.combine(
                first_day + datetime.timedelta(weeks=week), datetime.time(8 + number % 12), tzinfo=tz
            )
            sessions.append(
                Session(
                    activity=page,
                    starts_at=starts,
                    ends_at=starts + datetime.timedelta(hours=1, minutes=30),
                    capacity=20,
                    seats_taken=(number + week) % 21,
                )
            )
    Session.objects.bulk_create(sessions, batch_size=2000)


# ---------------------------------------------------------------------------
# The rush, over HTTP


class Client:
    """One resident's cookies on one keep-alive connection."""

    def __init__(self, port: int, session_key: str) -> None:
        self.port = port
        self.cookies = {"sessionid": session_key}
        self.connection = http.client.HTTPConnection(HOST, port, timeout=POST_TIMEOUT)

    def request(self, method: str, path: str, body: str | None = None, *, retry: bool = True) -> http.client.HTTPResponse:
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (OSError, http.client.HTTPException):
            if not retry:
                raise
            self.connection.close()
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=POST_TIMEOUT)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        response.body = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response


def book_form(html: str, session_id: int) -> tuple[str, dict[str, str]]:
    """The address and fields of the booking form of one session on the activity page."""
    form = re.search(rf'<form method="post" action="([^"]*/sessions/{session_id}/book/)".*?</form>', html, re.S)
    if form is None:
        raise RuntimeError("no booking form on the activity page: is the resident logged in?")
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
    fields.setdefault("participant", "me")
    return form.group(1), fields


def postgres_backends(database: str) -> list[int]:
    """The PostgreSQL server processes serving connections to `database` (their titles name it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
                pids.append(int(entry.name))
    return pids


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += bench.cpu_seconds(pid)
        except OSError:
            pass  # gone meanwhile
    return total


def rush(port: int, session_id: int, page_path: str, session_keys: list[str], cpu_pids=lambda: []) -> dict:
    clients = [Client(port, key) for key in session_keys]
    forms: list[tuple[str, dict[str, str]]] = [("", {})] * len(clients)

    def prepare(slot: int) -> None:
        response = clients[slot].request("GET", page_path)
        if response.status != 200:
            raise RuntimeError(f"GET {page_path} as resident {slot} answered {response.status}")
        forms[slot] = book_form(response.body.decode(), session_id)

    # Opening the page is not measured: 8 threads at a time, each with its own residents.
    errors: list[BaseException] = []

    def prepare_some(slots: range) -> None:
        try:
            for slot in slots:
                prepare(slot)
        except BaseException as error:  # noqa: BLE001  (reported below, the bench stops)
            errors.append(error)

    preparers = [threading.Thread(target=prepare_some, args=(range(part, len(clients), 8),)) for part in range(8)]
    for thread in preparers:
        thread.start()
    for thread in preparers:
        thread.join()
    if errors:
        raise RuntimeError(f"preparing the residents failed: {errors[0]!r}")

    barrier = threading.Barrier(len(clients) + 1)
    latencies = [0.0] * len(clients)
    statuses = [0] * len(clients)
    ends = [0.0] * len(clients)
    sent_at = [0.0] * len(clients)  # wall clock, as the server stamps its decisions

    def post(slot: int) -> None:
        book_path, fields = forms[slot]
        body = urllib.parse.urlencode(fields)
        client = clients[slot]
        client.connection.close()  # a fresh connection: the server has closed idle keep-alive ones
        client.connection = http.client.HTTPConnection(HOST, port, timeout=POST_TIMEOUT)
        barrier.wait()
        sent_at[slot] = time.time()
        started = time.perf_counter()
        try:
            statuses[slot] = client.request("POST", book_path, body, retry=False).status
        except (OSError, http.client.HTTPException):
            statuses[slot] = -1
        ends[slot] = time.perf_counter()
        latencies[slot] = (ends[slot] - started) * 1000

    threads = [threading.Thread(target=post, args=(slot,)) for slot in range(len(clients))]
    for thread in threads:
        thread.start()
    measured = cpu_pids()
    cpu_before = cpu_of(measured)
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(POST_TIMEOUT + 10)
    seconds = max(ends) - started
    cpu_ms = (cpu_of(measured) - cpu_before) * 1000 / len(clients)
    for client in clients:
        client.connection.close()
    ordered = sorted(latencies)
    return {
        "seconds": seconds,
        "cpu_ms": cpu_ms,
        "latencies_ms": latencies,
        "sent_at": sent_at,
        "answered_at": [sent + latency / 1000 for sent, latency in zip(sent_at, latencies, strict=True)],
        "p50_ms": ordered[len(ordered) // 2],
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1],
        "redirects": sum(1 for status in statuses if status == 302),
        "server_errors": sum(1 for status in statuses if status >= 500),
        "failed": sum(1 for status in statuses if status < 0),
        "other": sum(1 for status in statuses if 0 <= status < 500 and status != 302),
    }


def rush_outcome(database_url: str, session_id: int) -> dict:
    """What the database says: bookings per status, duplicates, seats taken and the queue's order."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        statuses = dict(
            connection.execute(
                "SELECT status, count(*) FROM events_booking WHERE session_id = %s GROUP BY status", (session_id,)
            ).fetchall()
        )
        duplicates = connection.execute(
            "SELECT count(*) FROM (SELECT participant_key FROM events_booking WHERE session_id = %s"
            " GROUP BY participant_key HAVING count(*) > 1) AS twice",
            (session_id,),
        ).fetchone()[0]
        seats_taken, capacity = connection.execute(
            "SELECT seats_taken, capacity FROM events_session WHERE id = %s", (session_id,)
        ).fetchone()
        # Arrival: the moment a booking reached the session's seat decision, under the session's row lock; the
        # booking keeps it as queued_at (the app's clock), and its id comes from the database's sequence in the
        # same locked step. The two are separate records of one order: the waiting list residents see (queued_at,
        # then id) must be the order of the ids, the seats must have gone to the first arrivals, no two at once.
        arrivals = connection.execute(
            "SELECT status, queued_at, row_number() OVER (ORDER BY queued_at, id) AS shown, row_number() OVER (ORDER BY id)"
            " AS arrived FROM events_booking WHERE session_id = %s ORDER BY id",
            (session_id,),
        ).fetchall()
        # When each resident's booking was decided (queued_at is stamped by the decision), by their slot (rushNNN).
        decided_at = {
            int(username[4:]): at.timestamp()
            for username, at in connection.execute(
                "SELECT u.username, b.queued_at FROM events_booking b JOIN auth_user u ON u.id = b.resident_id"
                " WHERE b.session_id = %s",
                (session_id,),
            ).fetchall()
        }
    out_of_order = sum(1 for _status, _at, shown, arrived in arrivals if shown != arrived)
    ties = len(arrivals) - len({at for _status, at, _shown, _arrived in arrivals})
    late_seats = sum(1 for status, _at, _shown, arrived in arrivals if status == "confirmed" and arrived > capacity)
    times = sorted(at for _status, at, _shown, _arrived in arrivals)
    gaps = sorted((later - earlier).total_seconds() * 1000 for earlier, later in zip(times, times[1:], strict=False))
    return {
        "confirmed": statuses.get("confirmed", 0),
        "waitlisted": statuses.get("waitlisted", 0),
        "other": sum(count for status, count in statuses.items() if status not in ("confirmed", "waitlisted")),
        "duplicates": duplicates,
        "seats_taken": seats_taken,
        "capacity": capacity,
        "in_order": out_of_order == 0 and ties == 0 and late_seats == 0,
        "order_figure": f"{out_of_order} out of order, {ties} ties, {late_seats} late seats",
        "decided_at": decided_at,
        "decisions_seconds": (times[-1] - times[0]).total_seconds() if times else 0.0,
        "gap_p50_ms": gaps[len(gaps) // 2] if gaps else 0.0,
    }


GOAL_PER_SECOND = 150
GOAL_P95_MS = 2000


def print_rush(figures: dict, outcome: dict) -> bool:
    """Each figure of the rush with its goal; whether all were met."""

    def line(what: str, value: str, goal: str, met: bool) -> bool:
        print(f"  {what:<34} {value:>22}   goal {goal:<28} {'met' if met else 'MISSED'}")
        return met

    # A resident knows the outcome once the answer has come and the booking is decided (a booking request may be
    # answered while another resident's request is deciding it): the later of the two counts.
    decided = outcome["decided_at"]
    known = [max(answered, decided.get(slot, float("inf"))) for slot, answered in enumerate(figures["answered_at"])]
    start = min(figures["sent_at"])
    waits = sorted((at - sent) * 1000 for at, sent in zip(known, figures["sent_at"], strict=True))
    seconds = max(known) - start
    per_second = len(known) / seconds
    p95_ms = waits[int(len(waits) * 0.95) - 1]
    late = sum(1 for slot, answered in enumerate(figures["answered_at"]) if decided.get(slot, float("inf")) > answered)
    print(f"\nBooking rush: {RESIDENTS} residents POST at once for a {SEATS}-seat session")
    print(
        f"  (all known in {seconds:.1f} s; answers: p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms, "
        f"{figures['redirects']} redirects, {figures['other']} other; {late} decided after their answer)"
    )
    print(
        f"  server CPU per booking (gunicorn workers and PostgreSQL): {figures['cpu_ms']:.1f} ms, "
        f"that is at most {os.cpu_count() * 1000 / figures['cpu_ms']:.0f} bookings/s on {os.cpu_count()} idle cores"
    )
    seats = outcome["seats_taken"]
    print(
        f"  seat decisions (under the session's lock, one after another): {RESIDENTS} in {outcome['decisions_seconds']:.2f} s, "
        f"median {outcome['gap_p50_ms']:.1f} ms from one to the next"
    )
    results = [
        line("bookings per second (decided)", f"{per_second:.0f}", f">= {GOAL_PER_SECOND}", per_second >= GOAL_PER_SECOND),
        line("p95 until answered and decided", f"{p95_ms:.0f} ms", f"< {GOAL_P95_MS} ms", p95_ms < GOAL_P95_MS),
        line(
            "overbooking (confirmed - seats)",
            f"{max(outcome['confirmed'] - outcome['capacity'], 0)} ({outcome['confirmed']} confirmed, seats {seats}/{outcome['capacity']})",
            "0, seats taken = confirmed",
            outcome["confirmed"] <= outcome["capacity"] and seats == outcome["confirmed"],
        ),
        line(
            "every resident booked once",
            f"{outcome['confirmed']} + {outcome['waitlisted']} waiting",
            f"{SEATS} + {RESIDENTS - SEATS}, no duplicate",
            outcome["confirmed"] == SEATS
            and outcome["waitlisted"] == RESIDENTS - SEATS
            and outcome["other"] == 0
            and outcome["duplicates"] == 0,
        ),
        line(
            "waiting list in arrival order",
            outcome["order_figure"],
            "0, 0, 0",
            outcome["in_order"],
        ),
        line(
            "server errors, failed connections",
            f"{figures['server_errors']}, {figures['failed']}",
            "0, 0",
            figures["server_errors"] == 0 and figures["failed"] == 0 and figures["redirects"] == RESIDENTS,
        ),
    ]
    return all(results)


# ---------------------------------------------------------------------------
# Databases


def postgres_answers() -> bool:
    return shutil.which("pg_isready") is not None and (
        subprocess.run(["pg_isready", "-h", HOST, "-p", "5432", "-q"], timeout=10).returncode == 0
    )


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] in ("setup-rush", "setup-calendar"):
        django_setup()
        if sys.argv[1] == "setup-rush":
            setup_rush(Path(sys.argv[2]))
        else:
            setup_calendar()
        return 0

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each page measurement (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections (default 16)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_EVENTS_PORT", 8014)))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and database")
    parser.add_argument("--file-cache", action="store_true", help="use the file cache even if Redis answers")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even if wrk is installed")
    parser.add_argument("--only", choices=("rush", "calendar"), help="run one part only")
    options = parser.parse_args()

    if not postgres_answers():
        print("bench events: SKIPPED: PostgreSQL does not answer on 127.0.0.1:5432 (the booking rush needs it).")
        return 0
    database = f"linli_bench_events_{os.getpid()}"
    database_url = f"postgres://postgres@{HOST}:5432/{database}"
    created = subprocess.run(["createdb", "-h", HOST, "-U", "postgres", database], capture_output=True, text=True, timeout=60)
    if created.returncode != 0:
        print(f"bench events: SKIPPED: createdb {database} failed: {created.stderr.strip()}")
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="linli-bench-events-"))
    log = workdir / "bench.log"
    use_redis = not options.file_cache and bench.redis_answers()
    env = bench.production_env(workdir, database_url=database_url, use_redis=use_redis)
    env["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"  # messages are built, not sent
    backend = f"Redis db {bench.REDIS_DB}" if use_redis else "file cache"
    use_wrk = bool(shutil.which("wrk")) and not options.python_load
    generator = "wrk" if use_wrk else "Python threads, keep-alive"
    script = workdir / "p95.lua"
    script.write_text(bench.WRK_SCRIPT)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)

    server = None
    started = time.monotonic()
    figures = outcome = None
    results: list[bench.Result] = []
    entries: dict[str, int] = {}
    try:
        if use_redis:
            bench.run([str(bench.PYTHON), "-c", FLUSH_REDIS % bench.REDIS_DB], env, log)
        print(f"bench events: {database} (migrate)", flush=True)
        bench.run([str(bench.PYTHON), "manage.py", "migrate", "--noinput", "-v0"], env, log)
        if options.only != "calendar":
            print(f"bench events: {RESIDENTS} residents, one {SEATS}-seat session", flush=True)
            bench.run([str(bench.PYTHON), str(Path(__file__).resolve()), "setup-rush", str(workdir)], env, log)
        server = bench.start_server(options.port, env, workdir)
        bench.wait_for_health(options.port, server)

        if options.only != "calendar":
            session_id, page_path = (workdir / "rush.txt").read_text().split()
            session_keys = (workdir / "sessions.txt").read_text().split()
            print(f"bench events: {RESIDENTS} residents open the page, then book at once", flush=True)
            figures = rush(
                options.port,
                int(session_id),
                page_path,
                session_keys,
                cpu_pids=lambda: bench.gunicorn_workers(server) + postgres_backends(database),
            )
            outcome = rush_outcome(database_url, int(session_id))

        if options.only != "rush":
            print(f"bench events: {ACTIVITIES} activities with {SESSIONS_EACH} sessions each", flush=True)
            bench.run([str(bench.PYTHON), str(Path(__file__).resolve()), "setup-calendar", str(workdir)], env, log)
            cookie = {"Cookie": "sessionid=bench-no-such-session"}
            plan = [("static file (whitenoise)", bench.static_css_path(), {})]
            for name, query in VIEWS:
                plan.append((f"{name}, cached", INDEX_PATH + query, {}))
                plan.append((f"{name}, uncached", INDEX_PATH + query, cookie))
            for name, path, headers in plan:
                for _round in range(5):
                    response = bench.get(options.port, path, headers)
                    if response.status != 200:
                        raise RuntimeError(f"GET {path} answered {response.status}")
                results.append(bench.Result(name, path, response.headers.get("X-Page-Cache", "-")))
            shown = {name: bench.get(options.port, INDEX_PATH + query).body.decode() for name, query in VIEWS}
            entries = {"list": shown["list"].count('class="activity-item"')}
            entries.update({name: shown[name].count("<li><a href=") for name in ("week", "month")})
            print(
                f"bench events: {len(plan)} URLs for {options.seconds:.0f} s each, in {bench.ROUNDS} turns, "
                f"{options.connections} connections",
                flush=True,
            )
            part = options.seconds / bench.ROUNDS
            for _round in range(bench.ROUNDS):
                for result, (_name, path, headers) in zip(results, plan, strict=True):
                    if use_wrk:
                        result.slices.append(bench.load_with_wrk(options.port, path, headers, part, options.connections, script))
                    else:
                        result.slices.append(bench.load_with_python(options.port, path, headers, part, options.connections))
    except (RuntimeError, subprocess.TimeoutExpired, KeyboardInterrupt) as error:
        print(f"bench events: failed or interrupted: {error!r}; logs in {workdir}", file=sys.stderr)
        if (workdir / "serve.log").exists():
            print((workdir / "serve.log").read_text()[-3000:], file=sys.stderr)
        options.keep = True
        return 2
    finally:
        if server is not None:
            bench.stop(server)
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
            subprocess.run(["dropdb", "-h", HOST, "-U", "postgres", "--if-exists", database], timeout=60, check=False)

    print(f"\nLinli events bench: production settings, gunicorn on {HOST}, PostgreSQL, cache: {backend}")
    print(f"machine load (1, 5, 15 min): {' '.join(f'{load:.2f}' for load in os.getloadavg())} on {os.cpu_count()} cores")
    met = True
    if figures is not None:
        met = print_rush(figures, outcome) and met

    if results:
        print(f"\nActivity list and calendars: {ACTIVITIES} activities, {ACTIVITIES * SESSIONS_EACH} sessions; load: {generator}")
        print(
            f"  entries shown: list {entries['list']} activities, week {entries['week']} sessions, "
            f"month {entries['month']} sessions"
        )
        bench.print_table(results, results[0].requests_per_second, backend, generator)
        for result in results:
            if result.name.endswith("uncached"):
                ratio = result.requests_per_second / results[0].requests_per_second
                met = met and ratio >= UNCACHED_RATIO
                print(
                    f"  target: {result.name} >= {UNCACHED_RATIO} of the static file: {ratio:.3f}, "
                    f"{'met' if ratio >= UNCACHED_RATIO else 'MISSED'}"
                )
        errors = sum(result.errors for result in results)
        print(f"HTTP errors under load: {errors}")
        met = met and errors == 0
    print(f"\nbench events: {time.monotonic() - started:.0f} s in all")
    return 0 if met else 1


# The bench's Redis db (bench/run.py: REDIS_DB) is its own: empty it, so no page or session of an earlier run is served.
FLUSH_REDIS = "import redis; redis.Redis(host='127.0.0.1', port=6379, db=%d).flushdb()"


if __name__ == "__main__":
    sys.exit(main())
