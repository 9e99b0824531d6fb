"""Shared set-up of the council voting tests: a council, its staff, and a session in progress."""

from __future__ import annotations

import datetime

from django.utils import timezone

from deliberation.factories import AgendaItemFactory, CouncilSessionFactory, council_with_members, staff_member
from deliberation.models import AgendaItem, Attendance, CouncilMember, CouncilSession


def seats(council) -> list[CouncilMember]:
    """The council's members in order: chair, secretary, then the others."""
    return list(council.members.select_related("user").order_by("pk"))


def new_council(community, *, members: int = 7, **fields):
    council = council_with_members(members=members, community=community, **fields)
    return council, seats(council)


def staff_of(council, **fields):
    return staff_member(council.community, **fields)


def running_session(council, *, present, mode=CouncilSession.Mode.HYBRID, items=1, **item_fields) -> tuple:
    """A session in progress with `items` agenda items and `present` members checked in (stored directly)."""
    now = timezone.now()
    session = CouncilSessionFactory(
        council=council,
        status=CouncilSession.Status.IN_SESSION,
        mode=mode,
        starts_at=now - datetime.timedelta(minutes=30),
        ends_at=now + datetime.timedelta(hours=2),
        opened_at=now,
    )
    made = [AgendaItemFactory(session=session, position=n + 1, **item_fields) for n in range(items)]
    Attendance.objects.bulk_create([Attendance(session=session, member=m, method=Attendance.Method.QR) for m in present])
    return session, made


def open_item(session, *, position: int = 1, **fields) -> AgendaItem:
    item = session.items.get(position=position)
    item.status, item.opened_at = AgendaItem.Status.OPEN, timezone.now()
    for name, value in fields.items():
        setattr(item, name, value)
    item.save()
    return item
