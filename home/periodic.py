"""Periodic background tasks: each app registers its own in `<app>/tasks.py`.

django-tasks runs work in the background but has no clock. `manage.py scheduler`
is that clock: it enqueues every registered task when its interval has passed, and
`manage.py db_worker` runs them. Each task must be safe to run twice or late
(reminders record that they were sent, expiry writes idempotent entries), because a
restart of the scheduler runs every task once at start.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.module_loading import autodiscover_modules


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
