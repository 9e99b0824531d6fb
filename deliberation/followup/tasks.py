"""Background work of the follow-up: decisions take effect, overdue actions are escalated."""

from __future__ import annotations

import datetime

from django_tasks import task

from plumbing.periodic import every

from . import services


@every(datetime.timedelta(hours=1))
@task()
def decisions_take_effect() -> int:
    """Decisions whose notice period is over and whose objections are answered take effect."""
    return services.take_effect_due()


@every(datetime.timedelta(hours=1))
@task()
def escalate_overdue_actions() -> int:
    return services.escalate_overdue_actions()
