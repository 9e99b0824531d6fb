"""allauth login stages adapted to accounts with a mobile number, an e-mail address, or both."""

from allauth.account import app_settings
from allauth.account import stages as allauth_stages
from allauth.account.models import EmailAddress

from .models import ResidentProfile


class EmailVerificationStage(allauth_stages.EmailVerificationStage):
    """E-mail verification is optional in settings (an account may have only a mobile number, which the phone
    stage verifies) but stays mandatory for an account whose only way in is an unverified e-mail address."""

    def handle(self):
        login = self.login
        user = login.user
        if (
            login.email_verification == app_settings.EmailVerificationMethod.OPTIONAL
            and user is not None
            and not ResidentProfile.objects.filter(user=user, mobile_verified=True).exclude(mobile="").exists()
            and EmailAddress.objects.filter(user=user).exists()
            and not EmailAddress.objects.filter(user=user, verified=True).exists()
        ):
            login.email_verification = app_settings.EmailVerificationMethod.MANDATORY
        return super().handle()


class PhoneVerificationStage(allauth_stages.PhoneVerificationStage):
    """A resident who already proved an e-mail address logs in without proving a number typed on their
    profile before numbers were verified: they prove it when they choose to (My page → change of number).
    Sign-up, and accounts without a verified e-mail address, still prove their number with a code."""

    def handle(self):
        user = self.login.user
        if user is not None and user.pk and EmailAddress.objects.filter(user=user, verified=True).exists():
            return None, True
        return super().handle()
