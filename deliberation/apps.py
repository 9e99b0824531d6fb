"""`deliberation` holds the three apps that take a resident's concern from a letter to a council's decision and
its follow-up — `deliberation.mailbox`, `deliberation.council` and `deliberation.followup` — and, as an app of its
own, only what they share: the history of their tables (migrations 0001–0012, from when they were one app; 0013
hands each model over to its app, the tables stay) and their message catalogue (`locale/`)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "deliberation"
    verbose_name = _("Mailbox and council")
