#!/usr/bin/env python
"""`make bench`, memory: a gunicorn worker's resident memory through 10,000 mixed requests, in production mode.

bench/run.py's server (`make serve`: gunicorn, two workers per core x 2 threads, production settings, Redis db 15 as the
cache when it answers) on a throwaway SQLite database with the demo street, one verified resident logged in
(a session cookie, and the same session as the API's token) and a 30-seat session for them to book. Eight
threads, each on its own keep-alive connection, send the same mix in turn, 50 requests a round:

- 6 a static file (whitenoise);
- 12 anonymous pages (the home page in both languages, the notices and a notice, the activity list and an
  activity page);
- 15 logged-in pages (home, activity list, activity page, My page, My bookings);
- 15 API reads with the token (activities, my bookings);
- 2 POSTs: the resident books the session through the API and cancels the booking.

The resident memory of each worker (VmRSS in /proc/<pid>/status) is read after the first 1,000 requests
(warm-up: every kind of request has been served many times by then) and after every 1,000 more. Goals, for
every worker: at the end no more than 5 % above its figure after the warm-up (no growth: what a request leaves
behind would pile up over 9,000 requests), and at most 250 MB. The exit status is 1 when a goal is missed, a
request gets an unexpected answer or a worker was replaced, 2 when the run fails. Bounded: 10,000 requests or
`--deadline` seconds (default 900), whichever comes first (a run cut short misses the goals).
All traffic goes to 127.0.0.1; gunicorn is stopped and the folder removed at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (bench/run.py: server, measurement)

REPO = bench.REPO
HOST = bench.HOST
REQUESTS = 10_000
WARM_UP = 1_000
STEP = 1_000
GROWTH_GOAL = 0.05  # at most 5 % above the figure after the warm-up
CEILING_MB = 250
THREADS = 8


def setup(workdir: Path) -> None:
    """A verified resident with a logged-in session and a 30-seat session three days ahead for them to book."""
    sys.path[:0] = [str(REPO / "site"), str(REPO)]
    import django

    django.setup()
    import datetime
    from importlib import import_module

    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.utils import timezone

    from events import factories
    from home.models import ResidentProfile

    user = get_user_model().objects.create(username="memory-bench", email="memory-bench@bench.localhost")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    ResidentProfile.objects.create(
        user=user,
        display_name="内存压测",
        birth_year=1980,
        privacy_notice_version=settings.LINLI_PRIVACY_NOTICE_VERSION,
        privacy_consented_at=timezone.now(),
    )
    activity = factories.activity(title="内存压测公开课", slug="memory-bench", summary="压测。", kind="class")
    session = factories.SessionFactory(activity=activity, starts_at=timezone.now() + datetime.timedelta(days=3), capacity=30)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    (workdir / "memory.json").write_text(
        json.dumps({"session_key": store.session_key, "session_id": session.pk, "activity": activity.url})
    )


def mix(port: int, setup_data: dict) -> list[tuple]:
    """One round of 50 requests: (method, path, headers, body, expected status); 'book' is the POST pair."""
    cookie = {"Cookie": f"sessionid={setup_data['session_key']}"}
    token = {"X-Session-Token": setup_data["session_key"], "Accept-Language": "zh-hans"}
    activity = setup_data["activity"]
    anonymous = ["/zh-hans/", "/en/", "/zh-hans/notices/", bench.first_notice_path(port), "/zh-hans/activities/", activity]
    logged_in = ["/zh-hans/", "/zh-hans/activities/", activity, "/zh-hans/me/", "/zh-hans/me/bookings/"]
    api = ["/api/v1/activities/", "/api/v1/me/bookings/"]
    round_ = [("GET", bench.static_css_path(), {}, None, 200)] * 6
    round_ += [("GET", path, {}, None, 200) for path in anonymous] * 2
    round_ += [("GET", path, cookie, None, 200) for path in logged_in] * 3
    round_ += [("GET", path, token, None, 200) for path in api] * 7
    round_ += [("BOOK", f"/api/v1/sessions/{setup_data['session_id']}/bookings/", token, None, 201)]
    # Spread the kinds through the round, so that any stretch of requests has a bit of everything.
    return [round_[(index * 7) % len(round_)] for index in range(len(round_))]


class Sender:
    """One thread's keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)

    def send(self, method: str, path: str, headers: dict, body: bytes | None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
                if attempt == 2:
                    return -1, b""
        return -1, b""


def drive(port: int, round_: list[tuple], workers: list[int], deadline: float) -> dict:
    """Send REQUESTS requests from THREADS threads; read the workers' memory at every STEP."""
    counter = [0]
    lock = threading.Lock()
    samples: dict[int, dict[int, int]] = {}
    errors: list[str] = []
    posts = [0]
    booking = threading.Lock()  # one resident: their booking and its cancelling, one pair at a time

    def take(count: int) -> int | None:
        with lock:
            if counter[0] >= REQUESTS or time.monotonic() > deadline:
                return None
            first = counter[0]
            counter[0] += count
            for mark in range(STEP, REQUESTS + 1, STEP):
                if first < mark <= counter[0]:
                    samples[mark] = {pid: rss_or_zero(pid) for pid in workers}
            return first

    def book_and_cancel(sender: Sender, path: str, headers: dict, expected: int) -> None:
        idempotency = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        status, answer = sender.send("POST", path, {**headers, **idempotency}, b"{}")
        if status != expected:
            errors.append(f"POST {path}: {status} {answer[:200]!r}")
            return
        made = json.loads(answer)["id"]
        status, answer = sender.send("POST", f"/api/v1/me/bookings/{made}/cancel/", headers, b"")
        if status != 200:
            errors.append(f"POST cancel {made}: {status} {answer[:200]!r}")
        with lock:
            posts[0] += 2

    def work() -> None:
        sender = Sender(port)
        while True:
            with lock:
                index = counter[0]
            method, path, headers, body, expected = round_[index % len(round_)]
            if method == "BOOK":
                if take(2) is None:
                    break
                with booking:
                    book_and_cancel(sender, path, headers, expected)
                continue
            if take(1) is None:
                break
            status, _answer = sender.send(method, path, headers, body)
            if status != expected:
                errors.append(f"{method} {path}: {status}")
        sender.connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "sent": min(counter[0], REQUESTS),
        "seconds": time.perf_counter() - started,
        "samples": samples,
        "errors": errors,
        "posts": posts[0],
    }


def rss_or_zero(pid: int) -> int:
    try:
        return bench.resident_kilobytes(pid)
    except (OSError, RuntimeError):
        return 0  # the worker is gone


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "setup":
        setup(Path(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_MEMORY_PORT", 8016)))
    parser.add_argument("--deadline", type=float, default=900, help="stop sending after this many seconds (default 900)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, logs)")
    parser.add_argument("--file-cache", action="store_true", help="use the file cache even if Redis answers")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="linli-bench-memory-"))
    log = workdir / "bench.log"
    use_redis = not options.file_cache and bench.redis_answers()
    env = bench.production_env(workdir, database_url=f"sqlite:///{workdir / 'bench.sqlite3'}", use_redis=use_redis)
    env.update(LINLI_API_RATE_PER_ADDRESS="0", LINLI_API_RATE_PER_TOKEN="0")  # all load comes from one address

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)

    server = None
    started = time.monotonic()
    try:
        print(f"bench memory: seeding {env['DATABASE_URL']} (migrate, seed_demo)", flush=True)
        bench.run([str(bench.PYTHON), "manage.py", "migrate", "--noinput", "-v0"], env, log)
        bench.run(
            [str(bench.PYTHON), "manage.py", "seed_demo"],
            {**env, "DJANGO_SETTINGS_MODULE": "linli.settings.dev", "DEBUG": "0"},
            log,
        )
        bench.run([str(bench.PYTHON), str(Path(__file__).resolve()), "setup", str(workdir)], env, log)
        setup_data = json.loads((workdir / "memory.json").read_text())
        server = bench.start_server(options.port, env, workdir)
        bench.wait_for_health(options.port, server)
        workers = bench.gunicorn_workers(server)
        if not workers:
            raise RuntimeError("no gunicorn worker found in the server's process group")
        round_ = mix(options.port, setup_data)
        started_rss = {pid: rss_or_zero(pid) for pid in workers}
        print(f"bench memory: {REQUESTS} requests from {THREADS} threads, workers {workers}", flush=True)
        figures = drive(options.port, round_, workers, time.monotonic() + options.deadline)
        replaced = sorted(set(bench.gunicorn_workers(server)) ^ set(workers))
    except (RuntimeError, subprocess.TimeoutExpired, KeyboardInterrupt) as error:
        print(f"bench memory: failed or interrupted: {error!r}; logs in {workdir}", file=sys.stderr)
        if (workdir / "serve.log").exists():
            print((workdir / "serve.log").read_text()[-3000:], file=sys.stderr)
        options.keep = True
        return 2
    finally:
        if server is not None:
            bench.stop(server)
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    samples = figures["samples"]
    print(
        f"\nLinli bench, memory: production settings, gunicorn on {HOST}, SQLite, cache: "
        f"{f'Redis db {bench.REDIS_DB}' if use_redis else 'file cache'}"
    )
    print(f"machine load (1, 5, 15 min): {' '.join(f'{load:.2f}' for load in os.getloadavg())} on {os.cpu_count()} cores")
    print(
        f"{figures['sent']} requests ({figures['posts']} POSTs) in {figures['seconds']:.0f} s, "
        f"{figures['sent'] / figures['seconds']:.0f} req/s; unexpected answers: {len(figures['errors'])}"
    )
    for error in figures["errors"][:5]:
        print(f"  {error}")
    print(f"\n{'requests':>9}  " + "  ".join(f"{f'worker {pid} MB':>16}" for pid in workers))
    print(f"{'start':>9}  " + "  ".join(f"{started_rss[pid] / 1024:>16.1f}" for pid in workers))
    for mark in sorted(samples):
        print(f"{mark:>9}  " + "  ".join(f"{samples[mark][pid] / 1024:>16.1f}" for pid in workers))
    met = figures["sent"] == REQUESTS and not figures["errors"] and not replaced and WARM_UP in samples
    if replaced:
        print(f"workers replaced during the run: {replaced}")
    if met:
        last = samples[max(samples)]
        for pid in workers:
            warm, end = samples[WARM_UP][pid] / 1024, last[pid] / 1024
            growth = end / warm - 1
            grew_ok, ceiling_ok = growth <= GROWTH_GOAL, end <= CEILING_MB
            met = met and grew_ok and ceiling_ok
            print(
                f"goal: worker {pid} after {max(samples)} requests {end:.1f} MB, {growth:+.1%} since the warm-up "
                f"({warm:.1f} MB after {WARM_UP}): growth <= {GROWTH_GOAL:.0%} {'met' if grew_ok else 'MISSED'}, "
                f"<= {CEILING_MB} MB {'met' if ceiling_ok else 'MISSED'}"
            )
    else:
        print(f"goal: {REQUESTS} requests answered as expected by the same workers: MISSED")
    print(f"bench memory: {time.monotonic() - started:.0f} s in all")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
