"""The Chinese catalogue is complete, compiled, and covers every string in the code."""

import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from conftest import skip_or_fail

PO_PATH = Path(settings.BASE_DIR) / "site" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_message_is_translated_and_none_is_fuzzy():
    catalogue = polib.pofile(str(PO_PATH))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []
    assert len(catalogue.translated_entries()) > 50


def test_compiled_catalogue_matches_the_po_file():
    catalogue = polib.pofile(str(PO_PATH))
    compiled = polib.mofile(str(PO_PATH.with_suffix(".mo")))
    expected = {(e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in catalogue.translated_entries()}
    actual = {(e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in compiled}
    actual.pop((None, ""), None)  # the header
    assert actual == expected, "run `make messages` (or manage.py compile_catalogues) and commit the .mo"


def test_catalogue_covers_every_string_in_the_code(tmp_path):
    """makemessages into a copy of the catalogue finds nothing new to translate."""
    if shutil.which("xgettext") is None:
        skip_or_fail("GNU gettext (xgettext) is not installed: apt-get install gettext")
    locale_dir = tmp_path / "locale"
    (locale_dir / "zh_Hans" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(PO_PATH, locale_dir / "zh_Hans" / "LC_MESSAGES" / "django.po")
    with override_settings(LOCALE_PATHS=[str(locale_dir)]):
        call_command("makemessages", locale=["zh_Hans"], ignore_patterns=["var/*", "bench/*", "tests/*"], verbosity=0)
    merged = polib.pofile(str(locale_dir / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [entry.msgid for entry in merged.untranslated_entries()] + [entry.msgid for entry in merged.fuzzy_entries()]
    assert missing == [], "new strings need Chinese translations: run `make messages` and translate them"


@pytest.mark.parametrize(("language", "expected"), [("zh-hans", "通知公告"), ("en", "Notices")])
def test_ui_is_translated(language, expected):
    from django.utils import translation

    with translation.override(language):
        assert translation.gettext("Notices") == expected
