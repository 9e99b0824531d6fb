"""What the points app holds about a resident: their account, ledger and reservations (export, erasure).

Erasure keeps the ledger (entries are immutable and the audit needs them) but takes the
resident off the honours roll and cancels reservations still waiting for pickup (refunded).
"""

from __future__ import annotations

from typing import Any

from .models import Account, LedgerEntry, Reservation


def export(user) -> dict[str, Any]:
    account = Account.objects.filter(resident=user).first()
    if account is None:
        return {"points": None}
    entries = LedgerEntry.objects.filter(account=account).select_related("rule").order_by("pk")
    return {
        "points": {
            "balance": account.balance,
            "volunteer_hours": str(account.volunteer_hours),
            "honours_opt_in": account.honours_opt_in,
            "entries": [
                {
                    "at": entry.created_at.isoformat(),
                    "kind": entry.kind,
                    "points": entry.amount,
                    "balance_after": entry.balance_after,
                    "rule": entry.rule.code if entry.rule else None,
                    "reason": entry.reason,
                }
                for entry in entries
            ],
            "reservations": [
                {
                    "reward": reservation.reward.name,
                    "points": reservation.cost,
                    "code": reservation.code,
                    "status": reservation.status,
                }
                for reservation in Reservation.objects.filter(resident=user).select_related("reward").order_by("pk")
            ],
        }
    }


def erase(user) -> None:
    from . import services

    if Account.objects.filter(resident=user, honours_opt_in=True).exists():
        services.set_honours_opt_in(resident=user, opt_in=False)
    for reservation in Reservation.objects.filter(resident=user, status=Reservation.Status.RESERVED):
        services.cancel_reservation(reservation=reservation, actor=user)
