"""Demo points: rules, 10 rewards in both languages, a history; a second run creates nothing."""

import datetime

import pytest
from django.utils import timezone

from demo import rewards as demo
from points import services
from points.models import Account, EarningRule, LedgerEntry, Reservation, Reward


@pytest.mark.django_db
def test_seed_demo_adds_points_once_and_the_ledger_is_consistent(demo_street):
    assert f"Points: {len(services.BUILTIN_RULES)} rules, 10 rewards" in demo_street.output
    counted = (LedgerEntry.objects.count(), Reservation.objects.count(), Account.objects.count(), Reward.objects.count())
    assert counted[0] > 100 and counted[1] > 0 and counted[2] >= 20 and counted[3] == 10  # one row per reward
    assert EarningRule.objects.exclude(name_en="").count() == len(services.BUILTIN_RULES)
    assert not Reward.objects.filter(name_en="").exists()
    two_days_ago = timezone.now() - datetime.timedelta(days=2)
    assert LedgerEntry.objects.filter(created_at__lt=two_days_ago).count() > 100  # a history, not all today
    assert Reservation.objects.filter(status="collected").exists()
    assert services.audit() == []
    demo.seed()
    assert (LedgerEntry.objects.count(), Reservation.objects.count(), Account.objects.count(), Reward.objects.count()) == counted
