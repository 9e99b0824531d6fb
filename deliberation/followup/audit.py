"""The follow-up's audit log: every change to minutes, a decision or a follow-up action is written to Wagtail's
log (Reports → Site history) with its author.

Actions are listed once here and registered with Wagtail in `wagtail_hooks.py`; services call `record`
(plumbing/audit.py, the one audit path of every app).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from plumbing.audit import AuditActions

AUDIT = AuditActions(
    {
        "followup.minutes.generate": (_("Generate minutes"), _("Generated the minutes")),
        "followup.minutes.edit": (_("Edit minutes"), _("Edited the minutes")),
        "followup.minutes.confirm": (_("Confirm minutes"), _("Confirmed the minutes")),
        "followup.minutes.publish": (_("Publish minutes"), _("Published the minutes")),
        "followup.decision.create": (_("Create decision"), _("Created a decision")),
        "followup.decision.objection": (_("File objection"), _("Filed an objection")),
        "followup.decision.answer": (_("Answer objection"), _("Answered an objection")),
        "followup.decision.effect": (_("Decision takes effect"), _("The decision took effect")),
        "followup.decision.complete": (_("Complete decision"), _("Completed the decision")),
        "followup.action.create": (_("Create follow-up action"), _("Created a follow-up action")),
        "followup.action.update": (_("Update follow-up action"), _("Reported progress on a follow-up action")),
        "followup.action.escalate": (_("Escalate follow-up action"), _("Escalated an overdue follow-up action")),
    },
    # Public pages (decisions, progress, minutes, a topic's council section) show these.
    public={
        "followup.minutes.publish",
        "followup.decision.create",
        "followup.decision.effect",
        "followup.decision.answer",
        "followup.action.create",
        "followup.action.update",
    },
)
ACTIONS = AUDIT.actions
record = AUDIT.record
