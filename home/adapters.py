"""allauth adapter: mail in the recipient's language, the resident's language after login."""

from allauth.account.adapter import DefaultAccountAdapter
from django.utils import translation


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix, email, context):
        user = context.get("user")
        profile = getattr(user, "profile", None) if user is not None else None
        language = profile.preferred_language if profile else translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)

    def get_login_redirect_url(self, request):
        profile = getattr(request.user, "profile", None)
        if profile is not None:
            translation.activate(profile.preferred_language)
        return super().get_login_redirect_url(request)
