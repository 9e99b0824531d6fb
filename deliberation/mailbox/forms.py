"""Forms of the mailbox: residents write letters; the choices show places in the reader's language."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from deliberation.mailbox.models import Category, Letter, Topic
from home.forms import grid_choices, marked_label
from home.models import Community, Grid
from plumbing.parsing import parse_pk


class PlaceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return marked_label(obj)


class LetterForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=120)
    body = forms.CharField(label=_("Your letter"), widget=forms.Textarea(attrs={"rows": 8}), max_length=5000)
    # No category chosen in advance: a preselected "parking" was sent unchanged by residents writing about other things.
    category = forms.ChoiceField(label=_("Category"), choices=[("", _("Please choose"))] + Category.choices)
    community = PlaceChoiceField(label=_("Community"), queryset=Community.objects.none())
    grid = PlaceChoiceField(label=_("Grid"), queryset=Grid.objects.none(), required=False)
    place = forms.CharField(
        label=_("Place"), max_length=120, required=False, help_text=_("Where is it? e.g. the east gate car park.")
    )
    privacy = forms.ChoiceField(
        label=_("Privacy"), choices=Letter.Privacy.choices, initial=Letter.Privacy.STAFF_ONLY, widget=forms.RadioSelect
    )
    photo1 = forms.FileField(
        label=_("Photo 1"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif"}),
    )
    photo2 = forms.FileField(
        label=_("Photo 2"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif"}),
    )
    photo3 = forms.FileField(
        label=_("Photo 3"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif"}),
    )
    contact_name = forms.CharField(label=_("Your name (optional)"), max_length=60, required=False)
    contact = forms.CharField(label=_("E-mail or phone (optional)"), max_length=254, required=False)

    def __init__(self, *args, anonymous: bool, **kwargs):
        super().__init__(*args, **kwargs)
        communities = Community.objects.all()
        grids = Grid.objects.select_related("community")
        self.fields["community"].queryset = communities
        self.fields["grid"].queryset = grids
        # Grids are numbered within their community: only the chosen community's are offered, else all
        # of them grouped under their community's name (no JavaScript needed).
        chosen = self.data.get("community") if self.is_bound else self.initial.get("community")
        self.fields["grid"].choices = grid_choices(
            list(grids),
            community_name=lambda grid: marked_label(grid.community),
            grid_name=marked_label,
            community_id=parse_pk(str(chosen or "")),
        )
        if not anonymous:
            del self.fields["contact_name"]
            del self.fields["contact"]
        else:
            self.fields["contact_name"].widget.attrs.update({"autocomplete": "name"})
            self.fields["contact"].widget.attrs.update({"autocomplete": "email"})

    def photo_uploads(self):
        return [self.cleaned_data[name] for name in ("photo1", "photo2", "photo3") if self.cleaned_data.get(name)]


class TopicFilterForm(forms.Form):
    community = PlaceChoiceField(label=_("Community"), queryset=Community.objects.none(), required=False, empty_label=_("All"))
    category = forms.ChoiceField(label=_("Category"), choices=[("", _("All"))] + Category.choices, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All"))] + Topic.Status.choices, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.all()


class SatisfactionForm(forms.Form):
    satisfied = forms.TypedChoiceField(
        label=_("Are you satisfied with how your letter was handled?"),
        choices=[("yes", _("Yes, satisfied")), ("no", _("No, not satisfied"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
