"""The council's audit log: every change to a council, session, agenda, vote window or result is written to
Wagtail's log (Reports → Site history) with its author.

Actions are listed once here and registered with Wagtail in `wagtail_hooks.py`; services call `record`
(plumbing/audit.py, the one audit path of every app).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from plumbing.audit import AuditActions

AUDIT = AuditActions(
    {
        "council.members": (_("Change council members"), _("Changed the council's members")),
        "council.session.create": (_("Create council session"), _("Created a council session")),
        "council.session.edit": (_("Edit council session"), _("Edited a council session")),
        "council.session.announce": (_("Announce council session"), _("Announced a council session")),
        "council.session.start": (_("Start council session"), _("Started a council session")),
        "council.session.close": (_("Close council session"), _("Closed a council session")),
        "council.session.cancel": (_("Cancel council session"), _("Cancelled a council session")),
        "council.agenda.edit": (_("Edit agenda"), _("Changed the agenda")),
        "council.attendance": (_("Record attendance"), _("Recorded a member as present")),
        "council.recusal": (_("Declare recusal"), _("Declared a conflict of interest")),
        "council.recusal.withdraw": (_("Withdraw recusal"), _("Withdrew a conflict of interest")),
        "council.vote.open": (_("Open voting"), _("Opened voting on an item")),
        "council.vote.close": (_("Close voting"), _("Closed voting on an item")),
        "council.vote.record": (_("Record a vote"), _("Recorded the vote of a member in the room")),
        "council.result.store": (_("Store result"), _("Stored the result of a vote")),
    },
    # Public pages (home, session list and pages, topics) show sessions, agendas, votes and results.
    public={
        "council.session.create",
        "council.session.edit",
        "council.session.announce",
        "council.session.cancel",
        "council.session.start",
        "council.session.close",
        "council.agenda.edit",
        "council.vote.open",
        "council.vote.close",
        "council.result.store",
    },
)
ACTIONS = AUDIT.actions
record = AUDIT.record
