"""The personal parts of the site's own templates (plumbing/personal.py): what one visitor sees on a shared page."""

import hashlib

from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from plumbing.middleware import shared_part
from plumbing.personal import personal_part

from . import services
from .forms import ProfileForm
from .models import verified_phone


@personal_part("messages")
def messages(request) -> str:
    """The visitor's messages ("Your booking is confirmed."), shown once."""
    shown = get_messages(request)
    if not shown:
        return ""
    return render_to_string("includes/messages.html", {"messages": shown})


def resident_of(request):
    """The logged-in resident's profile (made now if they have none yet)."""
    return getattr(request.user, "profile", None) or services.get_or_create_profile(user=request.user)


def my_page_context(request, resident, form=None) -> dict:
    """What My page's personal parts show: the profile (its form bound to what was sent, else unbound) and whether
    the e-mail address and the resident are verified."""
    verified = services.has_verified_email(request.user)
    return {
        "form": form or SimpleLazyObject(lambda: ProfileForm(instance=resident)),  # made only if something reads it
        "form_html": None if form is not None else profile_form_html(resident),
        "resident": resident,
        "verified": verified,
        "verified_resident": verified or bool(verified_phone(request.user)),
    }


def profile_form_html(resident) -> str:
    """The unbound profile form's fields, made once per set of values shown, language and publish generation (the
    communities and grids it offers change only with a new one): the same values always give the same fields."""
    values = tuple(getattr(resident, f"{name}_id" if name in ("community", "grid") else name) for name in ProfileForm.Meta.fields)
    digest = hashlib.sha256(repr(values).encode()).hexdigest()
    return shared_part(
        ("profile-form", translation.get_language(), digest),
        lambda: render_to_string("includes/form.html", {"form": ProfileForm(instance=resident)}),
    )


def _my_page(request) -> dict:
    """My page's context: as the view made it (a form sent back with its errors), else made now (a cached page)."""
    made = getattr(request, "my_page", None)
    if made is None:
        made = request.my_page = my_page_context(request, resident_of(request))
    return made


@personal_part("home.me.top")
def my_page_top(request) -> str:
    """My page: who is logged in, the mobile number, the profile form and the grid."""
    return render_to_string("home/includes/my_page_top.html", _my_page(request), request=request)


@personal_part("home.me.account")
def my_page_account(request) -> str:
    """My page: the account's links, the log-out form and the privacy notice agreed to."""
    return render_to_string("home/includes/my_page_account.html", _my_page(request), request=request)
