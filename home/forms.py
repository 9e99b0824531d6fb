"""Forms for residents: sign-up consent (the base of allauth's sign-up form), profile."""

from allauth.account.adapter import get_adapter
from allauth.core import context as allauth_context
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from plumbing.parsing import parse_pk

from . import phone as phones
from . import services
from .grids import PENDING_JOIN, find_code
from .i18n import label
from .models import Community, Grid, ResidentProfile
from .scope import for_user


def _consent_label():
    return format_html(
        '{} <a href="{}">{}</a>',
        _("I have read and agree to the"),
        reverse("home:privacy"),
        _("privacy notice"),
    )


def grid_choices(grids, *, community_name, grid_name, community_id=None, empty_label="---------") -> list:
    """A grid <select>'s options without JavaScript: only the chosen community's grids once one is chosen,
    else every community's grids grouped under its name (<optgroup>), never a flat list of look-alikes."""
    if community_id:
        grids = [grid for grid in grids if grid.community_id == community_id]
        return [("", empty_label)] + [(grid.pk, grid_name(grid)) for grid in grids]
    groups: dict = {}
    for grid in grids:
        groups.setdefault(grid.community_id, (community_name(grid), []))[1].append((grid.pk, grid_name(grid)))
    return [("", empty_label)] + [group for group in groups.values()]


def marked_label(place) -> str:
    """A community's or grid's name as residents read it in a form's choices ("(no English yet)" when missing)."""
    return label(place, mark_missing=True)


TAKEN = _("This mobile number already belongs to an account. Log in with it, or reset the password.")


class SignupForm(forms.Form):
    """Extra fields of allauth's sign-up: consent to the privacy notice (PIPL)."""

    privacy_consent = forms.BooleanField(required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["privacy_consent"].label = _consent_label()
        self.fields["privacy_consent"].error_messages["required"] = _("You must agree to the privacy notice to register.")
        # Signing up after scanning a grid's QR code (views.join_grid): the page says which grid the account joins.
        code = self.pending_join_code()
        self.joining_grid = code.grid if code is not None else None

    @staticmethod
    def pending_join_code():
        """The current join code waiting in the session of the request being served, if any."""
        request = allauth_context.request
        session = getattr(request, "session", None)
        token = session.get(PENDING_JOIN, "") if session is not None else ""
        code = find_code(token) if token else None
        return code if code is not None and code.retired_at is None else None

    def clean(self):
        cleaned = super().clean()
        # allauth's base sign-up form adds the "phone" field; a taken number is refused in words (not
        # silently, as allauth's enumeration prevention would): the resident should log in instead.
        phone = cleaned.get("phone")
        if not phone and not cleaned.get("email") and not self.errors:
            self.add_error("phone", _("Enter your mobile number (or an e-mail address)."))
        if phone:
            if get_adapter().get_user_by_phone(phone) is not None:
                self.add_error("phone", TAKEN)
            else:
                try:
                    phones.check_sms_allowed(allauth_context.request, phone)
                except forms.ValidationError as error:
                    self.add_error("phone", error)
        return cleaned

    def signup(self, request, user) -> None:
        code = self.pending_join_code()
        services.register_resident(
            user=user,
            consent_given=self.cleaned_data["privacy_consent"],
            language=get_language() or settings.LANGUAGE_CODE,
            join_code=code,
        )
        if code is not None:
            request.session.pop(PENDING_JOIN, None)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = ResidentProfile
        fields = [
            "display_name",
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
        self.fields["community"].queryset = Community.objects.all()
        self.fields["community"].label_from_instance = marked_label
        self.fields["grid"].queryset = Grid.objects.select_related("community")
        # The grid list shows the chosen community's grids (the one just picked, else the profile's); changing
        # the community and saving then asks for a grid of the new one (clean()), with the list narrowed to it.
        chosen = self.data.get("community") if self.is_bound else self.instance.community_id
        self.fields["grid"].choices = grid_choices(
            list(self.fields["grid"].queryset),
            community_name=lambda grid: marked_label(grid.community),
            grid_name=marked_label,
            community_id=parse_pk(str(chosen or "")),
        )
        # What the phone's keyboard and autofill offer (WCAG 1.3.5: the purpose of personal fields).
        self.fields["display_name"].widget.attrs.update({"autocomplete": "nickname"})
        self.fields["building_unit"].widget.attrs.update({"autocomplete": "address-line2"})
        self.fields["birth_year"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "bday-year"})

    def clean(self):
        cleaned = super().clean()
        community, grid = cleaned.get("community"), cleaned.get("grid")
        if grid and grid.community_id != getattr(community, "pk", None):
            self.add_error("grid", _("The grid you chose is not in your community: choose one of its grids from the list."))
        return cleaned


class GridContactForm(WagtailAdminModelForm):
    """The admin's form of a grid contact: the grid is one of the staff member's communities' grids (home.scope)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "grid" in self.fields:
            # A plain list of the staff member's few grids, not Wagtail's snippet chooser (which fails with a 500 on a
            # value that is no id), each named with its community.
            field = self.fields["grid"]
            field.widget = forms.Select()
            field.queryset = for_user(self.for_user).filter(Grid.objects.select_related("community"), "community")
            field.label_from_instance = lambda grid: f"{label(grid.community)} · {label(grid)}"


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
