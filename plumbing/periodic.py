"""Periodic background tasks: each app registers its own in `<app>/tasks.py`.

django-tasks runs work in the background but has no clock. `manage.py scheduler`
is that clock: it enqueues every registered task when its interval has passed, and
`manage.py db_worker` runs them. The decision "due" is a claim in the database
(`PeriodicRun`), so several schedulers on several machines enqueue each task once per
interval between them, and a restarted scheduler does not run everything again.

Workers die (a deploy, the OOM killer, a pulled plug): django-tasks-db then leaves the
task `RUNNING` forever. Each scheduler tick also gives such tasks back to the queue once
they have run longer than `LINLI_TASK_LEASE_SECONDS`, and fails them after
`LINLI_TASK_MAX_ATTEMPTS` claims, so a task that kills its worker cannot loop. A task can
therefore run twice or late, and each must be safe to (reminders record that they were
sent, expiry writes idempotent entries).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicTask:
    task: object  # a django_tasks Task
    every: datetime.timedelta

    @property
    def name(self) -> str:
        return self.task.module_path


_registry: dict[str, PeriodicTask] = {}


def every(interval: datetime.timedelta):
    """Register a django-tasks task (decorate above `@task()`) to be enqueued every `interval`."""

    def register(task):
        periodic = PeriodicTask(task=task, every=interval)
        _registry[periodic.name] = periodic
        return task

    return register


def registered() -> list[PeriodicTask]:
    """Every periodic task of every installed app, in name order."""
    autodiscover_modules("tasks")
    return sorted(_registry.values(), key=lambda periodic: periodic.name)


def claim_period(*, periodic: PeriodicTask, now: datetime.datetime) -> bool:
    """True for exactly one caller per interval of `periodic`, whichever scheduler asks first.

    A conditional UPDATE: on PostgreSQL a second scheduler waits for the first one's row
    lock and then finds the condition false; on SQLite writers queue for the database.
    """
    from home.models import PeriodicRun

    PeriodicRun.objects.bulk_create([PeriodicRun(name=periodic.name)], ignore_conflicts=True)
    due = Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - periodic.every)
    return PeriodicRun.objects.filter(due, name=periodic.name).update(enqueued_at=now) == 1


def enqueue_due(*, now: datetime.datetime | None = None) -> list[str]:
    """Enqueue every periodic task whose interval has passed; the names of those enqueued."""
    now = now or timezone.now()
    enqueued = []
    for periodic in registered():
        # Claim and enqueue commit together (the database backend's task row lives in the
        # same database): a scheduler that dies in between leaves the period unclaimed.
        with transaction.atomic():
            if claim_period(periodic=periodic, now=now):
                periodic.task.enqueue()
                enqueued.append(periodic.name)
    return enqueued


def requeue_abandoned_tasks(
    *, lease: datetime.timedelta | None = None, max_attempts: int | None = None, now: datetime.datetime | None = None
) -> int:
    """Give tasks whose worker died back to the queue; the number given back.

    django-tasks-db marks a task RUNNING when a worker claims it (`started_at`, and the
    worker's id appended to `worker_ids`) and nothing else until it ends, so a task still
    RUNNING after the lease (longer than any task takes) lost its worker. It becomes READY
    again for the next worker, or FAILED once it has been claimed `max_attempts` times.
    """
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    lease = lease if lease is not None else datetime.timedelta(seconds=settings.LINLI_TASK_LEASE_SECONDS)
    max_attempts = max_attempts if max_attempts is not None else settings.LINLI_TASK_MAX_ATTEMPTS
    now = now or timezone.now()
    requeued = 0
    for stale in (
        DBTaskResult.objects.running().filter(started_at__lt=now - lease).only("id", "task_path", "started_at", "worker_ids")
    ):
        # Conditional on what we read: a worker that finishes meanwhile, or another
        # scheduler that got there first, wins.
        still_stale = DBTaskResult.objects.filter(pk=stale.pk, status=TaskResultStatus.RUNNING, started_at=stale.started_at)
        attempts = len(stale.worker_ids)
        if attempts >= max_attempts:
            if still_stale.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path="plumbing.periodic.WorkerLost",
                traceback=f"The worker running this task stopped answering {attempts} times (lease {lease}).",
            ):
                logger.error("Task %s (%s) lost its worker %d times: failed", stale.pk, stale.task_path, attempts)
        elif still_stale.update(status=TaskResultStatus.READY, started_at=None):
            requeued += 1
            logger.warning(
                "Task %s (%s) still running %s after its worker %s claimed it: queued again",
                stale.pk,
                stale.task_path,
                now - stale.started_at,
                stale.worker_ids[-1] if stale.worker_ids else "?",
            )
    return requeued
