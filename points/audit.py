"""The points audit log: every change staff make to a resident's points (an award by hand or from a sheet, an
adjustment, a reversal, a reward handed over, a reservation cancelled for the resident) is written to Wagtail's
log (Reports → Site history) on the resident's account, with its author, inside the change's transaction.

Actions are registered once here (`wagtail_hooks.register_points_log_actions`); services call `record`, and the
resident's points page in the admin shows `history`.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from wagtail.models import ModelLogEntry

from plumbing.audit import AuditActions

from .models import Account

AUDIT = AuditActions(
    {
        "points.award": (_("Award points"), _("Awarded points by hand")),
        "points.award.sheet": (_("Award points from a sheet"), _("Awarded points from an uploaded sheet")),
        "points.adjust": (_("Adjust a balance"), _("Adjusted the balance")),
        "points.reverse": (_("Reverse an entry"), _("Reversed an entry")),
        "points.reward.hand_over": (_("Hand over a reward"), _("Handed over a reward")),
        "points.reservation.cancel": (_("Cancel a reservation"), _("Cancelled a reservation for the resident")),
    }
)
ACTIONS = AUDIT.actions


def record(account: Account, action: str, *, actor, **data) -> None:
    """On the resident's account, titled with the resident (plumbing/audit.py)."""
    AUDIT.record(account, action, actor=actor, title=str(account.resident), **data)


def history(account: Account) -> QuerySet[ModelLogEntry]:
    """What staff did to this account, newest first, with who did it (one query)."""
    content_type = ContentType.objects.get_for_model(Account)
    return (
        ModelLogEntry.objects.filter(content_type=content_type, object_id=str(account.pk), action__in=ACTIONS)
        .select_related("user")
        .order_by("-timestamp", "-pk")
    )
