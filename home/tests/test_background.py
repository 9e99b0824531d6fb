"""Background work survives faults: killed workers, two schedulers, the RQ engine (plumbing/periodic.py)."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from conftest import skip_or_fail
from home.models import PeriodicRun
from plumbing import periodic

from .background_tasks import record_slowly

REPO = Path(__file__).resolve().parents[2]
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def database_url() -> str:
    """The test database, for a process started by the test."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def manage_env(**extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "linli.settings.test",
        "DATABASE_URL": database_url(),
    }
    env.update(extra)
    return env


def start_worker(log: Path, *args: str) -> subprocess.Popen:
    with log.open("a") as output:
        return subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "db_worker", "--backend", "database", "--no-reload",
             "--no-startup-delay", "--interval", "0.1", "-v0", *args],
            cwd=REPO, env=manage_env(), stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip


def wait_for(condition, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.05)


# --- A task whose worker is killed is picked up again


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_worker_is_killed_runs_again_once_after_the_lease(tmp_path):
    journal = tmp_path / "journal"
    journal.touch()
    result = record_slowly.using(backend="database").enqueue(str(journal), 3)
    log = tmp_path / "worker.log"
    worker = start_worker(log)
    try:
        wait_for(lambda: journal.read_text() == "started\n", seconds=60, what="the worker to start the task")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        worker.kill()
        worker.wait(timeout=10)
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.RUNNING  # and so it would stay, without the lease

    assert periodic.requeue_abandoned_tasks(lease=datetime.timedelta(minutes=15)) == 0  # still within its lease
    assert periodic.requeue_abandoned_tasks(lease=datetime.timedelta(0)) == 1
    assert periodic.requeue_abandoned_tasks(lease=datetime.timedelta(0)) == 0  # nothing RUNNING any more

    again = start_worker(log, "--batch")
    assert again.wait(timeout=60) == 0, log.read_text()
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert len(row.worker_ids) == 2
    assert journal.read_text() == "started\nstarted\nfinished\n"  # ran to its end exactly once


@pytest.mark.django_db
def test_a_task_that_keeps_losing_its_worker_fails_after_the_last_attempt():
    result = record_slowly.using(backend="database").enqueue("/nonexistent", 0)
    row = DBTaskResult.objects.get(pk=result.id)
    for attempt in range(1, 4):
        row.claim(f"worker-{attempt}")
        later = row.started_at + datetime.timedelta(minutes=16)
        requeued = periodic.requeue_abandoned_tasks(lease=datetime.timedelta(minutes=15), max_attempts=3, now=later)
        row.refresh_from_db()
        if attempt < 3:
            assert (requeued, row.status) == (1, TaskResultStatus.READY)
    assert (requeued, row.status) == (0, TaskResultStatus.FAILED)
    assert row.exception_class_path == "plumbing.periodic.WorkerLost"


@pytest.mark.django_db
def test_a_finished_task_is_never_requeued():
    result = record_slowly.using(backend="database").enqueue("/nonexistent", 0)
    row = DBTaskResult.objects.get(pk=result.id)
    row.claim("worker")
    row.set_successful("finished")

    later = timezone.now() + datetime.timedelta(days=1)
    assert periodic.requeue_abandoned_tasks(lease=datetime.timedelta(minutes=15), now=later) == 0
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL


# --- Periodic tasks run once per period, however many schedulers run


def enqueued_per_task() -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in DBTaskResult.objects.values_list("task_path", flat=True):
        counts[path] = counts.get(path, 0) + 1
    return counts


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_TASKS)
def test_each_periodic_task_is_enqueued_once_per_interval():
    start = timezone.now()
    for minute in range(0, 61):
        periodic.enqueue_due(now=start + datetime.timedelta(minutes=minute))

    expected = {task.name: 60 // int(task.every.total_seconds() // 60) + 1 for task in periodic.registered()}
    assert enqueued_per_task() == expected
    assert expected["deliberation.council.tasks.close_due_council_votes"] == 61  # every minute
    assert expected["points.tasks.expire_points"] == 1  # daily


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_TASKS)
def test_a_restarted_scheduler_does_not_enqueue_again_what_ran_within_its_interval():
    call_command("scheduler", "--once", verbosity=0)
    call_command("scheduler", "--once", verbosity=0)

    assert set(enqueued_per_task().values()) == {1}
    assert PeriodicRun.objects.count() == len(periodic.registered())


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DATABASE_TASKS)
def test_two_schedulers_ticking_together_enqueue_each_task_once_per_interval():
    """Two scheduler processes on two machines, here two threads with their own connections.

    On SQLite (a file in the tests) the two queue for the write lock; on PostgreSQL the
    second waits for the first's row lock and then finds the period claimed.
    """
    start = timezone.now()
    ticks = [start + datetime.timedelta(minutes=minute) for minute in range(0, 16)]
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def scheduler():
        try:
            for now in ticks:
                barrier.wait(timeout=30)
                periodic.requeue_abandoned_tasks(now=now)
                periodic.enqueue_due(now=now)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)
            barrier.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    expected = {task.name: 15 // int(task.every.total_seconds() // 60) + 1 for task in periodic.registered()}
    assert enqueued_per_task() == expected
    assert expected["events.tasks.run_due_draws"] == 4  # minutes 0, 5, 10 and 15


# --- The same tasks on RQ (several machines)

# A database number of its own (the test empties it), another for each database's run: CI runs them side by side.
RQ_URL = f"redis://127.0.0.1:6379/{13 if os.environ.get('DATABASE_URL') else 14}"


@pytest.fixture
def rq_redis():
    import redis

    connection = redis.Redis.from_url(RQ_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.ConnectionError:
        skip_or_fail("no Redis on 127.0.0.1:6379 for the RQ backend test")
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_periodic_task_runs_on_the_rq_backend_with_a_real_rq_worker(rq_redis, tmp_path):
    from wagtail.models import Locale

    from points import services as points
    from points import tasks as points_tasks
    from points.factories import resident
    from points.models import Account, Lot

    Locale.objects.get_or_create(language_code="zh-hans")
    user = resident()
    entry = points.award(resident=user, rule_code="attendance", source_key="rq", amount=10)
    Lot.objects.filter(pk=entry.lot.pk).update(expires_on=timezone.localdate() - datetime.timedelta(days=1))

    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        RQ_QUEUES={"default": {"URL": RQ_URL}},
    ):
        result = points_tasks.expire_points.enqueue()
        assert Account.objects.get(resident=user).balance == 10  # queued in Redis, not run here

        log = tmp_path / "rqworker.log"
        with log.open("w") as output:
            worker = subprocess.run(
                [sys.executable, str(REPO / "manage.py"), "rqworker", "--burst", "--job-class", "django_tasks_rq.Job", "default"],
                cwd=REPO, env=manage_env(TASKS_BACKEND="django_tasks_rq.RQBackend", RQ_URL=RQ_URL),
                stdout=output, stderr=subprocess.STDOUT, timeout=120,
            )  # fmt: skip
        assert worker.returncode == 0, log.read_text()
        result.refresh()
        assert result.status == TaskResultStatus.SUCCESSFUL, log.read_text()
        assert result.return_value == 10
    assert Account.objects.get(resident=user).balance == 0
