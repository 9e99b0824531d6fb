"""The personal parts of the site's own templates (plumbing/personal.py): what one visitor sees on a shared page."""

from django.contrib.messages import get_messages
from django.template.loader import render_to_string

from plumbing.personal import personal_part


@personal_part("messages")
def messages(request) -> str:
    """The visitor's messages ("Your booking is confirmed."), shown once."""
    shown = get_messages(request)
    if not shown:
        return ""
    return render_to_string("includes/messages.html", {"messages": shown})
