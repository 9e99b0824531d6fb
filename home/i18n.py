"""Where the translation catalogues live: the site's, and one per app that has strings."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext


def english_active() -> bool:
    return (translation.get_language() or "").startswith("en")


def in_reader_language(chinese: str, english: str) -> str:
    """What a resident reads of a field kept in both languages (`title` / `title_en`): the English value on
    English pages, else the Chinese one marked "(no English yet)" — visibly, so that staff notice it."""
    if not english_active():
        return chinese
    if english:
        return english
    return gettext("%(text)s (no English yet)") % {"text": chinese} if chinese else ""


def catalogue_files(base: Path | None = None, language: str = "zh_Hans") -> list[Path]:
    """The django.po files of `language`: site/locale (site-wide and home/) and <app>/locale."""
    base = Path(base or settings.BASE_DIR)
    site = base / "site" / "locale" / language / "LC_MESSAGES" / "django.po"
    apps = sorted(path for path in base.glob(f"*/locale/{language}/LC_MESSAGES/django.po") if path != site)
    return [site, *apps]
