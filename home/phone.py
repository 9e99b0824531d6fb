"""Mobile-number accounts: numbers as people write them, the SMS code, and the limits on sending it.

Residents sign up, log in, verify and reset their password with a mainland mobile number and a
6-digit code by SMS (django-allauth's phone support, README: Mobile-number accounts). Numbers are
stored in `ResidentProfile.mobile` in their 11-digit national form, whatever way they were typed.

Every code text is queued in the outbox, never sent in the request, and only after the limits
below allow it: a paid text to any number a stranger types is what SMS pumping abuses.
"""

from __future__ import annotations

import uuid

import phonenumbers
from allauth.core import ratelimit
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from outbox.models import Message
from outbox.services import queue_message

CODE_KIND = "account.phone_code"
UNKNOWN_KIND = "account.phone_unknown"

INVALID_MOBILE = _("Enter a mainland mobile number of 11 digits, e.g. 138 1234 5678.")


def normalise_mobile(text: str) -> str:
    """ "13812345678" from "+86 138-1234-5678", "0086 13812345678", full-width digits …; ValidationError if it is
    not a valid mainland mobile number."""
    raw = (text or "").strip()
    if not raw or len(raw) > 40:
        raise ValidationError(INVALID_MOBILE, code="invalid_mobile")
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError(INVALID_MOBILE, code="invalid_mobile") from None
    national = str(number.national_number)
    if (
        number.country_code != 86
        or len(national) != 11
        or not national.startswith("1")
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number)
        not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    ):
        raise ValidationError(INVALID_MOBILE, code="invalid_mobile")
    return national


def mobile_or_none(text: str) -> str | None:
    """The 11-digit number if `text` is a mainland mobile number in any written form, else None."""
    try:
        return normalise_mobile(text)
    except ValidationError:
        return None


class MobileField(forms.CharField):
    """A mainland mobile number typed any way people write it, cleaned to its 11 digits (allauth's phone field)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault("help_text", _("We send a 6-digit code to this number by SMS."))
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel", "placeholder": "138 1234 5678"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return normalise_mobile(value) if value else value


# --- Limits ------------------------------------------------------------------------------------
# Each limit is an action of allauth's rate limiter (settings.ACCOUNT_RATE_LIMITS, sliding windows
# in the cache), checked in this order; the first one used up gives its message.


def _limits() -> list[tuple[str, str, object]]:
    """(action, what the key is, message) for every limit on sending a code to a number."""
    return [
        ("sms_code_number_minute", "number", _("A code was sent to this number less than a minute ago. Please wait a minute.")),
        (
            "sms_code_number_hour",
            "number",
            _("Too many codes were sent to this number in the last hour. Please try again in an hour."),
        ),
        ("sms_code_number_day", "number", _("Too many codes were sent to this number today. Please try again tomorrow.")),
        (
            "sms_code_address",
            "address",
            _("Too many codes were asked for from your network. Please try again in an hour."),
        ),
        (
            "sms_code_site",
            "site",
            _("The portal has sent too many text messages in the last hour. Please try again later, or log in with your e-mail."),
        ),
    ]


def _key(kind: str, phone: str) -> str | None:
    return {"number": phone, "site": "site", "address": None}[kind]


def sms_refusal(request: HttpRequest, phone: str) -> str | None:
    """Why a code may not be sent to `phone` now (a translated sentence), or None; uses nothing up."""
    for action, kind, message in _limits():
        if not ratelimit.consume(request, action=action, key=_key(kind, phone), dry_run=True):
            return str(message)
    return None


def use_sms_allowance(request: HttpRequest, phone: str) -> str | None:
    """Count one text to `phone` against every limit; the refusal's sentence if one is used up (nothing is counted then)."""
    refusal = sms_refusal(request, phone)
    if refusal:
        return refusal
    for action, kind, message in _limits():
        # A concurrent request may have taken the last one since the check: refuse, as the check would have.
        if not ratelimit.consume(request, action=action, key=_key(kind, phone)):
            return str(message)
    return None


def check_sms_allowed(request: HttpRequest | None, phone: str) -> None:
    """A form's check before it starts a flow that texts `phone`: ValidationError with the limit's sentence."""
    if request is None or not phone:
        return
    refusal = sms_refusal(request, phone)
    if refusal:
        raise ValidationError(refusal, code="sms_limit")


# --- The texts ---------------------------------------------------------------------------------


def _language(user) -> str:
    from .models import ResidentProfile

    # Read afresh: at sign-up the profile is created, then given the page's language, within this request.
    chosen = (
        ResidentProfile.objects.filter(user_id=user.pk).values_list("preferred_language", flat=True).first() if user else None
    )
    return chosen or translation.get_language() or settings.LANGUAGE_CODE


def queue_code_sms(*, user, phone: str, code: str) -> Message | None:
    """Queue the SMS that carries a verification or login code, in the resident's language."""
    language = _language(user)
    minutes = max(1, settings.ACCOUNT_PHONE_VERIFICATION_TIMEOUT // 60)
    with translation.override(language):
        body = ngettext(
            "Linli code: %(code)s. It is valid for %(minutes)d minute. Never tell anyone this code.",
            "Linli code: %(code)s. It is valid for %(minutes)d minutes. Never tell anyone this code.",
            minutes,
        ) % {"code": code, "minutes": minutes}
    return queue_message(
        kind=CODE_KIND,
        channel=Message.Channel.SMS,
        recipient=user if getattr(user, "pk", None) else None,
        address=phone,
        language=language,
        subject="",
        body=body,
        template_params={"code": code},
        # Every code is its own message, even the same code sent again.
        idempotency_key=f"{CODE_KIND}:{phone}:{uuid.uuid4().hex}",
    )


def queue_unknown_number_sms(*, phone: str) -> Message | None:
    """Queue the SMS telling the owner of a number with no account that someone asked for a code with it."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        body = gettext(
            "Someone asked Linli for a code for this number, but it belongs to no account. If it was you, please sign up first."
        )
    return queue_message(
        kind=UNKNOWN_KIND,
        channel=Message.Channel.SMS,
        address=phone,
        language=language,
        subject="",
        body=body,
        idempotency_key=f"{UNKNOWN_KIND}:{phone}:{uuid.uuid4().hex}",
    )


def mobile_matches(query: str, field: str = "mobile") -> Q:
    """Staff search: the profiles whose number is `query` written any way ("+86 138-1234-5678"), or starts with
    the digits typed so far ("138 1234"); matches nothing when `query` is no number at all."""
    number = mobile_or_none(query)
    if number is not None:
        return Q(**{field: number})
    digits = "".join(character for character in query if not character.isspace() and character not in "-()")
    if digits.isascii() and digits.isdigit() and len(digits) >= 3:
        return Q(**{f"{field}__startswith": digits})
    return Q(pk__in=[])
