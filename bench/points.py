#!/usr/bin/env python
"""`make bench`, points part: the storm's operations per second, and the statement and honours
pages with a large ledger (p95 latency, ratio to a static file, flat query count).

1. Makes a throwaway PostgreSQL database (DATABASE_URL's server, default 127.0.0.1:5432)
   and migrates it; PostgreSQL is required (the storm is about row locks).
2. The storm: 5,000 operations (earn, spend, redeem, cancel, reverse) from 8 threads over
   50 residents and 5 rewards with a stock of 3; prints ops/s and checks the audit.
3. Adds --entries ledger entries (default 1,000,000) spread over 1,000 residents with one
   SQL statement, then requests each page --requests times in-process (Django's test client,
   so the figures are the application's own cost, without a web server) and prints p50/p95
   and each page's ratio to a static file served by whitenoise the same way. The query
   count of each page must be the same with the large ledger as with a small one.

Exit status 1 when the storm leaves the ledger inconsistent or a query count grows.
Everything stays on 127.0.0.1; the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "site"), str(REPO)]


def database_urls() -> tuple[str, str, str]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parsed = urlparse(base)
    if not parsed.scheme.startswith("postgres"):
        raise SystemExit("bench/points.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    name = f"linli_bench_points_{uuid.uuid4().hex[:8]}"
    return urlunparse(parsed._replace(path="/postgres")), urlunparse(parsed._replace(path=f"/{name}")), name


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    options = parser.parse_args()

    import psycopg

    admin_url, url, name = database_urls()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "linli.settings.test"
    try:
        return run(options)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(options) -> int:
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # responses carry their template context (the statement's "older" link)
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from home.factories import CommunityFactory
    from home.services import ensure_site
    from points import services
    from points.models import Account
    from points.tests import storm

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    ensure_site()
    status = 0

    setup = storm.prepare(residents=50, rewards=5, stock=3, prefix="bench")
    result = storm.run(setup, operations=options.operations, threads=options.threads)
    problems = services.audit() + storm.stock_problems(setup) + result.failures
    print(
        f"storm: {result.operations} operations from {options.threads} threads in {result.seconds:.1f} s: "
        f"{result.per_second:.0f} ops/s; {dict(sorted(result.outcomes.items()))}"
    )
    print(f"storm: audit {'clean' if not problems else 'FAILED: ' + '; '.join(problems[:5])}")
    status |= bool(problems)

    # The reader: a resident of a community with an honours roll and their own statement.
    community = CommunityFactory(code="bench")
    reader = setup.residents[0]
    reader.profile.community = community
    reader.profile.save()
    services.set_honours_opt_in(resident=reader, opt_in=True)
    client = Client()
    client.force_login(reader)
    pages = {
        "static file": "/static/css/linli.css",
        "statement": "/zh-hans/me/points/statement/",
        "statement, older page": None,
        "honours (month)": f"/zh-hans/points/honours/?community={community.code}&period=month",
        "honours (year)": f"/zh-hans/points/honours/?community={community.code}&period=year",
    }

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        return len(captured)

    client.get(pages["statement"])  # first-use rows (portal settings)
    small = {label: queries(path) for label, path in pages.items() if path and label != "static file"}

    load_started = time.monotonic()
    fill_ledger(connection, options.entries, community_id=community.pk, reader_id=reader.pk)
    print(
        f"ledger: {options.entries:,} entries added in {time.monotonic() - load_started:.0f} s "
        f"(total {count_entries(connection):,}, {Account.objects.count():,} accounts)"
    )
    cache.clear()  # the honours roll computed over the small ledger must not be served
    oldest = client.get(pages["statement"]).context["older"]
    pages["statement, older page"] = f"/zh-hans/me/points/statement/?before={oldest - 500}"

    timings: dict[str, list[float]] = {}
    first: dict[str, float] = {}
    for label, path in pages.items():
        begin = time.perf_counter()
        client.get(path)  # the first request: for the honours roll, computed rather than cached
        first[label] = (time.perf_counter() - begin) * 1000
        runs = []
        for _index in range(options.requests):
            begin = time.perf_counter()
            response = client.get(path)
            runs.append((time.perf_counter() - begin) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")
        timings[label] = runs
    static_p95 = percentile(timings["static file"], 0.95)
    print(f"\n{'page':<24}{'first ms':>10}{'p50 ms':>9}{'p95 ms':>9}{'p95 / static':>14}{'queries':>9}{'(small ledger)':>16}")
    for label, runs in timings.items():
        large = queries(pages[label]) if label != "static file" else 0
        before = small.get(label, small.get("statement") if label.startswith("statement") else 0)
        # Never more queries than over a small ledger (fewer: the roll is cached, no exchanges on the page).
        flat = large <= before
        status |= not flat
        print(
            f"{label:<24}{first[label]:>10.1f}{statistics.median(runs):>9.1f}{percentile(runs, 0.95):>9.1f}"
            f"{percentile(runs, 0.95) / static_p95:>14.1f}{large:>9}{before:>16}{'' if flat else '  GREW'}"
        )
    print(f"\nbench/points.py: {time.monotonic() - started:.0f} s in all; {'ok' if not status else 'FAILED'}")
    return status


def fill_ledger(connection, entries: int, *, community_id: int, reader_id: int) -> None:
    """`entries` earned points over 1,000 new residents of the bench community (+1 each, opted in),
    a tenth of them the reader's, written with set-based SQL (the services would take hours)."""
    from django.utils import timezone

    from points.services import get_rule

    rule = get_rule("attendance")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
            SELECT '!', false, 'bench-reader-' || n, '', '', 'bench-reader-' || n || '@example.com', false, true, %s
            FROM generate_series(1, 1000) AS n
            """,
            [now],
        )
        cursor.execute(
            """
            INSERT INTO home_residentprofile (user_id, display_name, mobile, mobile_verified, wechat_openid, community_id,
                building_unit, preferred_language, large_text, privacy_notice_version, created_at)
            SELECT id, '邻居' || id, '', false, '', %s, '', 'zh-hans', false, '', %s
            FROM auth_user WHERE username LIKE 'bench-reader-%%'
            """,
            [community_id, now],
        )
        cursor.execute(
            """
            INSERT INTO points_account (resident_id, balance, volunteer_hours, honours_opt_in, created_at)
            SELECT id, 0, 0, true, %s FROM auth_user WHERE username LIKE 'bench-reader-%%'
            """,
            [now],
        )
        cursor.execute("SELECT id FROM points_account WHERE resident_id = %s", [reader_id])
        reader_account = cursor.fetchone()[0]
        cursor.execute(
            "SELECT array_agg(id) FROM points_account WHERE resident_id IN (SELECT id FROM auth_user WHERE username LIKE 'bench-reader-%%')"
        )
        accounts = cursor.fetchone()[0]
        # Entry n goes to the reader when n % 10 = 0, else to one of the 1,000 others; spread over this year.
        cursor.execute(
            """
            INSERT INTO points_ledgerentry (account_id, kind, amount, balance_after, rule_id, reason, source_key,
                idempotency_key, created_at, occurred_on)
            SELECT CASE WHEN n %% 10 = 0 THEN %s ELSE (%s::bigint[])[1 + n %% 1000] END,
                   'earn', 1, 0, %s, '', 'bench:' || n, 'award:bench:' || n,
                   %s - make_interval(mins => (n %% 400000)), (%s - make_interval(mins => (n %% 400000)))::date
            FROM generate_series(1, %s) AS n
            """,
            [reader_account, accounts, rule.pk, now, now, entries],
        )
        cursor.execute("ANALYZE points_ledgerentry")


def count_entries(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM points_ledgerentry")
        return cursor.fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
