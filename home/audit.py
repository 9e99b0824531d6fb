"""Home's audit log: a grid's join code rotated by staff, and residents joining a grid by its code (扫码入格).

Entries are written on the grid (its name is the entry's title), never on a resident's profile, so an erased
resident's name does not stay in the history; the actor is the resident's (then anonymous) account.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from plumbing.audit import AuditActions

AUDIT = AuditActions(
    {
        "home.grid.rotate_code": (_("Replace the grid's QR code"), _("Replaced the grid's QR code")),
        "home.grid.join": (_("Join a grid by its QR code"), _("Joined the grid by its QR code")),
    }
)
record = AUDIT.record
