"""The outbox's worker: every minute, and right after a commit that queued a message."""

import datetime

from django_tasks import task

from home.periodic import every

from . import services


@every(datetime.timedelta(minutes=1))
@task()
def deliver(message_ids: list[int] | None = None) -> int:
    """Every due message, or (right after the commit that queued them) just `message_ids`."""
    return services.deliver_due(message_ids=message_ids)
