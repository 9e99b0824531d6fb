"""Forms of the staff points pages in the Wagtail admin."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EarningRule


def manual_rules():
    """Rules staff may award by hand (named in the admin's language)."""
    return EarningRule.objects.filter(active=True).exclude(awarded_by=EarningRule.AwardedBy.AUTOMATIC)


class FindResidentForm(forms.Form):
    q = forms.CharField(label=_("Name, mobile number or e-mail"), max_length=100)


class AwardForm(forms.Form):
    rule = forms.ModelChoiceField(label=_("Rule"), queryset=EarningRule.objects.none())
    amount = forms.IntegerField(
        label=_("Points"), required=False, min_value=1, help_text=_("Empty: the rule's points (per hour for hourly rules).")
    )
    hours = forms.DecimalField(
        label=_("Hours"), required=False, min_value=Decimal("0.25"), max_value=Decimal("24"), decimal_places=2
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)
    # One token per form shown: submitting the same form twice awards once.
    token = forms.CharField(widget=forms.HiddenInput, initial=lambda: secrets.token_hex(12))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = manual_rules()


class HandOverForm(forms.Form):
    code = forms.CharField(label=_("Pickup code"), max_length=20, help_text=_("Type the code or scan the QR code."))


class BulkUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_("Columns: resident (mobile or e-mail), rule (code), date (YYYY-MM-DD); optional: points, hours, reason."),
    )


class AdjustForm(forms.Form):
    amount = forms.IntegerField(
        label=_("Points"),
        min_value=-1000,
        max_value=1000,
        help_text=_("Positive to add, negative to take away (the balance never goes below zero)."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)
    # One token per form shown: submitting the same form twice adjusts once.
    token = forms.CharField(widget=forms.HiddenInput, initial=lambda: secrets.token_hex(12))

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("An adjustment cannot be zero."))
        return amount


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)
