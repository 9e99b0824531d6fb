from django.core.management.base import BaseCommand

from home import services


class Command(BaseCommand):
    help = "Create the locales, the home page of each language and the default site (idempotent)."

    def handle(self, *args, **options):
        services.ensure_site()
