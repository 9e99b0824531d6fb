"""The events audit log: every change a person makes to a session or a booking (staff at the desk or the
door, residents booking and cancelling) is written to Wagtail's log (Reports → Site history) with its actor.

Actions are registered once here (`wagtail_hooks.register_events_log_actions`); services call `record`
inside their transaction. Entries name no participant: the roster reads the name from the booking, so an
erased resident's name is gone from the history too.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from plumbing.audit import AuditActions

AUDIT = AuditActions(
    {
        "events.booking.book": (_("Book a place"), _("Booked a place")),
        "events.booking.book_for_resident": (_("Book for a resident"), _("Booked a place for a resident")),
        "events.booking.walk_in": (_("Book a walk-in"), _("Booked a walk-in participant")),
        "events.booking.cancel": (_("Cancel booking"), _("Cancelled a booking")),
        "events.booking.promote": (_("Give a seat from the waiting list"), _("Gave a seat from the waiting list")),
        "events.booking.check_in": (_("Check in"), _("Checked a participant in")),
        "events.booking.undo_check_in": (_("Undo check-in"), _("Undid a check-in")),
        "events.session.capacity": (_("Change seats"), _("Changed the number of seats")),
        "events.session.cancel": (_("Cancel session"), _("Cancelled the session")),
        "events.session.draw": (_("Run the draw"), _("Ran the draw")),
        "events.session.email": (_("E-mail participants"), _("E-mailed the participants")),
        "events.sessions.add": (_("Add sessions"), _("Added sessions to the activity")),
    }
)
ACTIONS = AUDIT.actions
record = AUDIT.record
