"""What the council's services tell the rest of the app. Each is sent inside the change's transaction, so
what a receiver writes commits or rolls back with the change; a receiver's error undoes the change.

The follow-up (`deliberation/followup/services.py`) receives both: it drafts the minutes when a session ends and starts a
decision's notice period when a result is stored. So the council never imports the follow-up, which builds
on it (who chairs, clerks and sits)."""

from django.dispatch import Signal

# sender=CouncilSession; session=, actor= (the chair who ended it, or None for the scheduler)
session_ended = Signal()
# sender=Result; result=, actor=
result_stored = Signal()
