from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save

        from . import signals

        post_save.connect(signals.user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="api-user-saved")
        post_delete.connect(signals.user_deleted, sender=settings.AUTH_USER_MODEL, dispatch_uid="api-user-deleted")
        user_logged_out.connect(signals.logged_out, dispatch_uid="api-logged-out")
