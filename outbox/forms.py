"""The resident's choice of channels, one set of checkboxes per topic of messages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .kinds import TOPICS, Topic
from .models import Message


class ChannelPreferenceForm(forms.Form):
    """One field per topic the resident receives, offering only the channels they can be reached on."""

    def __init__(self, *args, usable: list[str], initial_choices: dict[str, list[str]], staff: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.topics: list[Topic] = [topic for topic in TOPICS if staff or not topic.staff]
        choices = [(channel.value, channel.label) for channel in Message.Channel if channel.value in usable]
        for topic in self.topics:
            self.fields[topic.key] = forms.MultipleChoiceField(
                label=topic.label,
                help_text=topic.help,
                choices=choices,
                widget=forms.CheckboxSelectMultiple,
                initial=initial_choices.get(topic.key, []),
                error_messages={
                    "required": _("Choose at least one way to hear about this."),
                    "invalid_choice": _("%(value)s is not a way we can reach you."),
                },
            )

    def rows(self):
        return [(topic, self[topic.key]) for topic in self.topics]
