"""Background work of the councils: reminders before a session, closing votes whose time is up."""

from __future__ import annotations

import datetime

from django_tasks import task

from plumbing.periodic import every

from . import services


@every(datetime.timedelta(minutes=15))
@task()
def send_council_reminders() -> int:
    return services.send_session_reminders()


@every(datetime.timedelta(minutes=1))
@task()
def close_due_council_votes() -> int:
    return services.close_due_items()
