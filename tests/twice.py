"""Run a background job twice and see what the second run did: the run-twice tests of every app.

The scheduler may enqueue a job late and a worker may run it again after a crash
(plumbing/periodic.py), so each job must record what it did before it is done.
"""

from __future__ import annotations

from django.apps import apps
from django.core import mail


def database_rows() -> dict[str, list[dict]]:
    """Every row of every model's table (the test databases are small)."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def run_twice(job, *, on_commit) -> tuple[object, object, int, list[str]]:
    """Enqueue `job` (the immediate backend runs it) twice, running its on-commit callbacks.

    Returns both results, the mail the second run sent and the tables it changed.
    `on_commit` is pytest-django's `django_capture_on_commit_callbacks` fixture.
    """
    with on_commit(execute=True):
        first = job.enqueue().return_value
    rows, sent = database_rows(), len(mail.outbox)
    with on_commit(execute=True):
        second = job.enqueue().return_value
    after = database_rows()
    changed = sorted(label for label in rows.keys() | after.keys() if rows.get(label) != after.get(label))
    return first, second, len(mail.outbox) - sent, changed
