"""The mailbox's audit log: staff's changes to topics — created, a letter merged into one or split out of it,
the public summary approved, the status moved — and hotline imports are written to Wagtail's log (Reports →
Site history) with their author. What happens to one letter is also on its own timeline (`LetterEvent`).

Actions are listed once here and registered with Wagtail in `wagtail_hooks.py`; services call `record`
(plumbing/audit.py, the one audit path of every app).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from plumbing.audit import AuditActions

AUDIT = AuditActions(
    {
        "mailbox.topic.create": (_("Create topic"), _("Created a topic")),
        "mailbox.topic.approve": (_("Approve topic summary"), _("Approved the topic's public summary")),
        "mailbox.topic.status": (_("Change topic status"), _("Changed the topic's status")),
        "mailbox.letter.merge": (_("Merge letter into topic"), _("Merged a letter into the topic")),
        "mailbox.letter.split": (_("Split letter from topic"), _("Split a letter out into this new topic")),
        "mailbox.hotline.import": (_("Import hotline letters"), _("Imported letters from the 12345 hotline")),
    },
    # Public pages (the topic list and pages, the home page) show approved topics and their status.
    public={"mailbox.topic.approve", "mailbox.topic.status"},
)
ACTIONS = AUDIT.actions
record = AUDIT.record
