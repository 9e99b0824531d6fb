"""Background work for neighbour help: expiry, the 48-hour escalation to the grid worker, the weekly digest."""

import datetime

from django_tasks import task

from plumbing.periodic import every

from . import services


@every(datetime.timedelta(hours=1))
@task()
def expire_posts() -> int:
    """Open posts past their expiry become expired (idempotent: only open ones change)."""
    return services.expire_posts()


@every(datetime.timedelta(hours=1))
@task()
def escalate_unanswered_requests() -> int:
    """Requests with no answer for 48 hours go to the grid worker, once each."""
    return services.escalate_unanswered()


@every(datetime.timedelta(hours=6))
@task()
def send_weekly_digests() -> int:
    """Matching open requests to residents who asked, at most once a week each."""
    return services.send_weekly_digests()
