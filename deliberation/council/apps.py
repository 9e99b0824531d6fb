from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouncilConfig(AppConfig):
    """Residents' councils (居民议事会): members, sessions and agendas, attendance, votes and results."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "deliberation.council"
    label = "council"
    verbose_name = _("Council")
