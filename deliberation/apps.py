from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "deliberation"
    verbose_name = _("Mailbox and council")

    def ready(self) -> None:
        from .services import followup  # noqa: F401 - connects its receivers of the council's signals
