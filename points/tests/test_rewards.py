"""Rewards: reserve, cancel, hand over, expiry of uncollected reservations."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone, translation

from home.factories import CommunityFactory, UserFactory
from home.scope import NotStaff
from home.services import NotVerified
from points import services
from points.factories import RewardFactory, resident
from points.models import Account, LedgerEntry, Reservation, Reward

pytestmark = pytest.mark.usefixtures("locales", "english")


def rich(points: int = 100, **profile):
    user = resident(**profile)
    services.award(resident=user, rule_code="staff_award", source_key=f"seed:{user.pk}", amount=min(points, 50), reason="test")
    if points > 50:
        services.adjust(actor=UserFactory(is_superuser=True), resident=user, amount=points - 50, reason="test")
    return user


def staff_of(community):
    community.editors = Group.objects.create(name=f"{community.code} staff")
    community.save()
    user = UserFactory()
    user.groups.add(community.editors)
    return user


def test_redeem_debits_points_and_stock_in_one_go():
    user = rich(100)
    reward = RewardFactory(cost=30, stock=2)
    reservation = services.redeem(resident=user, reward=reward)
    assert reservation.status == "reserved" and len(reservation.code) == 8 and reservation.cost == 30
    assert Account.objects.get(resident=user).balance == 70
    assert Reward.objects.get(pk=reward.pk).stock == 1
    assert reservation.spend_entry.amount == -30 and reservation.spend_entry.kind == "spend"
    assert reservation.collect_by - reservation.created_at == datetime.timedelta(days=14)


def test_redeem_refusals_change_nothing():
    user = rich(40)
    for reward, message in (
        (RewardFactory(cost=50), "need 50 points but have 40"),
        (RewardFactory(cost=10, stock=0), "out of stock"),
        (RewardFactory(cost=10, active=False), "not available"),
        (RewardFactory(cost=10, available_until=timezone.localdate() - datetime.timedelta(days=1)), "not available"),
        (RewardFactory(cost=10, available_from=timezone.localdate() + datetime.timedelta(days=1)), "not available"),
        (RewardFactory(cost=10, community=CommunityFactory()), "only for residents"),
    ):
        with pytest.raises(services.PointsError, match=message):
            services.redeem(resident=user, reward=reward)
    assert Account.objects.get(resident=user).balance == 40
    assert not Reservation.objects.exists()
    assert not LedgerEntry.objects.filter(kind="spend").exists()


def test_unverified_residents_cannot_redeem():
    user = UserFactory()
    with pytest.raises(NotVerified):
        services.redeem(resident=user, reward=RewardFactory(cost=1))


def test_monthly_limit_per_resident_counts_cancelled_ones_out():
    user = rich(100)
    reward = RewardFactory(cost=10, monthly_limit=1)
    first = services.redeem(resident=user, reward=reward)
    with pytest.raises(services.PointsError, match="at most 1 times a month"):
        services.redeem(resident=user, reward=reward)
    services.cancel_reservation(reservation=first, actor=user)
    services.redeem(resident=user, reward=reward)


def test_a_reward_is_one_row_named_in_both_languages():
    reward = RewardFactory(cost=10, stock=1, name="环保袋", name_en="Tote bag")
    with translation.override("en"):
        reservation = services.redeem(resident=rich(100), reward=reward)
    assert reservation.reward_id == reward.pk
    assert Reward.objects.get(pk=reward.pk).stock == 0
    with translation.override("en"), pytest.raises(services.PointsError, match="“Tote bag” is out of stock"):
        services.redeem(resident=rich(100), reward=reward)
    with translation.override("zh-hans"), pytest.raises(services.PointsError, match="环保袋"):
        services.redeem(resident=rich(100), reward=reward)


def test_cancel_refunds_by_reversal_and_puts_stock_back():
    user = rich(100)
    reward = RewardFactory(cost=30, stock=1)
    reservation = services.redeem(resident=user, reward=reward)
    services.cancel_reservation(reservation=reservation, actor=user)
    reservation.refresh_from_db()
    assert reservation.status == "cancelled"
    assert reservation.refund_entry.reverses == reservation.spend_entry
    assert reservation.refund_entry.amount == 30
    assert Account.objects.get(resident=user).balance == 100
    assert Reward.objects.get(pk=reward.pk).stock == 1
    with pytest.raises(services.PointsError, match="Only a reservation waiting"):
        services.cancel_reservation(reservation=reservation, actor=user)
    with pytest.raises(services.PointsError, match="cancelling"):
        services.reverse_entry(entry=reservation.spend_entry)
    assert services.audit() == []


def test_someone_else_cannot_cancel():
    reservation = services.redeem(resident=rich(100), reward=RewardFactory(cost=10))
    with pytest.raises(NotStaff):
        services.cancel_reservation(reservation=reservation, actor=rich(10))


def test_hand_over_by_code_for_staff_of_the_residents_community():
    community = CommunityFactory()
    user = rich(100, community=community)
    staff = staff_of(community)
    reservation = services.redeem(resident=user, reward=RewardFactory(cost=10))
    code = services.format_code(reservation.code).lower()
    with pytest.raises(NotStaff):
        services.hand_over(code=code, actor=staff_of(CommunityFactory()))
    with pytest.raises(services.PointsError, match="No reservation"):
        services.hand_over(code="ZZZZ-ZZZZ", actor=staff)
    done = services.hand_over(code=code, actor=staff)
    assert done.status == "collected" and done.handed_over_by == staff
    with pytest.raises(services.PointsError, match="already handed over"):
        services.hand_over(code=code, actor=staff)
    with pytest.raises(services.PointsError, match="Only a reservation waiting"):
        services.cancel_reservation(reservation=done, actor=user)


def test_uncollected_reservations_expire_with_a_refund():
    community = CommunityFactory()
    user = rich(100, community=community)
    reward = RewardFactory(cost=25, stock=1)
    reservation = services.redeem(resident=user, reward=reward)
    later = reservation.collect_by + datetime.timedelta(minutes=1)
    assert services.expire_reservations(now=reservation.collect_by - datetime.timedelta(minutes=1)) == 0
    Reservation.objects.filter(pk=reservation.pk).update(collect_by=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(services.PointsError, match="not collected in time"):
        services.hand_over(code=reservation.code, actor=staff_of(community))
    assert services.expire_reservations(now=later) == 1
    assert services.expire_reservations(now=later) == 0
    reservation.refresh_from_db()
    assert reservation.status == "expired" and reservation.refund_entry.amount == 25
    assert Account.objects.get(resident=user).balance == 100
    assert Reward.objects.get(pk=reward.pk).stock == 1
    assert services.audit() == []


def test_refund_into_a_lapsed_lot_gets_a_new_short_lot():
    from points.models import Lot

    user = rich(50)
    reservation = services.redeem(resident=user, reward=RewardFactory(cost=20))
    Lot.objects.filter(account__resident=user).update(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    services.cancel_reservation(reservation=reservation, actor=user)
    reservation.refresh_from_db()
    new_lot = reservation.refund_entry.lot
    assert new_lot.amount == 20 and new_lot.expires_on == timezone.localdate() + datetime.timedelta(days=30)
    assert services.expire_points() == 30
    assert Account.objects.get(resident=user).balance == 20
    assert services.audit() == []


def test_the_resident_is_told_the_pickup_code_and_when_a_reward_was_not_collected():
    from outbox.models import Message

    user = rich(100)
    reward = RewardFactory(cost=25, stock=1, pickup_place="社区服务中心一楼", pickup_hours="工作日 9:00–17:00")
    reservation = services.redeem(resident=user, reward=reward)
    (reserved,) = Message.objects.filter(recipient=user, kind="points.reward_reserved")
    code = services.format_code(reservation.code)
    assert code in reserved.subject and code in reserved.body and "社区服务中心一楼" in reserved.body
    assert reserved.address == user.email and reserved.language == user.profile.preferred_language

    assert services.expire_reservations(now=reservation.collect_by + datetime.timedelta(minutes=1)) == 1
    assert services.expire_reservations(now=reservation.collect_by + datetime.timedelta(minutes=2)) == 0
    (expired,) = Message.objects.filter(recipient=user, kind="points.reservation_expired")
    assert "25" in expired.body and reward.name in expired.body


def test_a_refused_exchange_tells_nobody():
    from outbox.models import Message

    user = rich(10)
    with pytest.raises(services.PointsError):
        services.redeem(resident=user, reward=RewardFactory(cost=30, stock=1))
    assert not Message.objects.filter(kind__startswith="points.re").exists()


def test_a_reservation_and_its_hand_over_recorded_afterwards_count_from_when_they_happened():
    community = CommunityFactory()
    user = rich(100, community=community)
    staff = staff_of(community)
    reward = RewardFactory(cost=10, monthly_limit=1)
    reserved_at = timezone.now() - datetime.timedelta(days=40)
    reservation = services.redeem(resident=user, reward=reward, at=reserved_at)
    assert reservation.created_at == reservation.spend_entry.created_at == reserved_at
    assert reservation.collect_by == reserved_at + datetime.timedelta(days=14)
    services.redeem(resident=user, reward=reward)  # the monthly limit counts that month, not this one
    with pytest.raises(services.PointsError, match="moment in the future"):
        services.redeem(resident=user, reward=reward, at=timezone.now() + datetime.timedelta(hours=1))
    with pytest.raises(services.PointsError, match="before it was reserved"):
        services.hand_over(code=reservation.code, actor=staff, at=reserved_at - datetime.timedelta(minutes=1))
    with pytest.raises(services.PointsError, match="moment in the future"):
        services.hand_over(code=reservation.code, actor=staff, at=timezone.now() + datetime.timedelta(hours=1))
    done = services.hand_over(code=reservation.code, actor=staff, at=reserved_at + datetime.timedelta(days=2))
    assert done.status == "collected" and done.collected_at == reserved_at + datetime.timedelta(days=2)
    assert Account.objects.get(resident=user).balance == 80 and services.audit() == []


def test_a_replayed_request_token_returns_the_first_reservation_and_spends_nothing_more():
    import uuid

    user = rich(100)
    reward = RewardFactory(cost=30, stock=5)
    token = uuid.uuid4()
    first = services.redeem(resident=user, reward=reward, request_token=token)
    Reward.objects.filter(pk=reward.pk).update(active=False)  # even once it is withdrawn, a retry gets its answer
    assert services.redeem(resident=user, reward=reward, request_token=token) == first
    assert Account.objects.get(resident=user).balance == 70 and Reservation.objects.count() == 1
    with pytest.raises(services.PointsError, match="already used"):
        services.redeem(resident=rich(100), reward=reward, request_token=token)
    assert Reservation.objects.count() == 1
