"""allauth's account forms with mainland mobile numbers (home/phone.py); settings.ACCOUNT_FORMS names them.

Kept apart from home/forms.py, which allauth imports while building its own forms (ACCOUNT_SIGNUP_FORM_CLASS).
"""

from allauth.account import forms as allauth_forms
from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.password_reset_by_code import PasswordResetVerificationProcess
from allauth.core import context as allauth_context
from allauth.headless.account import inputs as headless_inputs
from django import forms
from django.utils.translation import gettext_lazy as _

from . import phone as phones
from .forms import TAKEN


class LoginForm(allauth_forms.LoginForm):
    """allauth's login: a mobile number (written any way) or an e-mail address, and the password."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["login"]
        field.label = _("Mobile number or e-mail")
        field.widget.attrs.update({"placeholder": _("Mobile number or e-mail"), "autocomplete": "username"})


class LoginCodeRules:
    """What a request for a log-in code must hold, on the page and for phone clients alike: a mobile number
    (within the limits on texts, refused in words before anything is sent) or an e-mail address."""

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"]
        if phone:
            phones.check_sms_allowed(allauth_context.request, phone)
        return super().clean_phone()

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("phone") and not cleaned.get("email"):
            raise forms.ValidationError(_("Enter your mobile number."), code="required")
        return cleaned


class RequestLoginCodeForm(LoginCodeRules, allauth_forms.RequestLoginCodeForm):
    """Log in with a code: by SMS to the mobile number (first), or by e-mail."""

    field_order = ["phone", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Or your e-mail address")
        self.fields["email"].widget.attrs["placeholder"] = ""


class RequestLoginCodeInput(LoginCodeRules, headless_inputs.RequestLoginCodeInput):
    """The same request by a phone client (/_allauth/app/v1/auth/code/request, home/api_auth.py). allauth's own
    input checks neither rule: with neither number nor address it failed with a 500."""


class ChangePhoneForm(allauth_forms.ChangePhoneForm):
    """Add or change the mobile number: refused in words when it belongs to another account, or when the
    limits on texts are used up; the number is stored once the code sent to it is typed."""

    def clean_phone(self) -> str:
        phone = super().clean_phone()
        if self.account_already_exists:
            raise forms.ValidationError(TAKEN)
        phones.check_sms_allowed(allauth_context.request, phone)
        return phone


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    """A forgotten password: a code by SMS to the account's proven mobile number, or by e-mail to its address.

    allauth 65.21 resets by code through e-mail only; a number follows the same steps and pages (its code,
    10 minutes, 5 tries, then a new password), with the number where allauth keeps the address.
    """

    email = forms.CharField(label=_("Mobile number or e-mail"), max_length=254)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.phone = None
        self.fields["email"].widget.attrs.update({"autocomplete": "username", "inputmode": "email"})

    def clean_email(self) -> str:
        value = self.cleaned_data["email"].strip()
        number = phones.mobile_or_none(value) if "@" not in value else None
        if number is None:
            self.cleaned_data["email"] = forms.EmailField().clean(value)
            return super().clean_email()
        phones.check_sms_allowed(allauth_context.request, number)
        self.phone = number
        user = get_adapter().get_user_by_phone(number)
        self.users = [user] if user is not None else []
        return number

    def save(self, request, **kwargs) -> str:
        if self.phone is None:
            return super().save(request, **kwargs)
        user = self.users[0] if self.users else None
        state = PasswordResetVerificationProcess.initial_state(user, email=self.phone)
        state["phone"] = self.phone
        process = PasswordResetVerificationProcess(request, state=state, user=user)
        adapter = get_adapter(request)
        if user is not None:
            state["code"] = adapter.generate_password_reset_code()
            adapter.send_verification_code_sms(user=user, phone=self.phone, code=state["code"])
        else:
            adapter.send_unknown_account_sms(self.phone)
        process.persist()
        return self.phone
