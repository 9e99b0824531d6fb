from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    """The council's follow-up (督办): minutes, decisions and their notice period, objections, actions."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "deliberation.followup"
    label = "followup"
    verbose_name = _("Follow-up")

    def ready(self) -> None:
        from . import services  # noqa: F401 - connects its receivers of the council's signals
