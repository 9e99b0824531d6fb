"""Forms of the council's pages: members' votes and recusals, the chair's vote window, and the staff's
council, member, session and agenda forms in the admin. They only bind input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from deliberation.council.models import AgendaItem, Choice, Council, CouncilMember, CouncilSession
from deliberation.mailbox.models import Topic


class VoteForm(forms.Form):
    choice = forms.ChoiceField(label=_("Your vote"), choices=Choice.choices, widget=forms.RadioSelect)


class RecusalForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), max_length=200, required=False)


class OpenVotingForm(forms.Form):
    closes_at = forms.DateTimeField(
        label=_("Closes by itself at (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class MemberChoiceForm(forms.Form):
    """The secretary's choice of a member (mark present, record a vote)."""

    member = forms.ModelChoiceField(label=_("Member"), queryset=CouncilMember.objects.none())
    choice = forms.ChoiceField(label=_("Vote"), choices=Choice.choices, required=False)

    def __init__(self, *args, council: Council, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = council.current_members().select_related("user")


# ---------------------------------------------------------------------------
# Admin


class CouncilForm(forms.ModelForm):
    class Meta:
        model = Council
        fields = ["name", "name_en", "quorum", "notice_days"]


class NewMemberForm(forms.Form):
    email = forms.CharField(label=_("Resident's verified mobile number or e-mail address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=CouncilMember.Role.choices, initial=CouncilMember.Role.MEMBER)
    term_start = forms.DateField(label=_("Term from"), widget=forms.DateInput(attrs={"type": "date"}))
    term_end = forms.DateField(label=_("Term to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class MemberForm(forms.ModelForm):
    class Meta:
        model = CouncilMember
        fields = ["role", "term_start", "term_end"]
        widgets = {"term_start": forms.DateInput(attrs={"type": "date"}), "term_end": forms.DateInput(attrs={"type": "date"})}


LOCAL_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class SessionForm(forms.Form):
    title = forms.CharField(label=_("Title (Chinese)"), max_length=120)
    title_en = forms.CharField(label=_("Title (English)"), max_length=120, required=False)
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=LOCAL_DATETIME)
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=LOCAL_DATETIME)
    mode = forms.ChoiceField(label=_("Mode"), choices=CouncilSession.Mode.choices)
    place = forms.CharField(label=_("Place (Chinese)"), max_length=120, required=False)
    place_en = forms.CharField(label=_("Place (English)"), max_length=120, required=False)

    @classmethod
    def for_session(cls, session: CouncilSession, data=None):
        initial = {name: getattr(session, name) for name in cls.base_fields}
        return cls(data, initial=initial)


class ItemForm(forms.Form):
    title = forms.CharField(label=_("Title (Chinese)"), max_length=120)
    title_en = forms.CharField(label=_("Title (English)"), max_length=120, required=False)
    motion = forms.CharField(label=_("Motion (Chinese)"), widget=forms.Textarea(attrs={"rows": 3}))
    motion_en = forms.CharField(label=_("Motion (English)"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    rule = forms.ChoiceField(label=_("Voting rule"), choices=AgendaItem.Rule.choices)
    ballot = forms.ChoiceField(label=_("Ballot"), choices=AgendaItem.Ballot.choices)
    public_notice = forms.BooleanField(
        label=_("Public notice period if passed"),
        required=False,
        initial=True,
        help_text=_("Untick for procedural items such as approving the minutes: if passed, they take effect at once."),
    )
    topic = forms.ModelChoiceField(label=_("Topic (optional)"), queryset=Topic.objects.none(), required=False)

    def __init__(self, *args, council: Council, item: AgendaItem | None = None, **kwargs):
        from deliberation.council.services import agenda_topics

        super().__init__(*args, **kwargs)
        # Only topics free to go on this agenda: not on another session's, not decided.
        self.fields["topic"].queryset = agenda_topics(council.community_id, item=item).order_by("-pk")

    @classmethod
    def for_item(cls, item: AgendaItem, data=None):
        initial = {name: getattr(item, name) for name in cls.base_fields}
        return cls(data, initial=initial, council=item.session.council, item=item)
