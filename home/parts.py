"""The personal parts of the site's own templates (plumbing/personal.py): what one visitor sees on a shared page."""

import hashlib

from django.conf import settings
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from plumbing.middleware import LocalCopies, generation, shared_part
from plumbing.personal import CSRF_STAND_IN, personal_part, with_csrf_token

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


# What My page's parts show of a resident's profile, besides their account's e-mail address and verification.
SHOWN = (*ProfileForm.Meta.fields, "mobile", "mobile_verified", "grid", "privacy_notice_version", "privacy_consented_at")
_my_page_parts = LocalCopies(2000)


def _kept(request, template: str) -> str:
    """A My page part made once per resident, language, publish generation (the grid's name, the communities the
    form offers) and set of values it shows, in each process, with this request's CSRF token: the values are read
    on every request, so a change shows at once. A form sent back with its errors is rendered afresh."""
    made = _my_page(request)
    if made["form_html"] is None:
        return render_to_string(template, made, request=request)
    resident, user = made["resident"], request.user
    values = (getattr(resident, resident._meta.get_field(name).attname) for name in SHOWN)  # ids, not the rows
    shown = (user.pk, user.email, made["verified"], made["verified_resident"], *values)
    key = (template, translation.get_language(), hashlib.sha256(repr(shown).encode()).hexdigest())
    current = generation.current()
    html = _my_page_parts.get(key, current)
    if html is None:
        html = render_to_string(template, {**made, "csrf_token": CSRF_STAND_IN}, request=request)
        _my_page_parts.put(key, current, html, settings.PAGE_CACHE_SECONDS)
    return with_csrf_token(request, html)


@personal_part("home.me.top")
def my_page_top(request) -> str:
    """My page: who is logged in, the mobile number, the profile form and the grid."""
    return _kept(request, "home/includes/my_page_top.html")


@personal_part("home.me.account")
def my_page_account(request) -> str:
    """My page: the account's links, the log-out form and the privacy notice agreed to."""
    return _kept(request, "home/includes/my_page_account.html")
