#!/usr/bin/env python
"""`make bench`, neighbour-help part: a grid with 10,000 posts, its page and its board, in production mode on loopback.

1. A throwaway SQLite database in a temporary folder (migrate), one community, one grid, 20 residents of it and
   10 open posts; a logged-in resident of the grid (a session row, as a login makes).
2. The query count of each page as that resident, after one warm-up request: the grid page
   (/zh-hans/grids/<id>/), the board (/zh-hans/neighbours/), its page 2 and a filtered page (a category, page 3),
   after two warm-up rounds, with the median time of one request in-process. Then 9,990 more posts (10,000 in the
   grid), and the same counts and times again: the counts must be equal (flat).
3. `make serve` (collectstatic, gunicorn, production settings, SECURE_SSL_REDIRECT=0; Redis db BENCH_REDIS_DB,
   default 15, as the cache when Redis answers) and, in turns like bench/run.py, bounded load on a hashed static
   file and on the four pages with the resident's cookie (personal pages: never from the page cache): req/s, p95
   and each page's rate as a ratio to the static file's.

The goals: the query counts are flat (the exit status is 1 when one grows); each page reaches 0.05 of the static
file's rate, the goal of the other uncached personal pages (bench/events.py) — printed, and a miss is reported
but, on a shared machine, not fatal. All traffic goes to 127.0.0.1; every stretch of load is bounded in time;
gunicorn is stopped and the temporary folder (with its database) removed at the end, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime
import json
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
FEW, MANY = 10, 10_000
RATIO = 0.05  # each personal page rendered afresh, to the static file (as bench/events.py's uncached pages)
CATEGORIES = ("errands", "repairs", "elderly", "tools", "tutoring")


# ---------------------------------------------------------------------------
# Inside Django (run as `bench/neighbours.py probe WORKDIR` with the server's environment)


def probe(workdir: Path) -> None:
    """Make the grid, its residents and 10 posts, count each page's queries, grow to 10,000 posts, count again;
    print the session key, the paths and both counts as JSON."""
    sys.path[:0] = [str(REPO / "site"), str(REPO)]
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from home import factories
    from home.services import create_community, ensure_site
    from neighbours.factories import neighbour
    from neighbours.models import Post, default_expiry

    ensure_site()
    community = create_community(name="运河湾社区", code="bench", name_en="Canal Bay")
    grid = factories.GridFactory(community=community, number=1, name="第1网格", name_en="Grid 1")
    authors = [neighbour(grid, display_name=f"邻居{number:02d}") for number in range(20)]
    reader = neighbour(grid, display_name="王秀英", mobile="13905710101", mobile_verified=True)

    def add_posts(start: int, count: int) -> None:
        now = timezone.now()
        Post.objects.bulk_create(
            [
                Post(
                    grid=grid,
                    community=community,
                    author=authors[number % len(authors)],
                    title=f"帮忙提菜上楼 {number}",
                    text="周六上午从菜场回来，东西有点多，想请邻居帮忙提上楼。",
                    place="3幢楼下",
                    category=CATEGORIES[number % len(CATEGORIES)],
                    urgency=("low", "normal", "urgent")[number % 3],
                    created_at=now - datetime.timedelta(minutes=number % 10_000),
                    expires_at=default_expiry(now),
                )
                for number in range(start, start + count)
            ],
            batch_size=2000,
        )

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(reader.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = reader.get_session_auth_hash()
    session.create()
    paths = {
        "grid page": f"/zh-hans/grids/{grid.pk}/",
        "board": "/zh-hans/neighbours/",
        "board, page 2": "/zh-hans/neighbours/?page=2",
        "board, repairs, page 3": "/zh-hans/neighbours/?category=repairs&page=3",
    }
    client = Client(HTTP_HOST=bench.HOST)
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key

    def counts() -> tuple[dict[str, int], dict[str, float]]:
        """Each page's queries and its median time in-process (ms, of 5), after two warm-up rounds over all
        the pages (the first requests of a session write it and fill the shared blocks' cache)."""
        for _round in range(2):
            for path in paths.values():
                client.get(path)
        found, took = {}, {}
        for name, path in paths.items():
            seen: list[str] = []

            def count(execute, sql, params, many, context, seen=seen):
                seen.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"GET {path} as the resident answered {response.status_code}")
            found[name] = len(seen)
            times = []
            for _run in range(5):
                begin = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - begin) * 1000)
            took[name] = sorted(times)[2]
        return found, took

    add_posts(0, FEW)
    few, few_ms = counts()
    add_posts(FEW, MANY - FEW)
    many, many_ms = counts()
    posts = Post.objects.filter(grid=grid).count()
    print(
        json.dumps(
            {
                "session": session.session_key,
                "paths": paths,
                "few": few,
                "many": many,
                "few_ms": few_ms,
                "many_ms": many_ms,
                "posts": posts,
            }
        )
    )


# ---------------------------------------------------------------------------
# Over HTTP


def main() -> int:
    if sys.argv[1:2] == ["probe"]:
        probe(Path(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each measurement (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections (default 8)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8013)))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, logs)")
    parser.add_argument("--file-cache", action="store_true", help="use the file cache even if Redis answers")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even if wrk is installed")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="linli-bench-neighbours-"))
    log = workdir / "bench.log"
    use_redis = not options.file_cache and bench.redis_answers()
    env = bench.production_env(workdir, database_url=f"sqlite:///{workdir / 'bench.sqlite3'}", use_redis=use_redis)
    backend = f"Redis db {bench.REDIS_DB}" if use_redis else "file cache"
    use_wrk = bool(shutil.which("wrk")) and not options.python_load
    generator = "wrk" if use_wrk else "Python threads, keep-alive" + ("" if shutil.which("wrk") else " (wrk not found)")
    script = workdir / "p95.lua"
    script.write_text(bench.WRK_SCRIPT)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)

    server = None
    started = time.monotonic()
    try:
        print(f"bench: {env['DATABASE_URL']} (migrate; a grid with {FEW} posts, then {MANY:,})", flush=True)
        bench.run([str(bench.PYTHON), "manage.py", "migrate", "--noinput", "-v0"], env, log)
        # The server first: its collectstatic writes the manifest the pages' {% static %} reads.
        server = bench.start_server(options.port, env, workdir)
        bench.wait_for_health(options.port, server)
        probed = subprocess.run(
            [str(bench.PYTHON), str(Path(__file__).resolve()), "probe", str(workdir)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if probed.returncode != 0:
            raise RuntimeError(f"the probe failed: {probed.stderr[-3000:]}")
        found = json.loads(probed.stdout.strip().splitlines()[-1])
        cookie = {"Cookie": f"sessionid={found['session']}"}
        plan = [("static file (whitenoise)", bench.static_css_path(), {})]
        plan += [(name, path, cookie) for name, path in found["paths"].items()]
        results = []
        for name, path, headers in plan:  # warm up the workers' imports, connections and shared blocks
            for _round in range(10):
                response = bench.get(options.port, path, headers)
                if response.status != 200:
                    raise RuntimeError(f"GET {path} answered {response.status}")
            results.append(bench.Result(name, path, response.headers.get("X-Page-Cache", "-")))
        print(
            f"bench: {len(plan)} URLs for {options.seconds:.0f} s each, in {bench.ROUNDS} turns, "
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
        print(f"bench: failed or interrupted: {error!r}; logs in {workdir}", file=sys.stderr)
        if (workdir / "serve.log").exists():
            print((workdir / "serve.log").read_text()[-3000:], file=sys.stderr)
        options.keep = True
        return 2
    finally:
        if server is not None:
            bench.stop(server)
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    static = results[0]
    print(f"\nLinli bench, neighbour help: a grid with {found['posts']:,} posts; production settings, gunicorn on")
    print(f"{bench.HOST}, SQLite, cache: {backend}, load: {generator}; a logged-in resident of the grid\n")
    print(
        f"{'what':<26} {'req/s':>8} {'ratio':>6} {'p95 ms':>8} {'p95/static':>10} {'errors':>6} {'queries':>7} {'(10 posts)':>10} {'1 req ms':>8} {'(10 posts)':>10}"
    )
    flat, fast = True, True
    for result in results:
        ratio = result.requests_per_second / static.requests_per_second
        p95_ratio = result.p95_ms / static.p95_ms if static.p95_ms else float("nan")
        queries = found["many"].get(result.name, "")
        before = found["few"].get(result.name, "")
        alone = f"{found['many_ms'][result.name]:.0f}" if result.name in found["many_ms"] else ""
        alone_before = f"{found['few_ms'][result.name]:.0f}" if result.name in found["few_ms"] else ""
        print(
            f"{result.name:<26} {result.requests_per_second:>8.0f} {ratio:>6.3f} {result.p95_ms:>8.1f} {p95_ratio:>10.1f} "
            f"{result.errors:>6} {queries!s:>7} {before!s:>10} {alone:>8} {alone_before:>10}"
        )
    print()
    for result in results[1:]:
        ratio = result.requests_per_second / static.requests_per_second
        queries, before = found["many"][result.name], found["few"][result.name]
        page_flat, page_fast = queries == before and result.errors == 0, ratio >= RATIO
        flat, fast = flat and page_flat, fast and page_fast
        print(
            f"goal: {result.name}: queries with {MANY:,} posts = with {FEW}: {queries} / {before}, "
            f"{'met' if page_flat else 'MISSED'}; req/s >= {RATIO} of the static file: {ratio:.3f}, "
            f"{'met' if page_fast else 'missed (reported, not fatal on a shared machine)'}"
        )
    print(f"bench/neighbours.py: {time.monotonic() - started:.0f} s in all; {'ok' if flat else 'FAILED: a query count grew'}")
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
