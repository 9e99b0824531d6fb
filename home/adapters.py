"""allauth adapter: mail in the recipient's language (after login the pages stay in the language in use), 429 when locked out,
and mobile numbers (home/phone.py): stored in the resident's profile, codes queued as SMS within the limits."""

import uuid
from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core.exceptions import ImmediateHttpResponse
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext

from outbox.services import queue_message
from plumbing.links import absolute_url
from plumbing.network import client_address

from . import phone as phones
from .forms import TAKEN
from .i18n import language_of
from .models import ResidentProfile


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix, email, context):
        user = context.get("user")
        language = language_of(user, translation.get_language() or "")
        with translation.override(language):
            request = allauth_context.request
            # Mail says who it is from by the portal's name and public address (PORTAL_BASE_URL), not by
            # the host name a request came in on (django.contrib.sites is not used).
            current_site = SimpleNamespace(name=gettext("Linli"), domain=urlsplit(settings.PORTAL_BASE_URL).netloc)
            extra = {"current_site": current_site, "portal_url": absolute_url(f"/{language}/")}
            if "signup_url" in context:
                extra["signup_url"] = absolute_url(reverse("account_signup"))
            rendered = self.render_mail(template_prefix, email, {"request": request, "email": email, **context, **extra})
        # Queued, not sent in the request: a worker delivers it (codes and links differ per request, so
        # each one is its own message).
        queue_message(
            kind=f"account.{template_prefix.rsplit('/', 1)[-1]}",
            recipient=user if getattr(user, "pk", None) else None,
            address=email,
            language=language,
            subject=rendered.subject,
            body=rendered.body,
            idempotency_key=f"account.{template_prefix.rsplit('/', 1)[-1]}:{email}:{uuid.uuid4().hex}",
        )

    def get_email_confirmation_url(self, request, emailconfirmation):
        # The portal's public address (PORTAL_BASE_URL), not the host the sign-up request came in on.
        return absolute_url(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def get_client_ip(self, request):
        # One address helper for the whole portal: the trusted proxy as configured, never a 500.
        return client_address(request)

    def pre_authenticate(self, request, **credentials):
        # allauth answers a used-up "login_failed" limit with a form error; answer HTTP 429
        # instead, so that clients, the admin login and monitoring see the lock-out as such.
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            if not self._login_failed_rl_usage:
                message = self.error_messages["too_many_login_attempts"]
                if is_headless(request):
                    raise ImmediateHttpResponse(headless_error(429, "too_many_login_attempts", message)) from None
                page = render(request, "home/too_many_attempts.html", {"message": message}, status=429)
                raise ImmediateHttpResponse(page) from None
            raise

    # --- Mobile numbers (home/phone.py) ----------------------------------------------------------

    def phone_form_field(self, **kwargs):
        kwargs.pop("label", None)  # allauth's "Phone"; ours says what kind of number
        return phones.MobileField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        return phones.normalise_mobile(phone)

    def get_phone(self, user) -> tuple[str, bool] | None:
        profile = ResidentProfile.objects.filter(user=user).only("mobile", "mobile_verified").first()
        if profile is None or not profile.mobile:
            return None
        return profile.mobile, profile.mobile_verified

    def set_phone(self, user, phone: str, verified: bool) -> None:
        self._store_phone(user, phone, verified)

    def set_phone_verified(self, user, phone: str) -> None:
        # Also the end of a change of number: the new number is stored only once proven.
        self._store_phone(user, phone, True)

    def _store_phone(self, user, phone: str, verified: bool) -> None:
        number = phones.normalise_mobile(phone)
        try:
            with transaction.atomic():
                if verified:
                    # A number belongs to one active account: an inactive (deactivated) account lets go of it.
                    ResidentProfile.objects.filter(mobile=number, mobile_verified=True, user__is_active=False).exclude(
                        user=user
                    ).update(mobile_verified=False)
                profile, _created = ResidentProfile.objects.select_for_update().get_or_create(user=user)
                profile.mobile = number
                profile.mobile_verified = verified
                profile.save(update_fields=["mobile", "mobile_verified"])
        except IntegrityError:
            # Another account proved the same number between the form's check and now (the constraint held).
            request = self.request or allauth_context.request
            if request is None:
                raise
            if is_headless(request):
                raise ImmediateHttpResponse(headless_error(409, "phone_taken", TAKEN, param="phone")) from None
            messages.error(request, str(TAKEN))
            raise ImmediateHttpResponse(HttpResponseRedirect(reverse("account_change_phone"))) from None

    def get_user_by_phone(self, phone: str):
        """The active account that proved this number; numbers typed but never proven log nobody in."""
        number = phones.mobile_or_none(phone)
        if number is None:
            return None
        return (
            get_user_model()
            .objects.filter(is_active=True, profile__mobile=number, profile__mobile_verified=True)
            .select_related("profile")
            .first()
        )

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        self._within_limits(phone)
        phones.queue_code_sms(user=user, phone=phone, code=code)

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        # Counted like a code, so that the limits do not tell which numbers have accounts.
        self._within_limits(phone)
        phones.queue_unknown_number_sms(phone=phone)

    def send_account_already_exists_sms(self, phone: str) -> None:
        # Sign-up and change of number refuse a taken number with a form error (home/forms.py): no text.
        pass

    def _within_limits(self, phone: str) -> None:
        """Count one text against the limits, or go back to the page with the limit's sentence (nothing sent).

        Forms check the limits before a flow starts; this catches the resend buttons and races.
        """
        request = self.request or allauth_context.request
        refusal = phones.use_sms_allowance(request, phone)
        if refusal and is_headless(request):
            raise ImmediateHttpResponse(headless_error(429, "too_many_codes", refusal))
        if refusal:
            messages.error(request, refusal)
            raise ImmediateHttpResponse(HttpResponseRedirect(request.get_full_path()))

    def get_login_stages(self):
        # E-mail and phone verification as home/stages.py adapts them to accounts with a number, an address or both.
        ours = {
            "allauth.account.stages.EmailVerificationStage": "home.stages.EmailVerificationStage",
            "allauth.account.stages.PhoneVerificationStage": "home.stages.PhoneVerificationStage",
        }
        return [ours.get(stage, stage) for stage in super().get_login_stages()]


def is_headless(request: HttpRequest | None) -> bool:
    """Whether allauth serves this request to a phone client (/_allauth/app/v1/...): it wants JSON, not a page."""
    return getattr(getattr(request, "allauth", None), "headless", None) is not None


def headless_error(status: int, code: str, message, *, param: str | None = None) -> HttpResponse:
    """A refusal in allauth's headless error shape ({"status", "errors": [{"message", "code", "param"}]})."""
    error = {"message": str(message), "code": code, **({"param": param} if param else {})}
    response = JsonResponse({"status": status, "errors": [error]}, status=status)
    add_never_cache_headers(response)
    return response


def user_display(user) -> str:
    """How allauth names a resident in pages and mail: their display name, else their e-mail."""
    profile = getattr(user, "profile", None)
    mobile = profile.mobile if profile is not None and profile.mobile_verified else ""
    return (profile.display_name if profile is not None else "") or user.email or mobile or user.get_username()
