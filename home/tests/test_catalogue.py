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


def test_catalogue_covers_every_string_in_the_code(tmp_path, monkeypatch):
    """makemessages over a copy of the code finds nothing new to translate.

    It runs on a copy because makemessages writes into every locale/ folder it finds.
    """
    if shutil.which("xgettext") is None:
        skip_or_fail("GNU gettext (xgettext) is not installed: apt-get install gettext")
    base = Path(settings.BASE_DIR)
    for folder in ("home", "events", "points", "deliberation", "site"):
        shutil.copytree(base / folder, tmp_path / folder, ignore=shutil.ignore_patterns("static", "__pycache__", "tests", "*.mo"))
    copied_po = tmp_path / PO_PATH.relative_to(base)
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[str(copied_po.parent.parent.parent)]):
        call_command("makemessages", locale=["zh_Hans"], verbosity=0)
    merged = polib.pofile(str(copied_po))
    assert len(merged) >= len(polib.pofile(str(PO_PATH))) > 50  # makemessages really ran over the copy
    missing = [entry.msgid for entry in merged.untranslated_entries()] + [entry.msgid for entry in merged.fuzzy_entries()]
    assert missing == [], "new strings need Chinese translations: run `make messages` and translate them"


@pytest.mark.parametrize(("language", "expected"), [("zh-hans", "通知公告"), ("en", "Notices")])
def test_ui_is_translated(language, expected):
    from django.utils import translation

    with translation.override(language):
        assert translation.gettext("Notices") == expected
