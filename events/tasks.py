"""Background work for bookings: reminders, draws at the close of applications, no-shows, and the follow-up
(audit entry, message) of bookings once their seat is decided."""

import datetime

from django.core.cache import cache
from django_tasks import task

from plumbing.periodic import every

from . import services


@every(datetime.timedelta(minutes=15))
@task()
def send_booking_reminders() -> int:
    return services.send_reminders()


@every(datetime.timedelta(minutes=5))
@task()
def run_due_draws() -> int:
    return services.run_due_draws()


@every(datetime.timedelta(minutes=15))
@task()
def close_ended_sessions() -> int:
    return services.close_ended_sessions()


@every(datetime.timedelta(minutes=1))
@task()
def follow_up_bookings() -> int:
    """Queued by bookings as they are decided (services.queue_follow_up), and every minute for any task lost."""
    cache.delete(services.FOLLOW_UP_QUEUED)  # before reading: a booking decided from now on queues the next run
    return services.follow_up_bookings()
