from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "home"
    verbose_name = _("Home, notices and residents")

    def ready(self) -> None:
        from . import admin_sidebar, parts, signals  # noqa: F401  (personal parts; page cache invalidation)

        admin_sidebar.install()
