"""Forms for residents: sign-up consent, profile."""

import re

from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Community, Grid, ResidentProfile, mobile_validator


def _consent_label():
    return format_html(
        '{} <a href="{}">{}</a>',
        _("I have read and agree to the"),
        reverse("home:privacy"),
        _("privacy notice"),
    )


class SignupForm(forms.Form):
    """Extra fields of allauth's sign-up: consent to the privacy notice (PIPL)."""

    privacy_consent = forms.BooleanField(required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["privacy_consent"].label = _consent_label()
        self.fields["privacy_consent"].error_messages["required"] = _("You must agree to the privacy notice to register.")

    def signup(self, request, user) -> None:
        services.register_resident(
            user=user, consent_given=self.cleaned_data["privacy_consent"], language=get_language() or settings.LANGUAGE_CODE
        )


class ProfileForm(forms.ModelForm):
    # Wider than the stored 11 digits: "+86 138 1234 5678" is cleaned to them (clean_mobile).
    mobile = forms.CharField(
        label=capfirst(ResidentProfile._meta.get_field("mobile").verbose_name),
        max_length=20,
        required=False,
        help_text=_("Optional. Staff may call you about your bookings and letters."),
    )

    class Meta:
        model = ResidentProfile
        fields = [
            "display_name",
            "mobile",
            "community",
            "grid",
            "building_unit",
            "birth_year",
            "preferred_language",
            "large_text",
        ]
        help_texts = {
            "display_name": _("Shown instead of your e-mail, e.g. on honour rolls you opt into."),
            "birth_year": _("Optional. Used only to check age-banded classes."),
            "preferred_language": _(
                "The language of the e-mails and messages we send you, and of the portal after you log in. "
                "The switch at the top of each page changes only this device."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        source = {"locale__language_code": settings.LANGUAGE_CODE}
        self.fields["community"].queryset = Community.objects.filter(**source)
        self.fields["grid"].queryset = Grid.objects.filter(**source).select_related("community")
        self.fields["community"].label_from_instance = lambda c: c.localized.name
        self.fields["grid"].label_from_instance = lambda g: f"{g.community.localized.name} · {g.localized.name}"
        self.fields["birth_year"].widget.attrs.update({"inputmode": "numeric"})
        self.fields["mobile"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})

    def clean_mobile(self):
        # Accept what people type: spaces, dashes and a +86 / 0086 prefix.
        mobile = re.sub(r"[\s\-()]", "", self.cleaned_data.get("mobile", ""))
        mobile = re.sub(r"^(\+86|0086)", "", mobile)
        if mobile:
            mobile_validator(mobile)
        return mobile

    def clean(self):
        cleaned = super().clean()
        community, grid = cleaned.get("community"), cleaned.get("grid")
        if grid and grid.community_id != getattr(community, "pk", None):
            self.add_error("grid", _("The grid you chose is not in your community."))
        return cleaned


class DeleteAccountForm(forms.Form):
    confirm = forms.CharField(
        label=_("Type DELETE to confirm"),
        help_text=_("This cannot be undone."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_confirm(self):
        value = self.cleaned_data["confirm"].strip()
        if value not in {"DELETE", "删除"}:
            raise forms.ValidationError(_("Type DELETE (or 删除) to confirm."))
        return value
