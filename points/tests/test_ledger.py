"""The ledger: awards, idempotency, caps, reversals, spending by lots, expiry and the audit."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from home.factories import CommunityFactory, UserFactory
from home.scope import NotStaff
from points import services
from points.factories import EarningRuleFactory, resident
from points.models import Account, EarningRule, LedgerEntry, Lot, VolunteerHours

pytestmark = pytest.mark.usefixtures("locales", "english")


def balance(user) -> int:
    return Account.objects.get(resident=user).balance


def test_builtin_rules_are_seeded_once_with_english_names():
    services.ensure_builtin_rules()
    services.ensure_builtin_rules()
    codes = set(EarningRule.objects.values_list("code", flat=True))
    assert codes == {
        "attendance",
        "volunteering",
        "garbage_sorting",
        "adopted_suggestion",
        "health_checkin",
        "staff_award",
        "council_attendance",
        "neighbour_help",
    }
    assert EarningRule.objects.get(code="attendance").name_en == "Attending an activity"


def test_award_uses_the_rules_points_and_is_idempotent_by_source():
    user = resident()
    entry = services.award(resident=user, rule_code="attendance", source_key="events.attendance:1")
    assert entry.amount == 5 and entry.kind == "earn" and entry.balance_after == 5
    assert services.award(resident=user, rule_code="attendance", source_key="events.attendance:1") is None
    assert services.award(resident=user, rule_code="attendance", source_key="events.attendance:1", amount=30) is None
    assert balance(user) == 5
    assert LedgerEntry.objects.count() == 1


def test_award_with_the_activitys_amount_and_default_expiry():
    user = resident()
    entry = services.award(resident=user, rule_code="attendance", source_key="a:2", amount=12)
    assert entry.amount == 12
    assert entry.lot.expires_on == datetime.date(timezone.localdate().year + 1, 12, 31)


def test_configurable_validity(settings):
    settings.LINLI_POINTS_VALID_DAYS = 90
    entry = services.award(resident=resident(), rule_code="attendance", source_key="a:3")
    assert entry.lot.expires_on == timezone.localdate() + datetime.timedelta(days=90)


def test_the_same_source_cannot_earn_for_two_residents():
    services.award(resident=resident(), rule_code="attendance", source_key="a:4")
    with pytest.raises(services.PointsError, match="another resident"):
        services.award(resident=resident(), rule_code="attendance", source_key="a:4")


@pytest.mark.parametrize("amount", [0, -5, 101, 10**9, 2.5, True])
def test_bad_amounts_are_refused_and_change_nothing(amount):
    user = resident()
    with pytest.raises(services.PointsError):
        services.award(resident=user, rule_code="attendance", source_key="a:5", amount=amount)
    assert not LedgerEntry.objects.exists()
    assert not Account.objects.filter(balance__gt=0).exists()


def test_unknown_and_inactive_rules_and_missing_source():
    user = resident()
    with pytest.raises(services.PointsError, match="no earning rule"):
        services.award(resident=user, rule_code="nope", source_key="x")
    rule = EarningRuleFactory(active=False)
    with pytest.raises(services.PointsError, match="not active"):
        services.award(resident=user, rule_code=rule.code, source_key="x")
    with pytest.raises(services.PointsError, match="source"):
        services.award(resident=user, rule_code="attendance", source_key=" ")


def test_reason_required_for_discretionary_awards():
    with pytest.raises(services.PointsError, match="reason"):
        services.award(resident=resident(), rule_code="staff_award", source_key="s:1")
    assert services.award(resident=resident(), rule_code="staff_award", source_key="s:2", reason="帮助邻居").amount == 10


def test_daily_cap_is_enforced_and_reversals_count_back():
    user = resident()
    services.award(resident=user, rule_code="garbage_sorting", source_key="g:1")
    with pytest.raises(services.PointsError, match="a day"):
        services.award(resident=user, rule_code="garbage_sorting", source_key="g:2")
    services.reverse_award(source_key="g:1")
    assert services.award(resident=user, rule_code="garbage_sorting", source_key="g:2").amount == 2


def test_monthly_cap():
    rule = EarningRuleFactory(points=5, monthly_cap=12)
    user = resident()
    services.award(resident=user, rule_code=rule.code, source_key="m:1")
    services.award(resident=user, rule_code=rule.code, source_key="m:2")
    with pytest.raises(services.PointsError, match="2 left that month"):
        services.award(resident=user, rule_code=rule.code, source_key="m:3")
    assert services.award(resident=user, rule_code=rule.code, source_key="m:3", amount=2).amount == 2


def test_volunteering_per_hour_records_hours_apart():
    user = resident()
    entry = services.award(resident=user, rule_code="volunteering", source_key="v:1", hours=Decimal("2.5"))
    assert entry.amount == 25
    account = Account.objects.get(resident=user)
    assert account.volunteer_hours == Decimal("2.5")
    with pytest.raises(services.PointsError, match="hours"):
        services.award(resident=user, rule_code="volunteering", source_key="v:2")
    with pytest.raises(services.PointsError, match="Hours"):
        services.award(resident=user, rule_code="volunteering", source_key="v:2", hours=Decimal("0"))
    services.reverse_award(source_key="v:1")
    account.refresh_from_db()
    assert account.volunteer_hours == 0 and account.balance == 0
    assert VolunteerHours.objects.filter(account=account).count() == 2
    assert services.audit() == []


def test_reverse_award_points_at_the_award_and_happens_once():
    user = resident()
    award = services.award(resident=user, rule_code="attendance", source_key="a:7", amount=10)
    reversal = services.reverse_award(source_key="a:7", reason="签到撤销")
    assert reversal.reverses == award and reversal.amount == -10 and reversal.kind == "reverse"
    assert services.reverse_award(source_key="a:7") is None
    assert services.reverse_award(source_key="never-awarded") is None
    with pytest.raises(services.PointsError, match="already been reversed"):
        services.reverse_entry(entry=award)
    assert balance(user) == 0
    # Checked in again: the source earns again, once.
    again = services.award(resident=user, rule_code="attendance", source_key="a:7", amount=10)
    assert again.idempotency_key == "award:a:7#2"
    assert services.award(resident=user, rule_code="attendance", source_key="a:7") is None
    assert balance(user) == 10
    assert services.audit() == []


def test_reversal_of_spent_points_never_makes_the_balance_negative():
    user = resident()
    services.award(resident=user, rule_code="attendance", source_key="a:8", amount=10)
    services.adjust(actor=UserFactory(is_superuser=True), resident=user, amount=-8, reason="兑换线下礼品")
    reversal = services.reverse_award(source_key="a:8")
    assert reversal.amount == -2
    assert balance(user) == 0
    assert services.audit() == []


def test_spending_takes_the_soonest_expiring_lot_first():
    user = resident()
    late = services.award(resident=user, rule_code="attendance", source_key="late", amount=10)
    soon = services.award(resident=user, rule_code="attendance", source_key="soon", amount=10)
    Lot.objects.filter(pk=soon.lot.pk).update(expires_on=timezone.localdate() + datetime.timedelta(days=3))
    services.adjust(actor=UserFactory(is_superuser=True), resident=user, amount=-12, reason="测试")
    assert Lot.objects.get(pk=soon.lot.pk).remaining == 0
    assert Lot.objects.get(pk=late.lot.pk).remaining == 8


def test_spending_more_than_the_balance_is_refused():
    user = resident()
    services.award(resident=user, rule_code="attendance", source_key="a:9", amount=5)
    with pytest.raises(services.PointsError, match="need 6 points but have 5"):
        services.adjust(actor=UserFactory(is_superuser=True), resident=user, amount=-6, reason="测试")
    assert balance(user) == 5 and LedgerEntry.objects.count() == 1


def test_expiry_writes_one_entry_per_lot_and_is_idempotent():
    user = resident()
    old = services.award(resident=user, rule_code="attendance", source_key="old", amount=7)
    services.award(resident=user, rule_code="attendance", source_key="new", amount=3)
    Lot.objects.filter(pk=old.lot.pk).update(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    assert services.expire_points() == 7
    assert services.expire_points() == 0
    expiry = LedgerEntry.objects.get(kind="expire")
    assert expiry.amount == -7 and expiry.idempotency_key == f"expire:lot:{old.lot.pk}"
    assert balance(user) == 3
    # Reversing an award whose points expired takes nothing more.
    assert services.reverse_award(source_key="old").amount == 0
    assert balance(user) == 3
    assert services.audit() == []


def test_expiry_warnings_30_and_7_days_ahead_once_in_the_residents_language(mailoutbox, django_capture_on_commit_callbacks):
    user = resident(preferred_language="en")
    entry = services.award(resident=user, rule_code="attendance", source_key="w", amount=9)
    today = timezone.localdate()
    Lot.objects.filter(pk=entry.lot.pk).update(expires_on=today + datetime.timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_expiry_warnings(today=today) == 1
        assert services.send_expiry_warnings(today=today) == 0
        assert services.send_expiry_warnings(today=today + datetime.timedelta(days=10)) == 0
        assert services.send_expiry_warnings(today=today + datetime.timedelta(days=23)) == 1
        assert services.send_expiry_warnings(today=today + datetime.timedelta(days=24)) == 0
    assert len(mailoutbox) == 2
    assert mailoutbox[0].subject == f"9 points expire on {(today + datetime.timedelta(days=30)).isoformat()}"
    assert "/en/me/points/" in mailoutbox[0].body


def test_adjustments_need_a_reason_and_sane_amounts_and_staff_of_the_community():
    community = CommunityFactory()
    user = resident(community=community)
    staff = UserFactory()
    staff.groups.add(_staff_group(community))
    with pytest.raises(services.PointsError, match="reason"):
        services.adjust(actor=staff, resident=user, amount=5, reason="")
    for amount in (0, 1001, -1001):
        with pytest.raises(services.PointsError):
            services.adjust(actor=staff, resident=user, amount=amount, reason="x")
    entry = services.adjust(actor=staff, resident=user, amount=5, reason="补录")
    assert entry.kind == "adjust" and entry.actor == staff
    with pytest.raises(NotStaff):
        services.adjust(actor=UserFactory(), resident=user, amount=5, reason="x")


def _staff_group(community):
    from django.contrib.auth.models import Group

    community.editors = Group.objects.create(name=f"{community.name} staff")
    community.save()
    return community.editors


def test_award_by_staff_checks_community_and_rule():
    community, other = CommunityFactory(), CommunityFactory()
    user = resident(community=community)
    staff = UserFactory()
    staff.groups.add(_staff_group(community))
    outsider = UserFactory()
    outsider.groups.add(_staff_group(other))
    entry = services.award_by_staff(actor=staff, resident=user, rule_code="staff_award", reason="热心")
    assert entry.actor == staff
    with pytest.raises(NotStaff):
        services.award_by_staff(actor=outsider, resident=user, rule_code="staff_award", reason="x")
    with pytest.raises(services.NotAllowed, match="by the portal"):
        services.award_by_staff(actor=staff, resident=user, rule_code="attendance")
    with pytest.raises(NotStaff):
        services.award_by_staff(actor=staff, resident=resident(), rule_code="staff_award", reason="x")


def test_entries_are_never_changed_or_deleted():
    entry = services.award(resident=resident(), rule_code="attendance", source_key="i")
    entry.amount = 1000
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()


def test_database_refuses_a_negative_balance_and_a_second_reversal():
    user = resident()
    entry = services.award(resident=user, rule_code="attendance", source_key="d")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(resident=user).update(balance=-1)
    services.reverse_award(source_key="d")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=entry.account, kind="reverse", amount=-5, balance_after=0, idempotency_key="again", reverses=entry
        )


def test_points_audit_command_is_clean_and_fails_on_mismatch(capsys):
    user = resident()
    services.award(resident=user, rule_code="attendance", source_key="audit")
    call_command("points_audit")
    assert "clean" in capsys.readouterr().out
    Account.objects.filter(resident=user).update(balance=4)
    with pytest.raises(CommandError):
        call_command("points_audit")
    err = capsys.readouterr().err
    assert "sum of entries 5" in err and "sum of lot remainders 5" in err


def test_postgresql_itself_refuses_to_change_or_delete_entries(postgres_only):
    from django.db import DatabaseError, connection

    entry = services.award(resident=resident(), rule_code="attendance", source_key="pg")
    with pytest.raises(DatabaseError, match="never changed"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=500)
    with pytest.raises(DatabaseError, match="never changed"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM points_ledgerentry WHERE id = %s", [entry.pk])


def test_caps_count_by_the_day_of_the_event_and_future_days_are_refused():
    user = resident()
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    services.award(resident=user, rule_code="garbage_sorting", source_key="g:y", on=yesterday)
    entry = services.award(resident=user, rule_code="garbage_sorting", source_key="g:t", on=today)
    assert entry.occurred_on == today
    with pytest.raises(services.PointsError, match="a day"):
        services.award(resident=user, rule_code="garbage_sorting", source_key="g:y2", on=yesterday)
    with pytest.raises(services.PointsError, match="future"):
        services.award(resident=user, rule_code="garbage_sorting", source_key="g:f", on=today + datetime.timedelta(days=1))


def test_an_award_recorded_afterwards_is_dated_when_it_happened():
    user = resident()
    at = timezone.now() - datetime.timedelta(days=40)
    day = timezone.localdate(at)
    entry = services.award(resident=user, rule_code="volunteering", source_key="paper:1", hours=Decimal("2"), at=at)
    assert entry.created_at == at and entry.occurred_on == day
    assert entry.lot.expires_on == services.default_expiry(day)
    assert VolunteerHours.objects.get(entry=entry).created_at == at
    with pytest.raises(services.PointsError, match="a day in the future"):
        services.award(resident=user, rule_code="attendance", source_key="paper:2", on=day + datetime.timedelta(days=1), at=at)
    with pytest.raises(services.PointsError, match="moment in the future"):
        services.award(
            resident=user, rule_code="attendance", source_key="paper:3", at=timezone.now() + datetime.timedelta(hours=1)
        )
    with pytest.raises(ValueError, match="time zone"):
        services.award(resident=user, rule_code="attendance", source_key="paper:4", at=datetime.datetime(2026, 1, 5, 9))
    assert LedgerEntry.objects.count() == 1
