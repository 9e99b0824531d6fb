"""Background work for bookings: reminders, draws at the close of applications, no-shows, and the follow-up
(audit entry, message) of bookings once their seat is decided."""

import datetime

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


# The follow-up of bookings once their seat is decided: defined where bookings queue it (services.queue_follow_up),
# and registered with the scheduler there (every minute, for any task lost).
follow_up_bookings = services.follow_up_task

# Booking requests left pending (the process deciding them died) decided, and week-old ones deleted: defined with the
# requests (services.decide_booking_requests), registered with the scheduler there (every minute).
decide_booking_requests = services.decide_waiting_requests
