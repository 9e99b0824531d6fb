"""Forms residents fill in: booking a session, their household."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from plumbing.parsing import parse_pk

from .models import HouseholdMember


class BookingForm(forms.Form):
    """Who the place is for: the resident ('me') or a household member's id."""

    participant = forms.CharField(max_length=20, initial="me")
    guardian_consent = forms.BooleanField(required=False)
    request_token = forms.UUIDField(required=False)

    def __init__(self, *args, resident, **kwargs):
        super().__init__(*args, **kwargs)
        self.resident = resident

    def clean_participant(self) -> HouseholdMember | None:
        value = self.cleaned_data["participant"]
        if value == "me":
            return None
        pk = parse_pk(value)
        member = HouseholdMember.objects.filter(pk=pk, resident=self.resident).first() if pk else None
        if member is None:
            raise forms.ValidationError(_("Choose yourself or a member of your household."))
        return member


class HouseholdMemberForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    birth_year = forms.IntegerField(
        label=_("Birth year"), min_value=1900, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    relation = forms.ChoiceField(label=_("Relation"), choices=HouseholdMember.Relation.choices)
    guardian_consent = forms.BooleanField(
        label=_("I am this child's parent or guardian and consent to Linli keeping their name and birth year."),
        required=False,
        help_text=_("Required for a child under 14 (Personal Information Protection Law)."),
    )

    def clean_birth_year(self) -> int:
        year = self.cleaned_data["birth_year"]
        if year > timezone.localdate().year:
            raise forms.ValidationError(_("Please give a birth year between 1900 and this year."))
        return year
