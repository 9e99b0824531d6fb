"""What the councils hold about a resident: their seats (export).

Erasure keeps a seat: who sat on a council, in which role and term, is a public record the council's results
and keyed chain refer to (a member's attendance and open votes are counted under it). The account's name and
contact go with the profile (home.services.erase_account); the seat then names nobody."""

from __future__ import annotations

from typing import Any

from .models import CouncilMember


def export(user) -> dict[str, Any]:
    seats = CouncilMember.objects.filter(user=user).select_related("council").order_by("term_start", "pk")
    return {
        "council_seats": [
            {
                "council": str(seat.council),
                "role": seat.role,
                "term_start": seat.term_start.isoformat(),
                "term_end": seat.term_end.isoformat() if seat.term_end else None,
            }
            for seat in seats
        ]
    }


def erase(user) -> None:
    """Nothing to remove here (see the module's docstring)."""
