"""The council's audit log: every change to a council, session, agenda, vote window, result, decision or
follow-up action is written to Wagtail's log (Reports → Site history) with its author.

Actions are listed once here and registered with Wagtail in `wagtail_hooks.py`; services call `record`
(plumbing/audit.py, the one audit path of every app).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from plumbing.audit import AuditActions

AUDIT = AuditActions(
    {
        "deliberation.council.members": (_("Change council members"), _("Changed the council's members")),
        "deliberation.session.create": (_("Create council session"), _("Created a council session")),
        "deliberation.session.edit": (_("Edit council session"), _("Edited a council session")),
        "deliberation.session.announce": (_("Announce council session"), _("Announced a council session")),
        "deliberation.session.start": (_("Start council session"), _("Started a council session")),
        "deliberation.session.close": (_("Close council session"), _("Closed a council session")),
        "deliberation.session.cancel": (_("Cancel council session"), _("Cancelled a council session")),
        "deliberation.agenda.edit": (_("Edit agenda"), _("Changed the agenda")),
        "deliberation.attendance": (_("Record attendance"), _("Recorded a member as present")),
        "deliberation.recusal": (_("Declare recusal"), _("Declared a conflict of interest")),
        "deliberation.recusal.withdraw": (_("Withdraw recusal"), _("Withdrew a conflict of interest")),
        "deliberation.vote.open": (_("Open voting"), _("Opened voting on an item")),
        "deliberation.vote.close": (_("Close voting"), _("Closed voting on an item")),
        "deliberation.vote.record": (_("Record a vote"), _("Recorded the vote of a member in the room")),
        "deliberation.result.store": (_("Store result"), _("Stored the result of a vote")),
        "deliberation.minutes.generate": (_("Generate minutes"), _("Generated the minutes")),
        "deliberation.minutes.edit": (_("Edit minutes"), _("Edited the minutes")),
        "deliberation.minutes.confirm": (_("Confirm minutes"), _("Confirmed the minutes")),
        "deliberation.minutes.publish": (_("Publish minutes"), _("Published the minutes")),
        "deliberation.decision.create": (_("Create decision"), _("Created a decision")),
        "deliberation.decision.objection": (_("File objection"), _("Filed an objection")),
        "deliberation.decision.answer": (_("Answer objection"), _("Answered an objection")),
        "deliberation.decision.effect": (_("Decision takes effect"), _("The decision took effect")),
        "deliberation.decision.complete": (_("Complete decision"), _("Completed the decision")),
        "deliberation.action.create": (_("Create follow-up action"), _("Created a follow-up action")),
        "deliberation.action.update": (_("Update follow-up action"), _("Reported progress on a follow-up action")),
        "deliberation.action.escalate": (_("Escalate follow-up action"), _("Escalated an overdue follow-up action")),
    }
)
ACTIONS = AUDIT.actions
record = AUDIT.record
