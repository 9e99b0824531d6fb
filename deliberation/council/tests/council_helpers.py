"""Shared set-up of the council voting tests: a council, its staff, and a session in progress."""

from __future__ import annotations

import datetime

from django.utils import timezone

from deliberation.council.factories import AgendaItemFactory, CouncilSessionFactory, council_with_members
from deliberation.council.models import AgendaItem, Attendance, CouncilMember, CouncilSession
from deliberation.council.sealing import ItemSeal, new_salt
from deliberation.mailbox.factories import staff_member


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
    # As open_voting does: a secret vote's ballots are sealed with a key derived with the item's own salt.
    item.ballot_salt = new_salt() if item.ballot == AgendaItem.Ballot.SECRET else None
    item.save()
    return item


def close_directly(item: AgendaItem) -> AgendaItem:
    """Mark an item's voting closed without counting (its salt goes, as at a real close)."""
    item.status, item.closed_at, item.ballot_salt = AgendaItem.Status.CLOSED, timezone.now(), None
    item.save()
    return item


def sealed_choices(item: AgendaItem) -> list[str]:
    """The choices in an open secret item's sealed ballots, sorted, opened with the ballot key (the tests hold it)."""
    item.refresh_from_db()
    seal = ItemSeal.for_item(item)
    return sorted(seal.unseal(sealed).choice for sealed in item.ballots.values_list("sealed", flat=True))


def stored_ballots(item: AgendaItem | None = None) -> list[tuple]:
    """Every stored ballot row (key, choice, ciphertext), to show that a refused vote rewrote nothing."""
    from deliberation.council.models import Ballot

    rows = Ballot.objects.filter(item=item) if item is not None else Ballot.objects.all()
    return sorted((str(pk), choice, bytes(sealed or b"")) for pk, choice, sealed in rows.values_list("pk", "choice", "sealed"))
