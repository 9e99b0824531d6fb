"""What the follow-up holds about a resident: their objections to decisions (export, erasure).

Erasure keeps an objection's text and its answer — the decision's public record, which had to answer it before
taking effect — but no longer links it to the resident."""

from __future__ import annotations

from typing import Any

from .models import Objection


def export(user) -> dict[str, Any]:
    objections = Objection.objects.filter(resident=user).select_related("decision").order_by("created_at", "pk")
    return {
        "objections": [
            {
                "decision": objection.decision.display_summary,
                "text": objection.text,
                "filed_at": objection.created_at.isoformat(),
                "answer": objection.answer,
                "answered_at": objection.answered_at.isoformat() if objection.answered_at else None,
            }
            for objection in objections
        ]
    }


def erase(user) -> None:
    Objection.objects.filter(resident=user).update(resident=None)
