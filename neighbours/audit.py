"""The neighbour-help audit log: posts, responses, thanks and every moderation step, with who did it, in
Wagtail's log (Reports → Site history). Registered once here (`wagtail_hooks`); services call `record` inside
their transaction. Entries on a post name no contact: the post's page reads names from the responses.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from plumbing.audit import AuditActions

AUDIT = AuditActions(
    {
        "neighbours.post.create": (_("Post in neighbour help"), _("Posted in neighbour help")),
        "neighbours.post.on_behalf": (_("Post for a resident"), _("Posted in neighbour help for a resident")),
        "neighbours.post.close": (_("Close a post"), _("Closed the post")),
        "neighbours.post.expire": (_("Expire a post"), _("The post expired")),
        "neighbours.post.escalate": (_("Escalate an unanswered request"), _("Sent the unanswered request to the grid worker")),
        "neighbours.response.offer": (_("Offer help"), _("Offered to help")),
        "neighbours.response.claim": (_("Claim an item"), _("Claimed the item")),
        "neighbours.response.accept": (_("Accept an offer"), _("Accepted an offer")),
        "neighbours.response.decline": (_("Decline an offer"), _("Declined an offer")),
        "neighbours.response.withdraw": (_("Withdraw an offer"), _("Withdrew an offer")),
        "neighbours.response.confirm": (_("Confirm help done"), _("Confirmed that the help was done")),
        "neighbours.thanks": (_("Say thanks"), _("Thanked a neighbour")),
        "neighbours.report": (_("Report to staff"), _("Reported a post or a person")),
        "neighbours.moderate.hide": (_("Hide a post"), _("Hid the post")),
        "neighbours.moderate.warn": (_("Warn a resident"), _("Warned the resident")),
        "neighbours.moderate.suspend": (_("Suspend posting"), _("Suspended the resident's posting")),
        "neighbours.moderate.dismiss": (_("Dismiss a report"), _("Dismissed the report")),
    }
)
ACTIONS = AUDIT.actions
record = AUDIT.record
