"""Forms residents and staff fill in: a post, a response, done, thanks, a report, skills, moderation."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import MAX_HELPERS, Availability, Category, Kind, Report, Urgency

PHOTO_WIDGET = forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif"})


class PostForm(forms.Form):
    kind = forms.ChoiceField(label=_("What kind of post"), choices=Kind.choices, initial=Kind.REQUEST)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices, initial=Category.ERRANDS)
    title = forms.CharField(label=_("Title"), max_length=80, help_text=_("E.g. Help carrying groceries upstairs."))
    text = forms.CharField(label=_("Details"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5}))
    when_text = forms.CharField(
        label=_("When"), max_length=100, required=False, help_text=_("E.g. Saturday morning, or any weekday evening.")
    )
    when_from = forms.DateField(label=_("From (date)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    when_until = forms.DateField(label=_("Until (date)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(
        label=pgettext_lazy("neighbour help", "Where"),
        max_length=100,
        required=False,
        help_text=_("A place in the grid, e.g. the east gate or building 3's door. Never your home address."),
    )
    urgency = forms.ChoiceField(label=_("How urgent"), choices=Urgency.choices, initial=Urgency.NORMAL)
    helpers_wanted = forms.IntegerField(
        label=_("Neighbours wanted (or items)"),
        min_value=1,
        max_value=MAX_HELPERS,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    photo1 = forms.FileField(label=_("Photo 1"), required=False, widget=PHOTO_WIDGET)
    photo2 = forms.FileField(label=_("Photo 2"), required=False, widget=PHOTO_WIDGET)
    photo3 = forms.FileField(label=_("Photo 3"), required=False, widget=PHOTO_WIDGET)

    def photo_uploads(self) -> list:
        return [self.cleaned_data[name] for name in ("photo1", "photo2", "photo3") if self.cleaned_data.get(name)]

    def post_fields(self) -> dict:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in (
                "kind",
                "category",
                "title",
                "text",
                "when_text",
                "when_from",
                "when_until",
                "place",
                "urgency",
                "helpers_wanted",
            )
        }


class OnBehalfForm(PostForm):
    """Staff posting for a resident without a phone: who, and that they agreed."""

    resident = forms.CharField(label=_("Resident (mobile number, e-mail or username)"), max_length=150)
    consent = forms.BooleanField(
        label=_("The resident agreed that we post this for them and share their contact with the neighbour they accept."),
        required=False,
    )
    field_order = ["resident", "consent"]


class ResponseForm(forms.Form):
    message = forms.CharField(
        label=_("Message to the poster (optional)"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DoneForm(forms.Form):
    hours = forms.CharField(
        label=_("Hours it took (optional)"), max_length=10, required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    amount = forms.CharField(
        label=_("Amount raised or given, in yuan (optional)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("Recorded only: no money is paid through Linli."),
    )
    amount_note = forms.CharField(label=_("What was given (optional)"), max_length=200, required=False)


class ThanksForm(forms.Form):
    text = forms.CharField(label=_("Your thanks"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class ReportForm(forms.Form):
    reason = forms.ChoiceField(label=pgettext_lazy("neighbour help", "Reason"), choices=Report.Reason.choices)
    text = forms.CharField(
        label=_("What happened (optional)"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    about = forms.ChoiceField(
        label=_("About"), choices=[("post", _("This post")), ("person", _("The person who posted it"))], initial="post"
    )


class SkillsForm(forms.Form):
    categories = forms.MultipleChoiceField(
        label=_("I can help with"), choices=Category.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    availability = forms.MultipleChoiceField(
        label=_("I am usually free"), choices=Availability.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=_("Anything else"), max_length=200, required=False)
    weekly_digest = forms.BooleanField(label=_("Send me a weekly digest of matching requests"), required=False)


class BoardFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=pgettext_lazy("neighbour help", "Kind"), choices=[("", _("All kinds")), *Kind.choices], required=False
    )
    category = forms.ChoiceField(label=_("Category"), choices=[("", _("All categories")), *Category.choices], required=False)


class ModerationForm(forms.Form):
    """Staff: what to do about a report (or a post, or a person)."""

    ACTIONS = [
        ("hide", _("Hide the post")),
        ("warn", _("Warn the resident")),
        ("suspend", _("Suspend their posting")),
        ("dismiss", _("Dismiss the report")),
    ]
    action = forms.ChoiceField(label=pgettext_lazy("neighbour help", "Action"), choices=ACTIONS)
    reason = forms.CharField(label=_("Reason (told to the resident)"), max_length=200, required=False)
    days = forms.IntegerField(label=_("Days (suspension)"), min_value=1, max_value=365, required=False, initial=7)
