"""Compile the .po catalogues to .mo in pure Python (polib), so no GNU gettext is needed."""

import polib
from django.conf import settings
from django.core.management.base import BaseCommand

from home.i18n import catalogue_files


class Command(BaseCommand):
    help = "Compile site/locale's and every app's django.po to django.mo (no GNU gettext needed)."

    def handle(self, *args, **options):
        for po_path in catalogue_files():
            catalogue = polib.pofile(str(po_path))
            catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
            self.stdout.write(f"{po_path.relative_to(settings.BASE_DIR)}: {catalogue.percent_translated()}% translated")
