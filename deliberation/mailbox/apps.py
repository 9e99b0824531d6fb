from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailboxConfig(AppConfig):
    """The resident mailbox (居民信箱): letters on the web, by e-mail and from the 12345 hotline, and the topics
    staff gather them into."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "deliberation.mailbox"
    label = "mailbox"
    verbose_name = _("Mailbox")
