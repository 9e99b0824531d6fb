"""A resident's bookings and household are in their data export, and erasure removes them."""

from events import services
from events.models import Booking, HouseholdMember
from home.services import erase_account, export_personal_data


def test_export_lists_bookings_and_household(session, resident):
    child = services.add_household_member(
        resident=resident, name="小明", birth_year=2018, relation="child", guardian_consent=True
    )
    (booking,) = services.book_session(session=session, resident=resident, actor=resident, member=child)
    data = export_personal_data(user=resident)
    assert data["household_members"][0]["name"] == "小明"
    assert data["bookings"][0]["ticket_code"] == booking.code
    assert data["bookings"][0]["participant"] == "小明"


def test_erasure_cancels_future_bookings_and_forgets_names(site_pages, session, resident, make_resident):
    child = services.add_household_member(
        resident=resident, name="小明", birth_year=2018, relation="child", guardian_consent=True
    )
    (booking,) = services.book_session(session=session, resident=resident, actor=resident, member=child)
    waiting = make_resident()
    session.capacity = 1
    session.save()
    (queued,) = services.book_session(session=session, resident=waiting, actor=waiting)
    erase_account(user=resident, actor=resident)
    booking.refresh_from_db()
    queued.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.participant_name == "—"
    assert queued.status == Booking.Status.CONFIRMED  # the freed seat went to the next in line
    assert not HouseholdMember.objects.filter(resident=resident).exists()
