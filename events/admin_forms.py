"""Forms staff fill in on the admin's session pages: they bind input, the services check the rules."""

from __future__ import annotations

import datetime
import hashlib

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from plumbing.parsing import MAX_PK

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"


class SessionFilterForm(forms.Form):
    """The sessions list's filters (all optional)."""

    activity = forms.ChoiceField(label=_("Activity"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)
    past = forms.BooleanField(label=_("Past sessions"), required=False)

    def __init__(self, *args, activities: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["activity"].choices = [("", _("All activities")), *activities]


class SeriesForm(forms.Form):
    """A weekly rule for a series of sessions."""

    first_day = forms.DateField(label=_("First day"), widget=DateInput)
    last_day = forms.DateField(label=_("Last day"), widget=DateInput)
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days of the week"), choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    start = forms.TimeField(label=_("Starts at"), widget=TimeInput)
    end = forms.TimeField(label=_("Ends at"), widget=TimeInput)
    capacity = forms.IntegerField(label=_("Seats"), validators=[MinValueValidator(1), MaxValueValidator(10000)])
    venue = forms.CharField(label=_("Venue"), max_length=200, required=False, help_text=_("Empty: the activity's venue."))
    venue_en = forms.CharField(
        label=_("Venue (English)"), max_length=200, required=False, help_text=_("What English pages show for this venue.")
    )
    skip_holidays = forms.BooleanField(label=_("Skip public holidays"), required=False, initial=True)
    # The dates the staff member saw, so that a changed rule is previewed again before saving.
    previewed = forms.CharField(required=False, widget=forms.HiddenInput)

    def rule(self) -> dict:
        data = self.cleaned_data
        return {
            "first_day": data["first_day"],
            "last_day": data["last_day"],
            "weekdays": set(data["weekdays"]),
            "start": data["start"],
            "end": data["end"],
            "skip_holidays": data["skip_holidays"],
        }


def fingerprint(starts: list[datetime.datetime]) -> str:
    """A short digest of the dates a preview showed."""
    return hashlib.sha256("|".join(each.isoformat() for each in starts).encode()).hexdigest()[:16]


class ResidentSearchForm(forms.Form):
    q = forms.CharField(label=_("E-mail, mobile or name"), min_length=2, max_length=100)


class BookResidentForm(forms.Form):
    resident = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_PK)
    member = forms.IntegerField(required=False, min_value=1, max_value=MAX_PK)  # a household member's id; empty: the resident
    age_override = forms.BooleanField(label=_("Override the age band"), required=False)


class WalkInForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    phone = forms.CharField(label=_("Phone"), max_length=20)
    birth_year = forms.IntegerField(label=_("Birth year"), required=False, min_value=1900, max_value=2100)


class CapacityForm(forms.Form):
    capacity = forms.IntegerField(label=_("Seats"), min_value=1, max_value=10000)


class DrawForm(forms.Form):
    """The draw cannot be undone: staff tick a box that says so (the form on the roster)."""

    confirm = forms.BooleanField(
        error_messages={"required": _("Please tick the box to confirm the draw: it runs once and cannot be undone.")}
    )


class CancelSessionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=300, help_text=_("Sent to every participant."), widget=forms.Textarea(attrs={"rows": 3})
    )


class EmailParticipantsForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=150)
    message = forms.CharField(label=_("Message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=_("Ticket code"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
