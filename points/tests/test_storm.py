"""The storm: >= 5,000 concurrent earn, spend, redeem, cancel and reverse operations on PostgreSQL."""

import pytest

from points import services
from points.models import Account, LedgerEntry, Reward
from points.tests import storm


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_storm_keeps_balances_stock_and_awards_exact(postgres_only, locales):
    setup = storm.prepare(residents=50, rewards=5, stock=3)
    result = storm.run(setup, operations=5000, threads=8)

    assert result.failures == []
    assert result.operations >= 5000
    # Every kind of operation really happened, including races on the same award.
    for outcome in ("earn", "earn-repeat", "reverse", "spend", "redeem", "cancel", "refused"):
        assert result.outcomes[outcome] > 0, result.outcomes
    assert not Account.objects.filter(balance__lt=0).exists()
    assert not Reward.objects.filter(stock__lt=0).exists()
    assert storm.stock_problems(setup) == []
    assert services.audit() == []
    # No source has two live awards.
    live = LedgerEntry.objects.filter(kind="earn", reversed_by__isnull=True).values_list("source_key", flat=True)
    assert len(live) == len(set(live))
