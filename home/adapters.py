"""allauth adapter: mail in the recipient's language, the resident's language after login, 429 when locked out."""

import uuid
from types import SimpleNamespace

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core.exceptions import ImmediateHttpResponse
from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext

from outbox.services import queue_message

from .network import client_address


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix, email, context):
        user = context.get("user")
        profile = getattr(user, "profile", None) if user is not None else None
        language = profile.preferred_language if profile else (translation.get_language() or settings.LANGUAGE_CODE)
        with translation.override(language):
            site = context.get("current_site")
            request = allauth_context.request
            # Mail says who it is from by the portal's name, not the request's host name.
            current_site = SimpleNamespace(name=gettext("Linli"), domain=getattr(site, "domain", ""))
            rendered = self.render_mail(
                template_prefix, email, {"request": request, "email": email, **context, "current_site": current_site}
            )
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

    def get_client_ip(self, request):
        # One address helper for the whole portal: the trusted proxy as configured, never a 500.
        return client_address(request)

    def get_login_redirect_url(self, request):
        profile = getattr(request.user, "profile", None)
        if profile is not None:
            translation.activate(profile.preferred_language)
        return super().get_login_redirect_url(request)

    def pre_authenticate(self, request, **credentials):
        # allauth answers a used-up "login_failed" limit with a form error; answer HTTP 429
        # instead, so that clients, the admin login and monitoring see the lock-out as such.
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            if not self._login_failed_rl_usage:
                message = self.error_messages["too_many_login_attempts"]
                page = render(request, "home/too_many_attempts.html", {"message": message}, status=429)
                raise ImmediateHttpResponse(page) from None
            raise


def user_display(user) -> str:
    """How allauth names a resident in pages and mail: their display name, else their e-mail."""
    profile = getattr(user, "profile", None)
    return (profile.display_name if profile is not None else "") or user.email or user.get_username()
