"""Forms of the council's follow-up: minutes text, objections, and the staff's answers, actions and progress."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from deliberation.followup.models import FollowUpAction
from deliberation.followup.services import MAX_ANSWER_CHARS, MAX_OBJECTION_CHARS


class MinutesForm(forms.Form):
    """The minutes' free text, before and after the results section (which is generated, never edited)."""

    body = forms.CharField(
        label=_("Minutes (Chinese), before the results"),
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Markdown: “## ” starts a heading, “- ” a list item, **bold**."),
    )
    closing = forms.CharField(
        label=_("Minutes (Chinese), after the results"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    body_en = forms.CharField(label=_("Minutes (English), before the results"), widget=forms.Textarea(attrs={"rows": 12}))
    closing_en = forms.CharField(
        label=_("Minutes (English), after the results"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )


class ObjectionForm(forms.Form):
    text = forms.CharField(label=_("Your objection"), max_length=MAX_OBJECTION_CHARS, widget=forms.Textarea(attrs={"rows": 5}))


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=pgettext_lazy("reply to an objection", "Answer"),
        max_length=MAX_ANSWER_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    answer_en = forms.CharField(
        label=_("Answer (English)"),
        max_length=MAX_ANSWER_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "lang": "en"}),
    )


class ActionForm(forms.Form):
    description = forms.CharField(label=_("Action (Chinese)"), max_length=200)
    description_en = forms.CharField(label=_("Action (English)"), max_length=200, required=False)
    party = forms.ChoiceField(label=_("Responsible party"), choices=FollowUpAction.Party.choices)
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))


class ProgressForm(forms.Form):
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    note = forms.CharField(label=_("Note (Chinese)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note_en = forms.CharField(label=_("Note (English)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
