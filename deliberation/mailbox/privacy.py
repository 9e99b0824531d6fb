"""What the mailbox holds about a resident: their letters (export, erasure).

Erasure keeps a letter's subject and text — the concern itself, which its topic counts
and the community must answer for — but removes who wrote it and how to reach them.
"""

from __future__ import annotations

from typing import Any

from deliberation.mailbox.models import Letter, Support


def export(user) -> dict[str, Any]:
    return {
        "letters": [
            {
                "tracking_number": letter.tracking_number,
                "received_at": letter.received_at.isoformat(),
                "channel": letter.channel,
                "subject": letter.subject,
                "text": letter.body,
                "place": letter.place,
                "status": letter.status,
                "contact_name": letter.contact_name,
                "contact": letter.contact,
            }
            for letter in Letter.objects.filter(writer=user).order_by("received_at", "pk")
        ],
        "topics_supported": list(Support.objects.filter(resident=user).values_list("topic__title", flat=True)),
    }


def erase(user) -> None:
    Letter.objects.filter(writer=user).update(contact_name="", contact="", access_key="")
