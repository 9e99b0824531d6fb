#!/usr/bin/env python
"""`make bench`, the outbox: how fast messages leave, and that a booking never waits on mail.

1. Delivery throughput. In a throwaway database (a SQLite file, and PostgreSQL too when it
   answers on 127.0.0.1:5432: createdb, dropdb), 2,000 messages like a booking confirmation
   (Chinese text and a calendar file) are queued with `outbox.services.queue_message`, then
   `outbox.services.deliver_due` sends them over SMTP to a local sink (aiosmtpd on
   127.0.0.1). Printed: messages per second (goal: at least 200/s) and the ratio to sending
   the same messages through the same e-mail channel without the outbox's bookkeeping
   (measured in turns with it); the sink must have received exactly 2,000 messages, each
   address once, and the database must say "sent" for all of them.
   The same for 2,000 text messages through the Aliyun SMS SDK to a stand-in of its SendSms API
   on 127.0.0.1 that answers "OK" at once: messages per second and the ratio to sending them
   directly through the same SMS channel; the stand-in must have been asked for each number once.
2. Booking latency against a slow SMTP server. The portal in production mode on loopback
   (`make serve`, SECURE_SSL_REDIRECT=0, EMAIL_BACKEND smtp pointed at a local sink) with a
   task worker (`db_worker`) beside it, and 84 logged-in residents. 40 bookings are made
   while the sink answers at once and 40 while it takes 2 s for each message, in turns of
   20 (fast, slow, slow, fast), one resident every 0.25 s, at most 2 at once. Printed: p50
   and p95 booking latency of both and their ratio (goal: about 1, and p95 under the 2 s a
   request that waited on mail would take), and for how many slow bookings the worker was
   busy with the slow server at that moment (at least half, or the test proves little);
   afterwards the sink (fast again) must receive every queued message exactly once.

All traffic stays on 127.0.0.1, the counts are fixed, the whole run is bounded by a timeout
(10 minutes), and gunicorn, the worker and the sink are stopped and the databases dropped at
the end, also after an error or Ctrl-C. Needs aiosmtpd (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import http.client
import json
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (bench/run.py: server, environment, health check)

# bench/events.py holds the residents' HTTP client and the booking form parser; loaded under
# another name, since `events` is also the Django app.
_spec = spec_from_file_location("bench_events", Path(__file__).resolve().parent / "events.py")
bench_events = module_from_spec(_spec)
_spec.loader.exec_module(bench_events)

REPO = bench.REPO
HOST = bench.HOST
MESSAGES = 2000
WARMUP_MESSAGES = 20  # sent directly before the measured delivery, not counted
ROUNDS = 4  # the delivery and the direct sending are measured in turns of MESSAGES / ROUNDS
TARGET_PER_SECOND = 200
BOOKINGS = 40  # per SMTP server
WARMUP = 4  # bookings before the measured ones, not counted
TURN = 20  # bookings per turn: fast, slow, slow, fast
PACE = 0.25  # seconds between one booking and the next (residents arrive one by one)
CONCURRENT = 2  # bookings in flight at most at once
SLOW_SECONDS = 2.0  # the slow SMTP server's time per message
TARGET_RATIO = 1.5  # slow p95 / fast p95, on a shared machine
TOTAL_TIMEOUT = 900
DRAIN_TIMEOUT = 120  # seconds for the worker to deliver the bookings' messages at the end


# ---------------------------------------------------------------------------
# The SMTP sink


class Sink:
    """An SMTP server on 127.0.0.1 that accepts everything, counts it, and takes `delay` seconds per message."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.received: collections.Counter[str] = collections.Counter()  # messages per recipient address
        self.slow_in_flight = 0  # messages being received slowly right now
        self.port = free_port()
        self.controller = Controller(self, hostname=HOST, port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        # Runs on the controller's event loop, one thread: no lock needed.
        delay = self.delay
        if delay:
            self.slow_in_flight += 1
            try:
                await asyncio.sleep(delay)  # this connection only: others are answered meanwhile
            finally:
                self.slow_in_flight -= 1
        self.received.update(envelope.rcpt_tos)
        return "250 OK"

    def count(self, prefix: str) -> tuple[int, int]:
        """Messages received for addresses starting with `prefix`, and how many addresses that is."""
        mine = [number for address, number in self.received.items() if address.startswith(prefix)]
        return sum(mine), len(mine)

    def __enter__(self) -> Sink:
        self.controller.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def smtp_env(env: dict[str, str], sink: Sink) -> dict[str, str]:
    return {
        **env,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": HOST,
        "EMAIL_PORT": str(sink.port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_USE_SSL": "0",
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
    }


class SmsStandIn:
    """Aliyun's SendSms API on 127.0.0.1, answering "OK" at once and counting the numbers it was asked to text."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: collections.Counter[str] = collections.Counter()
        lock = threading.Lock()
        stand_in = self
        reply = json.dumps({"Code": "OK", "Message": "OK", "BizId": "900000000000000000^0", "RequestId": "bench"}).encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the provider's API does
            # Headers and body go out in two writes: without this, the second waits for the client's
            # delayed ACK (40 ms a message on loopback), which no real provider costs.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802 (http.server's hook name)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                with lock:
                    stand_in.received[query.get("PhoneNumbers", "")] += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def count(self, prefix: str) -> tuple[int, int]:
        mine = [number for address, number in self.received.items() if address.startswith(prefix)]
        return sum(mine), len(mine)

    def __enter__(self) -> SmsStandIn:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def sms_env(env: dict[str, str], stand_in: SmsStandIn) -> dict[str, str]:
    return {
        **env,
        "SMS_BACKEND": "aliyun",
        "SMS_ENDPOINT": stand_in.url,
        "SMS_TEMPLATES": json.dumps({"bench.sms": {"aliyun": "SMS_270000001"}}),
        "SMS_SIGN_NAME": "邻里",
        "SMS_ACCESS_KEY_ID": "bench-key-id",
        "SMS_ACCESS_KEY_SECRET": "bench-key-secret",
    }


# ---------------------------------------------------------------------------
# Inside Django (run as `bench/outbox.py deliver|setup-bookings WORKDIR` with the environment above)


def deliver(workdir: Path) -> None:
    """Queue MESSAGES messages, then time one `deliver_due` sending them all; the figures to workdir/delivery.json."""
    from django.db import transaction

    from outbox.channels import EmailChannel
    from outbox.models import Message
    from outbox.services import queue_message

    body = "\n\n".join(
        [
            "您已预约：非遗剪纸公开课，2026-12-12 09:30–11:00，运河湾街道社区服务中心二楼活动室。",
            "请提前十分钟到场，出示您的预约码。如不能参加，请在开课前一天取消，把名额留给排队的邻居。",
            "我的预约：https://linli.localhost/zh-hans/my/bookings/",
        ]
    )
    calendar = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Linli//bench//ZH\r\n" + "X-BENCH:" + "x" * 400 + "\r\nEND:VCALENDAR\r\n"
    )
    with transaction.atomic():
        for number in range(MESSAGES):
            queue_message(
                kind="bench.delivery",
                address=f"resident{number:05d}@bench.localhost",
                subject="[邻里 Linli] 预约成功：非遗剪纸公开课",
                body=body,
                language="zh-hans",
                attachments=[{"filename": f"linli-{number:05d}.ics", "content": calendar, "mimetype": "text/calendar"}],
                idempotency_key=f"bench.delivery:{number}",
            )
    queued = list(Message.objects.filter(kind="bench.delivery").order_by("pk"))

    def send_directly(messages: list[Message], prefix: str) -> None:
        channel = EmailChannel()
        for message in messages:
            message.address = prefix + message.address
            channel.send(message)
        channel.close()

    figures = measure_turns("bench.delivery", queued, send_directly, warmup="warmup.", direct="direct.")
    (workdir / "delivery.json").write_text(json.dumps(figures))


def measure_turns(kind: str, queued: list, send_directly, *, warmup: str, direct: str) -> dict:
    """Time `deliver_due` sending the queued messages of `kind` in ROUNDS turns, each followed by sending the
    same share directly through the same channel without the outbox's bookkeeping (`send_directly(messages,
    address_prefix)`), so that a change in the machine's load hits both alike; the figures and the statuses."""
    from django.db.models import Count

    from outbox.models import Message
    from outbox.services import deliver_due

    send_directly(queued[:WARMUP_MESSAGES], warmup)  # imports and the first connection
    sent = 0
    seconds = direct_seconds = 0.0
    part = MESSAGES // ROUNDS
    for turn in range(ROUNDS):
        started = time.perf_counter()
        sent += deliver_due(limit=part)
        seconds += time.perf_counter() - started
        started = time.perf_counter()
        send_directly(queued[turn * part : (turn + 1) * part], direct)
        direct_seconds += time.perf_counter() - started
    statuses = dict(
        Message.objects.filter(kind=kind).values("status").order_by().annotate(count=Count("pk")).values_list("status", "count")
    )
    return {"sent": sent, "seconds": seconds, "direct_seconds": direct_seconds, "statuses": statuses}


def deliver_sms(workdir: Path) -> None:
    """Queue MESSAGES text messages (booking reminders), then time `deliver_due` sending them through the Aliyun
    SDK to the stand-in, in turns with sending them directly through the same channel; figures to workdir/sms.json."""
    from django.db import transaction

    from outbox.models import Message
    from outbox.services import queue_message
    from outbox.sms import SmsChannel

    with transaction.atomic():
        for number in range(MESSAGES):
            queue_message(
                kind="bench.sms",
                channel=Message.Channel.SMS,
                address=f"139{number:08d}",
                subject="",
                body="【邻里】提醒：您预约的“非遗剪纸公开课”明天 09:30 开始，地点：社区服务中心二楼。",
                language="zh-hans",
                template_params={"activity": "非遗剪纸公开课", "time": "明天 09:30"},
                idempotency_key=f"bench.sms:{number}",
            )
    queued = list(Message.objects.filter(kind="bench.sms").order_by("pk"))

    def send_directly(messages: list[Message], prefix: str) -> None:
        channel = SmsChannel()
        for message in messages:
            message.address = prefix + message.address[3:]  # counted apart by the stand-in
            channel.send(message)
        channel.close()

    figures = measure_turns("bench.sms", queued, send_directly, warmup="136", direct="137")
    (workdir / "sms.json").write_text(json.dumps(figures))


def setup_bookings(workdir: Path) -> None:
    """WARMUP + 2 × BOOKINGS verified residents with a logged-in session each, and one session with a seat for each."""
    import datetime
    from importlib import import_module

    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from events import factories
    from home.models import ResidentProfile
    from home.services import ensure_site

    residents = WARMUP + 2 * BOOKINGS
    ensure_site()
    User = get_user_model()
    unusable = make_password(None)
    User.objects.bulk_create(
        [
            User(username=f"outbox{number:03d}", email=f"outbox{number:03d}@bench.localhost", password=unusable)
            for number in range(residents)
        ]
    )
    users = list(User.objects.filter(username__startswith="outbox").order_by("username"))
    EmailAddress.objects.bulk_create([EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users])
    ResidentProfile.objects.bulk_create(
        [
            ResidentProfile(
                user=user,
                display_name=f"居民{number:03d}",
                birth_year=1950 + number % 50,
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
    activity = factories.activity(title="太极拳入门", slug="outbox-bench", summary="邮件压测。", kind="class")
    seat = factories.SessionFactory(activity=activity, starts_at=timezone.now() + datetime.timedelta(days=3), capacity=residents)
    (workdir / "sessions.txt").write_text("\n".join(keys))
    (workdir / "bookings.txt").write_text(f"{seat.pk} {activity.url}")


# ---------------------------------------------------------------------------
# Bookings over HTTP


def prepare(port: int, session_id: int, page_path: str, session_keys: list[str]) -> list[tuple]:
    """Each resident opens the activity page (not measured): their client, and the booking form's address and fields."""
    prepared = []
    for key in session_keys:
        client = bench_events.Client(port, key)
        response = client.request("GET", page_path)
        if response.status != 200:
            raise RuntimeError(f"GET {page_path} answered {response.status}")
        prepared.append((client, *bench_events.book_form(response.body.decode(), session_id)))
    return prepared


def book(prepared: list[tuple], sink: Sink) -> list[tuple[float, int, bool]]:
    """POST each resident's booking, one every PACE seconds, CONCURRENT at most at once: (latency in ms, HTTP
    status, whether the sink was busy receiving a message slowly when the booking was posted) each."""
    results: list[tuple[float, int, bool]] = [(0.0, 0, False)] * len(prepared)
    start = time.perf_counter() + 0.1

    def post_some(slots: range) -> None:
        for slot in slots:
            client, path, fields = prepared[slot]
            client.connection.close()  # a fresh connection, as a phone's would be
            client.connection = http.client.HTTPConnection(HOST, client.port, timeout=bench_events.POST_TIMEOUT)
            time.sleep(max(0.0, start + slot * PACE - time.perf_counter()))
            held = sink.slow_in_flight > 0
            started = time.perf_counter()
            try:
                status = client.request("POST", path, urllib.parse.urlencode(fields), retry=False).status
            except (OSError, http.client.HTTPException) as error:
                print(f"bench outbox: booking failed: {error!r}", file=sys.stderr)
                status = -1
            results[slot] = ((time.perf_counter() - started) * 1000, status, held)
            client.connection.close()

    threads = [threading.Thread(target=post_some, args=(range(part, len(prepared), CONCURRENT),)) for part in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(bench_events.POST_TIMEOUT + 10)
    return results


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(fraction * len(ordered)) - 1)]


def outbox_counts(database_url: str) -> dict[str, int]:
    """The bookings' messages per status, read from the database."""
    query = "SELECT status, count(*) FROM outbox_message WHERE kind LIKE 'events.%' GROUP BY status"
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=10)) as connection:
            return dict(connection.execute(query).fetchall())
    import psycopg

    with psycopg.connect(database_url) as connection:
        return dict(connection.execute(query).fetchall())


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def measure_delivery(database_url: str, workdir: Path, log: Path, label: str) -> dict:
    env = bench.production_env(workdir, database_url=database_url, use_redis=False)
    bench.run([str(bench.PYTHON), "manage.py", "migrate", "--noinput", "-v0"], env, log)
    with Sink() as sink:
        print(f"bench outbox: {label}: {MESSAGES} messages queued, then delivered to the SMTP sink", flush=True)
        bench.run([str(bench.PYTHON), str(Path(__file__).resolve()), "deliver", str(workdir)], smtp_env(env, sink), log)
        figures = json.loads((workdir / "delivery.json").read_text())
        figures.update(label=label, received=sink.count("resident"), direct=sink.count("direct."))
    return figures


def measure_sms(database_url: str, workdir: Path, log: Path, label: str) -> dict:
    env = bench.production_env(workdir, database_url=database_url, use_redis=False)
    with SmsStandIn() as stand_in:
        print(f"bench outbox: {label}: {MESSAGES} text messages queued, then delivered to the SMS stand-in", flush=True)
        bench.run([str(bench.PYTHON), str(Path(__file__).resolve()), "deliver-sms", str(workdir)], sms_env(env, stand_in), log)
        figures = json.loads((workdir / "sms.json").read_text())
        figures.update(label=label, received=stand_in.count("139"), direct=stand_in.count("137"))
    return figures


def measure_bookings(database_url: str, workdir: Path, log: Path, port: int) -> dict:
    env = bench.production_env(workdir, database_url=database_url, use_redis=False)
    bench.run([str(bench.PYTHON), "manage.py", "migrate", "--noinput", "-v0"], env, log)
    bench.run([str(bench.PYTHON), str(Path(__file__).resolve()), "setup-bookings", str(workdir)], env, log)
    session_id, page_path = (workdir / "bookings.txt").read_text().split()
    keys = (workdir / "sessions.txt").read_text().split()
    server = worker = None
    with Sink() as sink:
        env = smtp_env(env, sink)
        try:
            server = bench.start_server(port, env, workdir)
            with (workdir / "worker.log").open("w") as worker_log:
                worker = subprocess.Popen(
                    [str(bench.PYTHON), "manage.py", "db_worker", "--no-reload", "-v0"],
                    cwd=REPO,
                    env=env,
                    stdout=worker_log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            bench.wait_for_health(port, server)
            print(f"bench outbox: {len(keys)} residents open the activity page", flush=True)
            prepared = prepare(port, int(session_id), page_path, keys)
            warmup, prepared = prepared[:WARMUP], prepared[WARMUP:]
            book(warmup, sink)
            latencies: dict[str, list[float]] = {"fast": [], "slow": []}
            statuses: list[int] = []
            held = 0  # slow bookings posted while the worker was held by the slow server
            order = ["fast", "slow", "slow", "fast"] * (BOOKINGS // TURN // 2)
            print(
                f"bench outbox: {2 * BOOKINGS} bookings in turns of {TURN}, one every {PACE} s, "
                f"SMTP answering at once or after {SLOW_SECONDS:.0f} s",
                flush=True,
            )
            for turn, mode in enumerate(order):
                sink.delay = SLOW_SECONDS if mode == "slow" else 0.0
                for latency, status, busy in book(prepared[turn * TURN : (turn + 1) * TURN], sink):
                    latencies[mode].append(latency)
                    statuses.append(status)
                    held += busy and mode == "slow"
            sink.delay = 0.0
            expected = WARMUP + 2 * BOOKINGS
            deadline = time.monotonic() + DRAIN_TIMEOUT
            while time.monotonic() < deadline:
                counts = outbox_counts(database_url)
                if sum(counts.values()) >= expected and counts.get("sent", 0) == sum(counts.values()):
                    break
                time.sleep(0.5)
            time.sleep(1)  # a last message in flight reaches the sink
        finally:
            if server is not None:
                bench.stop(server)
            if worker is not None:
                stop_process(worker)
        return {
            "latencies": latencies,
            "statuses": statuses,
            "counts": outbox_counts(database_url),
            "expected": expected,
            "received": sink.count("outbox"),
            "held": held,
        }


# ---------------------------------------------------------------------------


def report_delivery(figures_per_database: list[dict], what: str, directly: str) -> bool:
    """Print one delivery measurement per database; whether each met the target and delivered every message once."""
    if not figures_per_database:
        return True
    print(
        f"\nDelivery: {MESSAGES} queued messages, deliver_due in {ROUNDS} turns of {MESSAGES // ROUNDS} alternating with "
        f"sending them directly; {what}"
    )
    ok = True
    for figures in figures_per_database:
        per_second = figures["sent"] / figures["seconds"]
        direct = MESSAGES / figures["direct_seconds"]
        exact = (
            figures["sent"] == MESSAGES
            and tuple(figures["received"]) == (MESSAGES, MESSAGES)
            and tuple(figures["direct"]) == (MESSAGES, MESSAGES)
            and figures["statuses"] == {"sent": MESSAGES}
        )
        ok = ok and exact and per_second >= TARGET_PER_SECOND
        received, addresses = figures["received"]
        print(
            f"  {figures['label']:<10} outbox {per_second:4.0f}/s ({figures['sent']} in {figures['seconds']:.1f} s), "
            f"the same sent directly {directly} {direct:4.0f}/s: ratio {per_second / direct:.2f}; "
            f"received {received} for {addresses} addresses, database {figures['statuses']}: "
            f"{'each once' if exact else 'NOT each once'}"
        )
    print(f"  target: at least {TARGET_PER_SECOND} messages/s and every message once: {'met' if ok else 'MISSED'}")
    return ok


def main() -> int:
    inside = {"deliver": deliver, "deliver-sms": deliver_sms, "setup-bookings": setup_bookings}
    if len(sys.argv) == 3 and sys.argv[1] in inside:
        bench_events.django_setup()
        inside[sys.argv[1]](Path(sys.argv[2]))
        return 0

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_OUTBOX_PORT", 8015)))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and databases")
    parser.add_argument("--only", choices=["email", "sms", "bookings"], action="append", help="run only these parts (repeatable)")
    options = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-connection log

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(signum, interrupted)
    signal.alarm(TOTAL_TIMEOUT)

    workdir = Path(tempfile.mkdtemp(prefix="linli-bench-outbox-"))
    log = workdir / "bench.log"
    databases = [("SQLite", f"sqlite:///{workdir / 'delivery.sqlite3'}")]
    postgres = bench_events.postgres_answers()
    created: list[str] = []
    if postgres:
        database = f"linli_bench_outbox_{os.getpid()}"
        done = subprocess.run(["createdb", "-h", HOST, "-U", "postgres", database], capture_output=True, text=True, timeout=60)
        if done.returncode == 0:
            created.append(database)
            databases.append(("PostgreSQL", f"postgres://postgres@{HOST}:5432/{database}"))
        else:
            print(f"bench outbox: PostgreSQL left out: createdb failed: {done.stderr.strip()}")
    started = time.monotonic()
    try:
        parts = set(options.only or ["email", "sms", "bookings"])
        deliveries = [measure_delivery(url, workdir, log, label) for label, url in databases] if "email" in parts else []
        texts = [measure_sms(url, workdir, log, label) for label, url in databases] if "sms" in parts else []
        # The bookings on the last database (PostgreSQL when it answers), whose delivery messages are all sent.
        booking_label, booking_url = databases[-1]
        bookings = measure_bookings(booking_url, workdir, log, options.port) if "bookings" in parts else None
    except (RuntimeError, subprocess.TimeoutExpired, KeyboardInterrupt) as error:
        print(f"bench outbox: failed or interrupted: {error!r}; logs in {workdir}", file=sys.stderr)
        for name in ("serve.log", "worker.log", "bench.log"):
            if (workdir / name).exists():
                print(f"--- {name}\n" + (workdir / name).read_text()[-3000:], file=sys.stderr)
        options.keep = True
        return 2
    finally:
        signal.alarm(0)
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
            for database in created:
                subprocess.run(["dropdb", "-h", HOST, "-U", "postgres", "--if-exists", database], timeout=60, check=False)

    print(f"\nLinli outbox bench: production settings, SMTP sink (aiosmtpd) and SMS stand-in on {HOST}")
    email_ok = report_delivery(
        deliveries, "SMTP to a sink that answers at once (Chinese text and a calendar file each)", "over SMTP"
    )
    sms_ok = report_delivery(texts, "SMS through the Aliyun SDK to a stand-in of its API that answers at once", "through the SDK")
    delivery_ok = email_ok and sms_ok
    if bookings is None:
        print(f"\nbench outbox: {time.monotonic() - started:.0f} s in all")
        return 0 if delivery_ok else 1
    fast, slow = bookings["latencies"]["fast"], bookings["latencies"]["slow"]
    fast_p50, fast_p95 = percentile(fast, 0.5), percentile(fast, 0.95)
    slow_p50, slow_p95 = percentile(slow, 0.5), percentile(slow, 0.95)
    redirects = sum(1 for status in bookings["statuses"] if status == 302)
    print(
        f"\nBookings ({booking_label}, gunicorn and db_worker): {BOOKINGS} with a fast SMTP server, "
        f"{BOOKINGS} with one taking {SLOW_SECONDS:.0f} s per message, in turns, {CONCURRENT} at a time"
    )
    print(f"  fast SMTP: p50 {fast_p50:5.0f} ms, p95 {fast_p95:5.0f} ms")
    print(f"  slow SMTP: p50 {slow_p50:5.0f} ms, p95 {slow_p95:5.0f} ms")
    print(f"  slow / fast: p50 {slow_p50 / fast_p50:.2f}, p95 {slow_p95 / fast_p95:.2f}")
    print(
        f"  answers: {redirects} of {len(bookings['statuses'])} redirected to the ticket; slow bookings posted while "
        f"the worker was held by the slow server: {bookings['held']} of {BOOKINGS}"
    )
    expected = bookings["expected"]
    received, addresses = bookings["received"]
    delivered = bookings["counts"] == {"sent": expected} and received == addresses == expected
    print(
        f"  afterwards (SMTP fast again): database {bookings['counts']}, sink received {received} for {addresses} "
        f"addresses, of {expected} queued: {'each once' if delivered else 'NOT each once'}"
    )
    bookings_ok = (
        delivered
        and redirects == 2 * BOOKINGS
        and slow_p95 / fast_p95 <= TARGET_RATIO
        and slow_p95 < SLOW_SECONDS * 1000
        and bookings["held"] >= BOOKINGS // 2
    )
    print(
        f"  target: p95 slow/fast <= {TARGET_RATIO} and under {SLOW_SECONDS:.0f} s with the worker held for at least half "
        f"the slow bookings, every booking answered, every message delivered once: {'met' if bookings_ok else 'MISSED'}"
    )
    print(f"\nbench outbox: {time.monotonic() - started:.0f} s in all")
    return 0 if delivery_ok and bookings_ok else 1


if __name__ == "__main__":
    sys.exit(main())
