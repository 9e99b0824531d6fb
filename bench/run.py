#!/usr/bin/env python
"""`make bench`: throughput and p95 latency of Linli in production mode on loopback.

1. Seeds a throwaway SQLite database (or the database of DATABASE_URL, if given) with
   `migrate` and `seed_demo`; the demo app exists only in the development settings, so the
   seed runs with those (DEBUG off: the demo users get no usable password), on the same database.
2. Starts `make serve` (collectstatic, then gunicorn with linli.settings.production) on
   127.0.0.1 with SECURE_SSL_REDIRECT=0, and Redis db 15 as the cache when Redis answers
   on 127.0.0.1:6379 (otherwise the shared file cache of the production settings).
3. Waits for /healthz, warms up, then drives each URL for a bounded time with wrk (or, if
   wrk is missing, a Python load generator with keep-alive connections) and prints req/s,
   the ratio to the static file and p95 latency: the home page and a notice page from the
   anonymous page cache, the home page with a session cookie (which bypasses the cache:
   the miss path), a hashed static file served by whitenoise, and the pages a logged-in
   resident uses most with a demo resident's session (home, activity list, an activity
   page, My page). The URLs are loaded in turns, in slices, so that a change in the
   machine's load hits all alike. Before the load, the same four pages are requested in
   a separate process with the server's environment and the resident logged in, and the
   database queries of each (after one warm-up request) are counted.

The targets: the cached home page reaches at least 0.8 of the static file's rate, each
logged-in page at least 0.15, and each logged-in page makes at most 12 queries; the
exit status is 1 when one is missed. All traffic goes to 127.0.0.1; gunicorn is stopped at
the end, also after an error or Ctrl-C. Installs nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
HOST = "127.0.0.1"
REDIS = (HOST, 6379)
# The benches' own Redis database (emptied by some of them); BENCH_REDIS_DB picks another for a second run at once.
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "15"))
TARGET_RATIO = 0.8
RESIDENT_RATIO = 0.15  # each logged-in page, to the static file
RESIDENT_QUERIES = 12  # at most, per logged-in page
RESIDENT_EMAIL = "wang.xiuying@linli.localhost"  # a demo resident with bookings and a household
ROUNDS = 5  # each measurement is split into this many slices, taken in turns with the others
# wrk's latency distribution in 200 quantiles (wrk --latency prints only 50/75/90/99), so
# that the slices of one measurement can be merged into one p95.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("LINLI-BENCH %d %d %d\\n", summary.requests, summary.duration,
    errors.status + errors.connect + errors.read + errors.write + errors.timeout))
  for step = 1, 200 do
    io.write(string.format("LINLI-LATENCY %d\\n", latency:percentile(step / 2)))
  end
end
"""


@dataclass
class Slice:
    """One stretch of load on one URL."""

    requests: int
    seconds: float
    errors: int
    latencies_ms: list[tuple[float, float]]  # (latency, weight in requests)


@dataclass
class Result:
    name: str
    path: str
    cache: str
    slices: list[Slice] = field(default_factory=list)

    @property
    def requests_per_second(self) -> float:
        return sum(part.requests for part in self.slices) / sum(part.seconds for part in self.slices)

    @property
    def errors(self) -> int:
        return sum(part.errors for part in self.slices)

    @property
    def p95_ms(self) -> float:
        points = sorted(point for part in self.slices for point in part.latencies_ms)
        total = sum(weight for _latency, weight in points)
        running = 0.0
        for latency, weight in points:
            running += weight
            if running >= 0.95 * total:
                return latency
        return float("nan")


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def production_env(workdir: Path, *, database_url: str, use_redis: bool) -> dict[str, str]:
    """The environment of `make serve` on loopback: production settings, plain HTTP, a throwaway cache."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "linli.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "COUNCIL_BALLOT_KEY": secrets.token_urlsafe(32),
        "COUNCIL_CHAIN_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "DATABASE_URL": database_url,
        "SECURE_SSL_REDIRECT": "0",
        "CACHE_DIR": str(workdir / "cache"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if use_redis:
        env["REDIS_URL"] = f"redis://{HOST}:6379/{REDIS_DB}"
    else:
        env.pop("REDIS_URL", None)
    return env


def start_server(port: int, env: dict[str, str], workdir: Path) -> subprocess.Popen:
    """`make serve` (collectstatic, gunicorn) on 127.0.0.1:port, logging to workdir/serve.log; stop() ends it."""
    print(f"bench: make serve on {HOST}:{port} (collectstatic, gunicorn)", flush=True)
    with (workdir / "serve.log").open("w") as serve_log:
        return subprocess.Popen(
            ["make", "--no-print-directory", "serve", f"PORT={port}"],
            cwd=REPO,
            env=env,
            stdout=serve_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so that stop() ends gunicorn too
        )


def run(command: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("a") as output:
        output.write(f"$ {' '.join(command)}\n")
        output.flush()
        completed = subprocess.run(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT, timeout=300)
    if completed.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed; see {log}\n{log.read_text()[-3000:]}")


def get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def wait_for_health(port: int, server: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited while starting")
        try:
            if get(port, "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"/healthz did not answer within {timeout:.0f} s")


def settle(port: int, *, seconds: float = 0.5) -> None:
    """Wait until the requests of the last slice have drained (a slow page's leave a queue when the load stops), so
    that the next slice measures its own URL alone: a pause, then until /healthz answers within 50 ms."""
    time.sleep(seconds)
    for _attempt in range(20):
        started = time.perf_counter()
        get(port, "/healthz")
        if time.perf_counter() - started < 0.05:
            return
        time.sleep(0.1)


def static_css_path() -> str:
    manifest = json.loads((REPO / "var" / "static" / "staticfiles.json").read_text())
    return "/static/" + manifest["paths"]["css/linli.css"]


def first_notice_path(port: int) -> str:
    html = get(port, "/zh-hans/notices/").body.decode()
    match = re.search(r'<li class="notice-item[^"]*">\s*<a href="(/zh-hans/notices/[^"]+/)"', html)
    if match is None:
        raise RuntimeError("no notice on /zh-hans/notices/: did seed_demo run?")
    return match.group(1)


def load_with_wrk(port: int, path: str, headers: dict[str, str], seconds: float, connections: int, script: Path) -> Slice:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s", "-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, f"http://{HOST}:{port}{path}"], capture_output=True, text=True, timeout=seconds + 30
    ).stdout
    lines = output.splitlines()
    summary = next(line for line in lines if line.startswith("LINLI-BENCH "))
    requests, duration_us, errors = (int(part) for part in summary.split()[1:])
    quantiles = [int(line.split()[1]) / 1000 for line in lines if line.startswith("LINLI-LATENCY ")]
    return Slice(requests, duration_us / 1e6, errors, [(latency, requests / len(quantiles)) for latency in quantiles])


def load_with_python(
    port: int, path: str, headers: dict[str, str], seconds: float, connections: int, expected: int = 200
) -> Slice:
    """Fallback without wrk: threads, each with one keep-alive connection; any other status than expected is an error."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    deadline = time.perf_counter() + seconds

    def worker(slot: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=5)
        while (start := time.perf_counter()) < deadline:
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != expected:
                    errors[slot] += 1
            except (OSError, http.client.HTTPException):
                errors[slot] += 1
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=5)
                continue
            latencies[slot].append((time.perf_counter() - start) * 1000)
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [(latency, 1.0) for slot in latencies for latency in slot]
    return Slice(len(every), time.perf_counter() - started, sum(errors), every)


def stop(server: subprocess.Popen) -> None:
    """Stop make, its shell and gunicorn: they share the process group started for them."""
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)
    except ProcessLookupError:
        pass


def gunicorn_workers(server: subprocess.Popen) -> list[int]:
    """The process ids of the gunicorn workers `start_server` started: in the server's process group, children of
    the gunicorn master (the one whose parent is not gunicorn)."""
    group = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        parent, process_group = int(fields[1]), int(fields[2])
        if process_group == server.pid and b"gunicorn" in command:
            group[int(entry.name)] = parent
    return sorted(pid for pid, parent in group.items() if parent in group)


def resident_kilobytes(pid: int) -> int:
    """A process's resident memory (VmRSS in /proc/<pid>/status), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def print_table(results: list[Result], static_rate: float, backend: str, generator: str) -> None:
    print(f"\nLinli bench: production settings, gunicorn on {HOST}, cache: {backend}, load: {generator}\n")
    print(f"{'what':<28} {'req/s':>9} {'ratio':>7} {'p95 ms':>8} {'errors':>7}  {'cache':<6} path")
    for result in results:
        ratio = result.requests_per_second / static_rate
        print(
            f"{result.name:<28} {result.requests_per_second:>9.0f} {ratio:>7.2f} {result.p95_ms:>8.1f} "
            f"{result.errors:>7}  {result.cache:<6} {result.path}"
        )


def resident_probe() -> None:
    """Inside Django, with the server's environment: log the demo resident in (a session row, as a login makes),
    find the pages, count each page's queries after a warm-up request, and print it all as JSON."""
    sys.path[:0] = [str(REPO / "site"), str(REPO)]
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.db import connection
    from django.test import Client

    from events.listing import Filters, filtered_activities
    from events.models import ActivityIndexPage

    user = get_user_model().objects.get(email=RESIDENT_EMAIL)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    index = ActivityIndexPage.objects.live().filter(locale__language_code="zh-hans").order_by("path").first()
    activity = filtered_activities(index, Filters()).first()
    paths = {"home": "/zh-hans/", "activity list": index.url, "activity page": activity.url, "My page": "/zh-hans/me/"}
    client = Client(HTTP_HOST=HOST)
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    queries = {}
    for name, path in paths.items():
        if client.get(path).status_code != 200:
            raise SystemExit(f"GET {path} as {RESIDENT_EMAIL} did not answer 200")
        seen: list[str] = []

        def count(execute, sql, params, many, context, seen=seen):
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(path)
        queries[name] = len(seen)
    print(json.dumps({"session": session.session_key, "paths": paths, "queries": queries}))


def main() -> int:
    if sys.argv[1:] == ["resident-probe"]:
        resident_probe()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each measurement (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections (default 16)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8013)))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, logs)")
    parser.add_argument("--file-cache", action="store_true", help="use the file cache even if Redis answers")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even if wrk is installed")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    log = workdir / "bench.log"
    use_redis = not options.file_cache and redis_answers()
    env = production_env(
        workdir, database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}", use_redis=use_redis
    )
    backend = f"Redis db {REDIS_DB}" if use_redis else "file cache"
    use_wrk = bool(shutil.which("wrk")) and not options.python_load
    generator = "wrk" if use_wrk else "Python threads, keep-alive" + ("" if shutil.which("wrk") else " (wrk not found)")
    script = workdir / "p95.lua"
    script.write_text(WRK_SCRIPT)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    # Ctrl-C, kill and a closed terminal all end in the `finally` below, which stops gunicorn.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)

    server = None
    started = time.monotonic()
    try:
        print(f"bench: seeding {env['DATABASE_URL']} (migrate, seed_demo)", flush=True)
        run([str(PYTHON), "manage.py", "migrate", "--noinput", "-v0"], env, log)
        run([str(PYTHON), "manage.py", "seed_demo"], {**env, "DJANGO_SETTINGS_MODULE": "linli.settings.dev", "DEBUG": "0"}, log)
        server = start_server(options.port, env, workdir)
        wait_for_health(options.port, server)

        notice = first_notice_path(options.port)
        session = {"Cookie": "sessionid=bench-no-such-session"}
        probed = subprocess.run(
            [str(PYTHON), str(Path(__file__).resolve()), "resident-probe"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if probed.returncode != 0:
            raise RuntimeError(f"the logged-in probe failed: {probed.stderr[-3000:]}")
        resident = json.loads(probed.stdout.strip().splitlines()[-1])
        resident_cookie = {"Cookie": f"sessionid={resident['session']}"}
        # Measured in turns (ROUNDS slices each), so that a machine whose load changes during
        # the run slows every URL alike and the ratios stay fair.
        plan = [
            ("static file (whitenoise)", static_css_path(), {}),
            ("home page, cached", "/zh-hans/", {}),
            ("notice page, cached", notice, {}),
            ("home page, uncached", "/zh-hans/", session),
            *((f"logged in: {name}", path, resident_cookie) for name, path in resident["paths"].items()),
        ]
        results = []
        for name, path, headers in plan:  # warm up: fill the page cache, the workers' imports and connections
            for _round in range(20):
                response = get(options.port, path, headers)
                if response.status != 200:
                    raise RuntimeError(f"GET {path} answered {response.status}")
            results.append(Result(name, path, response.headers.get("X-Page-Cache", "-")))
        print(
            f"bench: {len(plan)} URLs for {options.seconds:.0f} s each, in {ROUNDS} turns, {options.connections} connections",
            flush=True,
        )
        part = options.seconds / ROUNDS
        for _round in range(ROUNDS):
            for result, (_name, path, headers) in zip(results, plan, strict=True):
                if use_wrk:
                    result.slices.append(load_with_wrk(options.port, path, headers, part, options.connections, script))
                else:
                    result.slices.append(load_with_python(options.port, path, headers, part, options.connections))
                settle(options.port)
    except (RuntimeError, subprocess.TimeoutExpired, KeyboardInterrupt) as error:
        print(f"bench: failed or interrupted: {error!r}; logs in {workdir}", file=sys.stderr)
        if (workdir / "serve.log").exists():
            print((workdir / "serve.log").read_text()[-3000:], file=sys.stderr)
        options.keep = True
        return 2
    finally:
        if server is not None:
            stop(server)
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    static_rate = results[0].requests_per_second
    print_table(results, static_rate, backend, generator)
    home_ratio = results[1].requests_per_second / static_rate
    met = home_ratio >= TARGET_RATIO
    verdict = "met" if met else "MISSED"
    print(f"\ntarget: cached home page >= {TARGET_RATIO} of the static file: {home_ratio:.2f}, {verdict}")
    for result in results[4:]:
        name = result.name.removeprefix("logged in: ")
        ratio = result.requests_per_second / static_rate
        queries = resident["queries"][name]
        ratio_met, queries_met = ratio >= RESIDENT_RATIO, queries <= RESIDENT_QUERIES
        met = met and ratio_met and queries_met
        print(
            f"target: logged-in {name} >= {RESIDENT_RATIO} of the static file: {ratio:.3f}, "
            f"{'met' if ratio_met else 'MISSED'}; queries <= {RESIDENT_QUERIES}: {queries}, "
            f"{'met' if queries_met else 'MISSED'}"
        )
    print(f"bench: {time.monotonic() - started:.0f} s in all")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
