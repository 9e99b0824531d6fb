"""The points jobs are safe to run twice: the second run writes no entry, sends nothing, changes no row."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from points import services, tasks
from points.factories import RewardFactory, resident
from points.models import Account, Lot, Reservation
from tests.twice import run_twice

pytestmark = pytest.mark.usefixtures("locales")


def earned(user, *, amount: int, expires_on: datetime.date, key: str):
    entry = services.award(resident=user, rule_code="attendance", source_key=key, amount=amount)
    Lot.objects.filter(pk=entry.lot.pk).update(expires_on=expires_on)
    return entry


def test_expiring_points_twice_expires_them_once(django_capture_on_commit_callbacks):
    user = resident()
    earned(user, amount=10, expires_on=timezone.localdate() - datetime.timedelta(days=1), key="a")
    earned(user, amount=4, expires_on=timezone.localdate() - datetime.timedelta(days=40), key="b")

    assert run_twice(tasks.expire_points, on_commit=django_capture_on_commit_callbacks) == (14, 0, 0, [])
    assert Account.objects.get(resident=user).balance == 0
    assert services.audit() == []


def test_expiry_warnings_twice_warn_once(django_capture_on_commit_callbacks):
    for days, key in ((7, "a"), (30, "b")):
        earned(resident(), amount=20, expires_on=timezone.localdate() + datetime.timedelta(days=days), key=key)
    mail.outbox.clear()

    assert run_twice(tasks.send_expiry_warnings, on_commit=django_capture_on_commit_callbacks) == (2, 0, 0, [])
    assert len(mail.outbox) == 2


def test_expiring_reservations_twice_refunds_once(django_capture_on_commit_callbacks):
    user = resident()
    earned(user, amount=10, expires_on=timezone.localdate() + datetime.timedelta(days=365), key="a")
    reservation = services.redeem(resident=user, reward=RewardFactory(cost=5))
    Reservation.objects.filter(pk=reservation.pk).update(collect_by=timezone.now() - datetime.timedelta(hours=1))

    assert run_twice(tasks.expire_reservations, on_commit=django_capture_on_commit_callbacks) == (1, 0, 0, [])
    assert Account.objects.get(resident=user).balance == 10
    assert services.audit() == []
