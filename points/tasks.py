"""Nightly points work: expiry entries, warnings 30 and 7 days ahead, uncollected reservations."""

from __future__ import annotations

import datetime

from django_tasks import task

from plumbing.periodic import every

from . import services


@every(datetime.timedelta(hours=24))
@task()
def expire_points() -> int:
    """Expire lots past their last valid day (idempotent: one expiry entry per lot)."""
    return services.expire_points()


@every(datetime.timedelta(hours=24))
@task()
def send_expiry_warnings() -> int:
    """E-mail residents whose points expire within 30 or 7 days (once per warning)."""
    return services.send_expiry_warnings()


@every(datetime.timedelta(hours=1))
@task()
def expire_reservations() -> int:
    """Refund reservations not collected in time."""
    return services.expire_reservations()
