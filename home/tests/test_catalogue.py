"""The Chinese catalogue is complete, compiled, and covers every string in the code."""

import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from conftest import skip_or_fail
from home.i18n import catalogue_files

BASE = Path(settings.BASE_DIR)
SITE_PO = BASE / "site" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CATALOGUES = catalogue_files()


def test_the_site_catalogue_and_each_apps_are_found():
    assert CATALOGUES[0] == SITE_PO
    assert all(path.exists() for path in CATALOGUES)
    assert len(polib.pofile(str(SITE_PO)).translated_entries()) > 50


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda path: str(path.relative_to(BASE)))
def test_every_message_is_translated_and_none_is_fuzzy(po_path):
    catalogue = polib.pofile(str(po_path))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda path: str(path.relative_to(BASE)))
def test_compiled_catalogue_matches_the_po_file(po_path):
    catalogue = polib.pofile(str(po_path))
    compiled = polib.mofile(str(po_path.with_suffix(".mo")))
    expected = {(e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in catalogue.translated_entries()}
    actual = {(e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in compiled}
    actual.pop((None, ""), None)  # the header
    assert actual == expected, "run `make messages` (or manage.py compile_catalogues) and commit the .mo"


@pytest.mark.one_database  # xgettext over the code, no database: once in CI is enough
def test_catalogue_covers_every_string_in_the_code(tmp_path, monkeypatch):
    """makemessages over a copy of the code finds nothing new to translate.

    It runs on a copy because makemessages writes into every locale/ folder it finds;
    strings of events/, points/ and deliberation/ go to their own <app>/locale/.
    """
    if shutil.which("xgettext") is None:
        skip_or_fail("GNU gettext (xgettext) is not installed: apt-get install gettext")
    for folder in ("home", "plumbing", "api", "events", "points", "deliberation", "neighbours", "outbox", "demo", "site"):
        shutil.copytree(BASE / folder, tmp_path / folder, ignore=shutil.ignore_patterns("static", "__pycache__", "tests", "*.mo"))
    copied_site_po = tmp_path / SITE_PO.relative_to(BASE)
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[str(copied_site_po.parent.parent.parent)]):
        call_command("makemessages", locale=["zh_Hans"], verbosity=0)
    merged = catalogue_files(tmp_path)
    assert [path.relative_to(tmp_path) for path in merged] == [path.relative_to(BASE) for path in CATALOGUES]
    assert len(polib.pofile(str(copied_site_po))) >= len(polib.pofile(str(SITE_PO)))  # makemessages really ran
    missing = {}
    for path in merged:
        catalogue = polib.pofile(str(path))
        msgids = [entry.msgid for entry in catalogue.untranslated_entries() + catalogue.fuzzy_entries()]
        if msgids:
            missing[str(path.relative_to(tmp_path))] = msgids
    assert missing == {}, "new strings need Chinese translations: run `make messages` and translate them"


@pytest.mark.parametrize(("language", "expected"), [("zh-hans", "通知公告"), ("en", "Notices")])
def test_ui_is_translated(language, expected):
    from django.utils import translation

    with translation.override(language):
        assert translation.gettext("Notices") == expected
