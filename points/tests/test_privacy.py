"""A resident's points are in their data export; erasure refunds waiting reservations and leaves the honours roll."""

from points import factories, services
from points.models import Account, Reservation


def test_points_are_exported_and_erasure_refunds_and_leaves_the_roll(locales):
    from home.services import erase_account, export_personal_data

    resident = factories.resident()
    services.award(resident=resident, rule_code="attendance", source_key="test:privacy", amount=60)
    reservation = services.redeem(resident=resident, reward=factories.RewardFactory(cost=50))
    services.set_honours_opt_in(resident=resident, opt_in=True)

    data = export_personal_data(user=resident)["points"]
    assert data["balance"] == 10
    assert [entry["kind"] for entry in data["entries"]] == ["earn", "spend"]
    assert data["reservations"][0]["code"] == reservation.code

    erase_account(user=resident, actor=resident)
    reservation.refresh_from_db()
    account = Account.objects.get(resident=resident)
    assert reservation.status == Reservation.Status.CANCELLED
    assert account.balance == 60 and account.honours_opt_in is False
    assert services.audit() == []
