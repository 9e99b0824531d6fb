"""Background work of the mailbox: letters' notifications, mail fetching, deadlines."""

from __future__ import annotations

import datetime

from django_tasks import task

from plumbing.periodic import every

from . import notifications, services
from .notifications import send_letter_event  # noqa: F401 - defined beside `_record_event`, which enqueues it


@every(datetime.timedelta(minutes=10))
@task()
def send_pending_letter_events() -> int:
    return notifications.send_pending_notifications()


@every(datetime.timedelta(hours=1))
@task()
def escalate_overdue_letters() -> int:
    return services.escalate_overdue_letters()


@every(datetime.timedelta(minutes=5))
@task()
def fetch_mailbox() -> str:
    """Fetch letters from the community mailbox, when one is configured."""
    from .fetching import ImapAccount, fetch_mail

    account = ImapAccount.from_settings()
    if account is None:
        return "no mailbox configured"
    return str(fetch_mail(account=account))
