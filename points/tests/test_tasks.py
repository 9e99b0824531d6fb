"""The nightly and hourly points tasks are registered with the scheduler and do their work."""

import datetime

import pytest
from django.utils import timezone

from plumbing.periodic import registered
from points import services, tasks
from points.factories import RewardFactory, resident
from points.models import Account, Lot, Reservation

pytestmark = pytest.mark.usefixtures("locales")


def test_points_tasks_are_periodic():
    periods = {periodic.name: periodic.every for periodic in registered()}
    assert periods["points.tasks.expire_points"] == datetime.timedelta(hours=24)
    assert periods["points.tasks.send_expiry_warnings"] == datetime.timedelta(hours=24)
    assert periods["points.tasks.expire_reservations"] == datetime.timedelta(hours=1)


def test_tasks_expire_points_warn_and_refund(mailoutbox, django_capture_on_commit_callbacks):
    user = resident()
    old = services.award(resident=user, rule_code="attendance", source_key="t1", amount=10)
    soon = services.award(resident=user, rule_code="attendance", source_key="t2", amount=20)
    Lot.objects.filter(pk=old.lot.pk).update(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    Lot.objects.filter(pk=soon.lot.pk).update(expires_on=timezone.localdate() + datetime.timedelta(days=7))
    reservation = services.redeem(resident=user, reward=RewardFactory(cost=5))
    Reservation.objects.filter(pk=reservation.pk).update(collect_by=timezone.now() - datetime.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.expire_points.enqueue().return_value == 5  # 10 earned, 5 of them spent first
        assert tasks.send_expiry_warnings.enqueue().return_value == 1
        assert tasks.expire_reservations.enqueue().return_value == 1
    assert Account.objects.get(resident=user).balance == 25  # the refund lands in a fresh lot
    warning, expired = sorted(mailoutbox, key=lambda mail: "20" not in mail.subject)
    assert len(mailoutbox) == 2 and "20" in warning.subject  # the 20 points expiring in a week
    assert reservation.reward.name in expired.subject and expired.to == [user.email]  # not collected: points back
    assert services.audit() == []
