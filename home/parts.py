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


def _my_page(request) -> dict:
    from . import services
    from .views import my_page_context

    made = getattr(request, "my_page", None)
    if made is None:
        resident = getattr(request.user, "profile", None) or services.get_or_create_profile(user=request.user)
        made = request.my_page = my_page_context(request, resident)
    return made


@personal_part("home.me.top")
def my_page_top(request) -> str:
    """My page: who is logged in, the mobile number, the profile form and the grid."""
    return render_to_string("home/includes/my_page_top.html", _my_page(request), request=request)


@personal_part("home.me.account")
def my_page_account(request) -> str:
    """My page: the account's links, the log-out form and the privacy notice agreed to."""
    return render_to_string("home/includes/my_page_account.html", _my_page(request), request=request)
