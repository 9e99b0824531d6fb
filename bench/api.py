#!/usr/bin/env python
"""`make bench`, the API: requests per second of the phone clients' hot reads as ratios to a static file.

Production mode on loopback (bench/run.py's server: `make serve`, gunicorn, Redis db 15 as the cache when it
answers), a throwaway SQLite database with the demo street, and one demo resident's session token (as allauth's
headless log-in returns it). Measured in turns with a whitenoise file in the same run:

- `GET /api/v1/activities/` (public, in the resident's language) and `GET /api/v1/me/bookings/` (personal),
  each fetched whole (200) and as an ETag hit (the client sends the ETag it holds: 304, no body);
- goals: every figure at least 0.25 of the static file's rate, ETag hits at least 0.8.

The API's rate limits are off for the run (all load comes from one address and one token; the limits have their
own tests). All traffic goes to 127.0.0.1; gunicorn is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (bench/run.py: server, load generators, measurement)

REPO = bench.REPO
LIST_GOAL = 0.25
ETAG_GOAL = 0.8


def setup_token(workdir: Path) -> None:
    """A logged-in session for the demo resident with the most bookings; its key is the API's session token."""
    sys.path[:0] = [str(REPO / "site"), str(REPO)]
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.db.models import Count

    user = (
        get_user_model()
        .objects.filter(username__startswith="demo-")
        .annotate(booked=Count("bookings"))
        .order_by("-booked", "pk")
        .first()
    )
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    (workdir / "token.txt").write_text(session.session_key)


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "setup-token":
        setup_token(Path(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each measurement (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections (default 16)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_API_PORT", 8015)))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, logs)")
    parser.add_argument("--file-cache", action="store_true", help="use the file cache even if Redis answers")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even if wrk is installed")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="linli-bench-api-"))
    log = workdir / "bench.log"
    use_redis = not options.file_cache and bench.redis_answers()
    env = bench.production_env(workdir, database_url=f"sqlite:///{workdir / 'bench.sqlite3'}", use_redis=use_redis)
    env.update(LINLI_API_RATE_PER_ADDRESS="0", LINLI_API_RATE_PER_TOKEN="0")
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
    try:
        print(f"bench api: seeding {env['DATABASE_URL']} (migrate, seed_demo)", flush=True)
        bench.run([str(bench.PYTHON), "manage.py", "migrate", "--noinput", "-v0"], env, log)
        dev = {**env, "DJANGO_SETTINGS_MODULE": "linli.settings.dev", "DEBUG": "0"}
        bench.run([str(bench.PYTHON), "manage.py", "seed_demo"], dev, log)
        bench.run([str(bench.PYTHON), str(Path(__file__).resolve()), "setup-token", str(workdir)], env, log)
        token = {"X-Session-Token": (workdir / "token.txt").read_text().strip(), "Accept-Language": "zh-hans"}
        server = bench.start_server(options.port, env, workdir)
        bench.wait_for_health(options.port, server)

        plan = [("static file (whitenoise)", bench.static_css_path(), {}, 200)]
        for name, path in (("activities", "/api/v1/activities/"), ("my bookings", "/api/v1/me/bookings/")):
            response = bench.get(options.port, path, token)
            if response.status != 200 or not response.headers.get("ETag"):
                raise RuntimeError(f"GET {path} answered {response.status} without an ETag")
            plan.append((f"API {name}", path, token, 200))
            plan.append((f"API {name}, ETag hit", path, {**token, "If-None-Match": response.headers["ETag"]}, 304))
        results = []
        for name, path, headers, status in plan:  # warm up, and check each answers as expected
            for _round in range(20):
                response = bench.get(options.port, path, headers)
                if response.status != status:
                    raise RuntimeError(f"GET {path} ({name}) answered {response.status}, not {status}")
            results.append(bench.Result(name, path, str(status)))
        print(
            f"bench api: {len(plan)} URLs for {options.seconds:.0f} s each, in {bench.ROUNDS} turns, "
            f"{options.connections} connections",
            flush=True,
        )
        part = options.seconds / bench.ROUNDS
        for _round in range(bench.ROUNDS):
            for result, (_name, path, headers, status) in zip(results, plan, strict=True):
                if use_wrk:
                    result.slices.append(bench.load_with_wrk(options.port, path, headers, part, options.connections, script))
                else:
                    result.slices.append(
                        bench.load_with_python(options.port, path, headers, part, options.connections, expected=status)
                    )
    except (RuntimeError, subprocess.TimeoutExpired, KeyboardInterrupt) as error:
        print(f"bench api: failed or interrupted: {error!r}; logs in {workdir}", file=sys.stderr)
        if (workdir / "serve.log").exists():
            print((workdir / "serve.log").read_text()[-3000:], file=sys.stderr)
        options.keep = True
        return 2
    finally:
        if server is not None:
            bench.stop(server)
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    static_rate = results[0].requests_per_second
    print(f"\nLinli bench, the API: production settings, SQLite, load: {generator}; 'cache' is the expected status\n")
    bench.print_table(results, static_rate, "Redis db 15" if use_redis else "file cache", generator)
    met = True
    print()
    for result in results[1:]:
        goal = ETAG_GOAL if result.name.endswith("ETag hit") else LIST_GOAL
        ratio = result.requests_per_second / static_rate
        met = met and ratio >= goal and result.errors == 0
        verdict = "met" if ratio >= goal else "MISSED"
        print(f"goal: {result.name} >= {goal} of the static file: {ratio:.2f}, {verdict}; errors {result.errors}")
    print(f"bench api: {time.monotonic() - started:.0f} s in all")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
