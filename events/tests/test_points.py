"""Checking in at the door awards the activity's points (volunteering: hours too) once; undoing it reverses them."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from events import factories, services
from points import services as points
from points.models import Account


@pytest.fixture
def soon(site_pages, community):
    def make(**fields):
        activity = factories.activity(community=community, slug=fields.pop("slug", "soon"), **fields)
        return factories.SessionFactory(
            activity=activity,
            starts_at=timezone.now() + datetime.timedelta(minutes=30),
            ends_at=timezone.now() + datetime.timedelta(minutes=150),
        )

    return make


def balance(user) -> int:
    account = Account.objects.filter(resident=user).first()
    return account.balance if account else 0


def test_check_in_awards_the_activitys_points_once_and_undo_reverses_them(soon, resident, staff):
    session = soon(points=8)
    (booking,) = services.book_session(session=session, resident=resident, actor=resident)
    services.check_in(session=session, code=booking.code, actor=staff)
    assert balance(resident) == 8
    services.check_in(session=session, code=booking.code, actor=staff)  # a second scan
    assert balance(resident) == 8
    services.undo_check_in(booking=booking, actor=staff)
    assert balance(resident) == 0
    services.check_in(session=session, code=booking.code, actor=staff)  # checked in again after all
    assert balance(resident) == 8
    assert points.audit() == []


def test_volunteering_earns_hours_as_well(soon, resident, staff):
    session = soon(kind="volunteering", points=0, slug="duty")
    (booking,) = services.book_session(session=session, resident=resident, actor=resident)
    services.check_in(session=session, code=booking.code, actor=staff)
    account = Account.objects.get(resident=resident)
    assert account.volunteer_hours == Decimal("2.0")
    assert account.balance > 0


def test_no_points_for_an_activity_without_points_or_a_walk_in(soon, resident, staff):
    session = soon(points=0, slug="free")
    (booking,) = services.book_session(session=session, resident=resident, actor=resident)
    walk_in = services.book_walk_in(session=session, actor=staff, name="李大爷", phone="13812345678")
    services.check_in(session=session, code=booking.code, actor=staff)
    services.check_in(session=session, code=walk_in.code, actor=staff)
    assert balance(resident) == 0
