"""Background work of the mailbox: notifications, mail fetching, deadlines."""

from __future__ import annotations

import datetime

from django_tasks import task

from plumbing.periodic import every

from . import services
from .services import (
    council,
    send_letter_event,  # noqa: F401 - defined beside `record_event`, which enqueues it
)


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


# --- Councils


@every(datetime.timedelta(minutes=15))
@task()
def send_council_reminders() -> int:
    return council.send_session_reminders()


@every(datetime.timedelta(minutes=1))
@task()
def close_due_council_votes() -> int:
    return council.close_due_items()


# --- The council's follow-up ---------------------------------------------------------------


@every(datetime.timedelta(hours=1))
@task()
def decisions_take_effect() -> int:
    """Decisions whose notice period is over and whose objections are answered take effect."""
    from .services import followup

    return followup.take_effect_due()


@every(datetime.timedelta(hours=1))
@task()
def escalate_overdue_actions() -> int:
    from .services import followup

    return followup.escalate_overdue_actions()
