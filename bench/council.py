#!/usr/bin/env python
"""`make bench`, council part: a council of 50 voting on 10 secret-ballot items over HTTP, in production mode on loopback.

A throwaway PostgreSQL database (createdb on 127.0.0.1:5432; skipped with a message when PostgreSQL
does not answer), `make serve` on it (gunicorn, production settings, SECURE_SSL_REDIRECT=0, mail kept in
memory), a council of 50 members with TOTP set up (production asks council members for it) and a
logged-in session each (session rows made directly, as a login would), and a hybrid session in
progress with 10 agenda items, all by secret ballot (sealed while voting is open, README: Secret ballots).
Over HTTP, with each member's own cookies:

1. the 50 members check in online at once ("I am here");
2. for each item, the chair opens voting, the 50 members vote at once from 50 threads (each POST
   is timed; every vote seals all of the item's ballots again), the database is read while voting is
   still open (50 sealed ballots, no readable choice), the chair closes voting (timed: the ballots are
   opened, stored plain, counted and the result stored), and the public session page is read until the
   result shows (the time from the close request to the result on the public page).

Printed: votes per second, p50/p95 vote latency (goal p95 < 300 ms), the close-and-tally time of each
item, p50/max time from close to the published result, server errors; then the database is checked
(exit status 1 otherwise): one participation and ballot per member and item, every stored result's
counts equal to the choices sent, no sealed ballot or salt left, the hash chain verified.

All traffic stays on 127.0.0.1; every request has a timeout, the run is bounded (10 rounds of 50
votes), and gunicorn is stopped and the database dropped at the end, also after an error or Ctrl-C.
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

import importlib.util  # noqa: E402

import run as bench  # noqa: E402  (bench/run.py: server, database environment)


def _bench_events():
    """bench/events.py (the per-resident HTTP client, Django set-up) under another name: as `events` it would
    hide the events app from the set-up subprocess."""
    spec = importlib.util.spec_from_file_location("bench_events", Path(__file__).resolve().parent / "events.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


events_bench = _bench_events()

HOST = bench.HOST
MEMBERS = 50
ITEMS = 10
SECRET_ITEMS = set(range(1, ITEMS + 1))  # positions voted by secret ballot: all of them
VOTE_P95_GOAL_MS = 300
CHOICES = ("yes", "no", "abstain")
TIMEOUT = 60  # seconds any single request may take
RESULT_WAIT = 30  # seconds the result may take to show on the public page


def choice_of(member: int, position: int) -> str:
    """What member number `member` votes on item `position`: a known mix, so the counts can be checked."""
    return CHOICES[0] if (member + position) % 5 < 3 else CHOICES[(member + position) % 2 + 1]


# ---------------------------------------------------------------------------
# Inside Django (run as `bench/council.py setup WORKDIR` with the server's environment)


def setup(workdir: Path) -> None:
    from importlib import import_module

    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from deliberation.council.models import AgendaItem, Council, CouncilMember, CouncilSession
    from home.models import ResidentProfile
    from home.services import create_community, ensure_site

    ensure_site()
    community = create_community(name="压测社区", code="bench", name_en="Bench")
    User = get_user_model()
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(username=f"member{n:02d}", email=f"member{n:02d}@bench.localhost", password=unusable) for n in range(MEMBERS)]
    )
    users = list(User.objects.filter(username__startswith="member").order_by("username"))
    EmailAddress.objects.bulk_create([EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users])
    ResidentProfile.objects.bulk_create(
        [
            ResidentProfile(
                user=u,
                community=community,
                display_name=f"委员{n:02d}",
                privacy_notice_version=settings.LINLI_PRIVACY_NOTICE_VERSION,
                privacy_consented_at=timezone.now(),
            )
            for n, u in enumerate(users)
        ]
    )
    Authenticator.objects.bulk_create(
        [Authenticator(user=u, type=Authenticator.Type.TOTP, data={"secret": "bench"}) for u in users]
    )
    council = Council.objects.create(community=community, name="压测居民议事会", name_en="Bench council")
    term_start = timezone.localdate().replace(year=timezone.localdate().year - 1)
    roles = [CouncilMember.Role.CHAIR, CouncilMember.Role.SECRETARY] + [CouncilMember.Role.MEMBER] * (MEMBERS - 2)
    CouncilMember.objects.bulk_create(
        [CouncilMember(council=council, user=u, role=role, term_start=term_start) for u, role in zip(users, roles, strict=True)]
    )
    now = timezone.now()
    session = CouncilSession.objects.create(
        council=council,
        title="压测会议",
        title_en="Bench session",
        starts_at=now - datetime.timedelta(minutes=5),
        ends_at=now + datetime.timedelta(hours=3),
        mode=CouncilSession.Mode.HYBRID,
        status=CouncilSession.Status.IN_SESSION,
        opened_at=now,
    )
    items = AgendaItem.objects.bulk_create(
        [
            AgendaItem(
                session=session,
                position=position,
                title=f"议题 {position}",
                motion=f"压测动议 {position}。",
                rule=AgendaItem.Rule.SIMPLE,
                ballot=AgendaItem.Ballot.SECRET if position in SECRET_ITEMS else AgendaItem.Ballot.OPEN,
            )
            for position in range(1, ITEMS + 1)
        ]
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    for user in users:
        login = store()
        login[SESSION_KEY] = str(user.pk)
        login[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        login[HASH_SESSION_KEY] = user.get_session_auth_hash()
        login.create()
        keys.append(login.session_key)
    (workdir / "sessions.txt").write_text("\n".join(keys))
    (workdir / "council.txt").write_text(" ".join([str(session.pk), *(str(item.pk) for item in items)]))


# ---------------------------------------------------------------------------
# Over HTTP


def token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if match is None:
        raise RuntimeError("no CSRF token on the member page: is the member logged in (and TOTP set up)?")
    return match.group(1)


def at_once(clients, make_request) -> tuple[float, list[float], list[int]]:
    """Every client sends one request at the same moment; the seconds for all, each latency (ms), each status."""
    count = len(clients)
    barrier = threading.Barrier(count + 1)
    latencies, statuses, ends = [0.0] * count, [0] * count, [0.0] * count

    def send(slot: int) -> None:
        method, path, body = make_request(slot)
        barrier.wait()
        started = time.perf_counter()
        try:
            statuses[slot] = clients[slot].request(method, path, body).status
        except (OSError, http.client.HTTPException):
            statuses[slot] = -1
        ends[slot] = time.perf_counter()
        latencies[slot] = (ends[slot] - started) * 1000

    threads = [threading.Thread(target=send, args=(slot,)) for slot in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(TIMEOUT + 10)
    return max(ends) - started, latencies, statuses


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def sealed_while_open(database_url: str, item_id: int) -> str:
    """ "" when the open item's ballots are all sealed (no choice readable in the database), else the problem."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        sealed, readable, salted = connection.execute(
            "SELECT count(*) FILTER (WHERE sealed IS NOT NULL), count(*) FILTER (WHERE choice <> ''),"
            " (SELECT count(*) FROM deliberation_agendaitem WHERE id = %s AND ballot_salt IS NOT NULL)"
            " FROM deliberation_ballot WHERE item_id = %s",
            (item_id, item_id),
        ).fetchone()
    if (sealed, readable, salted) != (MEMBERS, 0, 1):
        return f"item {item_id} while open: {sealed} sealed ballots, {readable} readable, salt {'kept' if salted else 'missing'}"
    return ""


def run_votes(port: int, session_id: int, item_ids: list[int], keys: list[str], database_url: str) -> dict:
    clients = [events_bench.Client(port, key) for key in keys]
    for client in clients:
        client.connection.timeout = TIMEOUT
    chair = clients[0]
    live = f"/zh-hans/me/council/sessions/{session_id}/"
    public = f"/zh-hans/council/sessions/{session_id}/"
    tokens = []
    for client in clients:
        response = client.request("GET", live)
        if response.status != 200:
            raise RuntimeError(f"GET {live} answered {response.status} (expected 200)")
        tokens.append(token(response.body.decode()))

    def form(slot: int, **fields) -> str:
        return urllib.parse.urlencode({"csrfmiddlewaretoken": tokens[slot], **fields})

    _seconds, _latencies, statuses = at_once(clients, lambda slot: ("POST", live, form(slot, action="here")))
    check_in_errors = sum(1 for status in statuses if status != 302)
    # The floor: the same 50 members send, at once, a POST the same view refuses before any vote is touched
    # (session, login, TOTP, CSRF, the member's session lookup, a message, the redirect): what a vote
    # costs above this is the vote itself.
    floor_latencies = []
    for _round in range(3):
        _seconds, latencies, _statuses = at_once(clients, lambda slot: ("POST", live, form(slot, action="nothing")))
        floor_latencies += latencies

    vote_seconds, vote_latencies, vote_statuses, publish_times, close_times, open_problems = [], [], [], [], [], []
    for position, item_id in enumerate(item_ids, start=1):
        opened = chair.request("POST", live, form(0, action="open", item=item_id))
        if opened.status != 302:
            raise RuntimeError(f"opening item {position} answered {opened.status}")
        seconds, latencies, statuses = at_once(
            clients,
            lambda slot, item_id=item_id, position=position: (
                "POST",
                live,
                form(slot, action="vote", item=item_id, choice=choice_of(slot, position)),
            ),
        )
        vote_seconds.append(seconds)
        vote_latencies += latencies
        vote_statuses += statuses
        if position in SECRET_ITEMS:
            open_problems.append(sealed_while_open(database_url, item_id))
        close_started = time.perf_counter()
        closed = chair.request("POST", live, form(0, action="close", item=item_id))
        close_times.append((time.perf_counter() - close_started) * 1000)
        if closed.status != 302:
            raise RuntimeError(f"closing item {position} answered {closed.status}")
        marker = f'id="item-{item_id}"'
        reader = events_bench.Client(port, "bench-anonymous")
        reader.cookies.clear()  # an anonymous visitor, as the public sees it
        while True:
            page = reader.request("GET", public).body.decode()
            section = page[page.find(marker) :]
            section = section[: section.find("</li>")] if marker in page else ""
            if "data-outcome" in section:
                publish_times.append((time.perf_counter() - close_started) * 1000)
                break
            if time.perf_counter() - close_started > RESULT_WAIT:
                raise RuntimeError(f"the result of item {position} did not show on the public page within {RESULT_WAIT} s")
            time.sleep(0.005)
        reader.connection.close()
    for client in clients:
        client.connection.close()
    votes = len(vote_latencies)
    return {
        "check_in_errors": check_in_errors,
        "votes": votes,
        "seconds": sum(vote_seconds),
        "per_second": votes / sum(vote_seconds),
        "p50_ms": percentile(vote_latencies, 0.5),
        "p95_ms": percentile(vote_latencies, 0.95),
        "floor_p50_ms": percentile(floor_latencies, 0.5),
        "floor_p95_ms": percentile(floor_latencies, 0.95),
        "max_ms": max(vote_latencies),
        "redirects": sum(1 for status in vote_statuses if status == 302),
        "server_errors": sum(1 for status in vote_statuses if status >= 500),
        "failed": sum(1 for status in vote_statuses if status < 0),
        "close_ms": close_times,
        "open_problems": [problem for problem in open_problems if problem],
        "publish_p50_ms": percentile(publish_times, 0.5),
        "publish_max_ms": max(publish_times),
    }


def check_database(database_url: str, session_id: int, item_ids: list[int]) -> list[str]:
    """The counts in the database against the choices sent; each problem found, one line each."""
    import psycopg

    problems = []
    with psycopg.connect(database_url) as connection:
        attendance = connection.execute(
            "SELECT count(*) FROM deliberation_attendance WHERE session_id = %s", (session_id,)
        ).fetchone()[0]
        if attendance != MEMBERS:
            problems.append(f"attendance {attendance}, expected {MEMBERS}")
        for position, item_id in enumerate(item_ids, start=1):
            expected = {choice: sum(1 for m in range(MEMBERS) if choice_of(m, position) == choice) for choice in CHOICES}
            if position in SECRET_ITEMS:
                rows = connection.execute(
                    "SELECT (SELECT count(*) FROM deliberation_participation WHERE item_id = %s),"
                    " (SELECT count(DISTINCT member_id) FROM deliberation_participation WHERE item_id = %s)",
                    (item_id, item_id),
                ).fetchone()
                stored = dict(
                    connection.execute(
                        "SELECT choice, count(*) FROM deliberation_ballot WHERE item_id = %s GROUP BY choice", (item_id,)
                    ).fetchall()
                )
            else:
                rows = connection.execute(
                    "SELECT count(*), count(DISTINCT member_id) FROM deliberation_vote WHERE item_id = %s", (item_id,)
                ).fetchone()
                stored = dict(
                    connection.execute(
                        "SELECT choice, count(*) FROM deliberation_vote WHERE item_id = %s GROUP BY choice", (item_id,)
                    ).fetchall()
                )
            if tuple(rows) != (MEMBERS, MEMBERS):
                problems.append(f"item {position}: {rows[0]} rows for {rows[1]} members, expected {MEMBERS} each")
            if {choice: stored.get(choice, 0) for choice in CHOICES} != expected:
                problems.append(f"item {position}: stored {stored}, sent {expected}")
            leftover = connection.execute(
                "SELECT (SELECT count(*) FROM deliberation_ballot WHERE item_id = %s AND sealed IS NOT NULL),"
                " (SELECT count(*) FROM deliberation_agendaitem WHERE id = %s AND ballot_salt IS NOT NULL)",
                (item_id, item_id),
            ).fetchone()
            if tuple(leftover) != (0, 0):
                problems.append(f"item {position}: after close {leftover[0]} sealed ballots and {leftover[1]} salt left")
            result = connection.execute(
                "SELECT yes, no, abstain, present FROM deliberation_result WHERE item_id = %s", (item_id,)
            ).fetchone()
            if result is None or tuple(result) != (expected["yes"], expected["no"], expected["abstain"], MEMBERS):
                problems.append(f"item {position}: result {result}, expected {expected} with {MEMBERS} present")
    return problems


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "setup":
        events_bench.django_setup()
        setup(Path(sys.argv[2]))
        return 0
    if len(sys.argv) == 2 and sys.argv[1] == "verify":
        events_bench.django_setup()
        from deliberation.council.services import verify_results

        problems = verify_results()
        print("\n".join(problems) if problems else "OK")
        return 1 if problems else 0

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_COUNCIL_PORT", 8015)))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and database")
    options = parser.parse_args()

    if not events_bench.postgres_answers():
        print("bench council: SKIPPED: PostgreSQL does not answer on 127.0.0.1:5432.")
        return 0
    database = f"linli_bench_council_{os.getpid()}"
    database_url = f"postgres://postgres@{HOST}:5432/{database}"
    created = subprocess.run(["createdb", "-h", HOST, "-U", "postgres", database], capture_output=True, text=True, timeout=60)
    if created.returncode != 0:
        print(f"bench council: SKIPPED: createdb {database} failed: {created.stderr.strip()}")
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="linli-bench-council-"))
    log = workdir / "bench.log"
    use_redis = bench.redis_answers()
    env = bench.production_env(workdir, database_url=database_url, use_redis=use_redis)
    env["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"  # messages are built, not sent

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)

    server = None
    started = time.monotonic()
    try:
        if use_redis:
            bench.run([str(bench.PYTHON), "-c", events_bench.FLUSH_REDIS % bench.REDIS_DB], env, log)
        print(f"bench council: {database} (migrate, a council of {MEMBERS}, a session with {ITEMS} items)", flush=True)
        bench.run([str(bench.PYTHON), "manage.py", "migrate", "--noinput", "-v0"], env, log)
        bench.run([str(bench.PYTHON), str(Path(__file__).resolve()), "setup", str(workdir)], env, log)
        session_id, *item_ids = (int(pk) for pk in (workdir / "council.txt").read_text().split())
        keys = (workdir / "sessions.txt").read_text().split()
        server = bench.start_server(options.port, env, workdir)
        bench.wait_for_health(options.port, server)
        print(f"bench council: {MEMBERS} members check in, then vote at once on each of {ITEMS} items", flush=True)
        figures = run_votes(options.port, session_id, item_ids, keys, database_url)
        problems = figures["open_problems"] + check_database(database_url, session_id, item_ids)
        chain = subprocess.run(
            [str(bench.PYTHON), str(Path(__file__).resolve()), "verify"],
            cwd=bench.REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if chain.returncode != 0:
            problems.append(f"verify_results: {chain.stdout.strip() or chain.stderr.strip()[-500:]}")
    except (RuntimeError, subprocess.TimeoutExpired, KeyboardInterrupt) as error:
        print(f"bench council: failed or interrupted: {error!r}; logs in {workdir}", file=sys.stderr)
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

    print(
        f"\nLinli council bench: production settings, gunicorn on {HOST}, PostgreSQL, cache: {'Redis db 15' if use_redis else 'file cache'}\n"
    )
    print(
        f"{MEMBERS} members, {ITEMS} items ({len(SECRET_ITEMS)} by sealed secret ballot), every member votes on every item at once"
    )
    print(
        f"  {figures['per_second']:.0f} votes/s ({figures['votes']} in {figures['seconds']:.1f} s of voting), "
        f"p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms, max {figures['max_ms']:.0f} ms"
    )
    print(f"  vote p95 goal < {VOTE_P95_GOAL_MS} ms: {'met' if figures['p95_ms'] < VOTE_P95_GOAL_MS else 'NOT met'}")
    print(
        f"  floor, a refused POST to the same page by the same 50 at once (3 rounds): p50 {figures['floor_p50_ms']:.0f} ms, "
        f"p95 {figures['floor_p95_ms']:.0f} ms; vote p95 / floor p95 = {figures['p95_ms'] / figures['floor_p95_ms']:.2f}"
    )
    print(
        "  close and tally (open 50 sealed ballots, store them plain, count, store the result), per item: "
        + ", ".join(f"{ms:.0f}" for ms in figures["close_ms"])
        + f" ms (p50 {percentile(figures['close_ms'], 0.5):.0f}, max {max(figures['close_ms']):.0f})"
    )
    print(f"  close → result on the public page: p50 {figures['publish_p50_ms']:.0f} ms, max {figures['publish_max_ms']:.0f} ms")
    print(
        f"  server errors {figures['server_errors']}, connection failures {figures['failed']}, "
        f"check-in errors {figures['check_in_errors']}, answers other than a redirect {figures['votes'] - figures['redirects']}"
    )
    print("  database: " + ("every vote counted once, results and hash chain correct" if not problems else "; ".join(problems)))
    ok = not problems and figures["server_errors"] == 0 and figures["failed"] == 0 and figures["redirects"] == figures["votes"]
    print(f"\nbench council: {time.monotonic() - started:.0f} s in all; {'OK' if ok else 'PROBLEMS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
