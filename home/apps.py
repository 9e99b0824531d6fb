from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "home"
    verbose_name = _("Home, notices and residents")

    def ready(self) -> None:
        from . import admin_sidebar, parts, signals  # noqa: F401  (the messages as a personal part; page cache invalidation)

        admin_sidebar.install()


# The domain apps built on home, in the order their parts depend on each other.
DOMAIN_APPS = ("events", "points", "deliberation.mailbox", "deliberation.council", "deliberation.followup", "neighbours")


def app_modules(name: str) -> list:
    """Each domain app's module `<app>.<name>` that exists (e.g. privacy), in DOMAIN_APPS order."""
    import importlib
    import importlib.util

    return [
        importlib.import_module(f"{app}.{name}") for app in DOMAIN_APPS if importlib.util.find_spec(f"{app}.{name}") is not None
    ]
