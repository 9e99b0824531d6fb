"""Background work of the mailbox: notifications, mail fetching, deadlines."""

from __future__ import annotations

import datetime

from django_tasks import task

from home.periodic import every

from . import services


@task()
def send_letter_event(event_id: int) -> bool:
    return services.notify_letter_event(event_id=event_id)


@every(datetime.timedelta(minutes=10))
@task()
def send_pending_letter_events() -> int:
    return services.send_pending_notifications()


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
