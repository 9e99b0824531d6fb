"""Languages in one place: the source language, the label of a thing in the active language, the language a
person reads, and where the translation catalogues live.

Things that carry state (communities, grids, earning rules, rewards, council texts) are one row each with
their labels in both languages: `name` (Chinese, the source language) and `name_en`; only pages are
translated as pages (wagtail-localize).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext


def source_language() -> str:
    """The language content is written in first and that every label has (Chinese, `LANGUAGE_CODE`)."""
    return settings.LANGUAGE_CODE


def english_active() -> bool:
    return (translation.get_language() or "").startswith("en")


def label(obj, field: str = "name", *, mark_missing: bool = False) -> str:
    """`obj.<field>` in the active language: `<field>_en` on English pages when it is filled in, else the
    Chinese label (a community without an English name is shown by its Chinese one). With `mark_missing`,
    the Chinese stand-in says "(no English yet)" (`in_reader_language`): what residents read on the portal's
    pages is marked so that staff notice; unmarked are `__str__` (logs, the admin's choosers) and short texts
    such as text messages."""
    if obj is None:
        return ""
    chinese, english = getattr(obj, field), getattr(obj, f"{field}_en", "")
    if mark_missing:
        return in_reader_language(chinese, english)
    if english_active():
        return english or chinese
    return chinese


def labels(model, ids, field: str = "name", *, mark_missing: bool = False) -> dict[int, str]:
    """Row id → `label(row, field, mark_missing=…)` for the rows of `model` with these ids, in one query."""
    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return {}
    rows = model.objects.filter(pk__in=ids).only("pk", field, f"{field}_en")
    return {row.pk: label(row, field, mark_missing=mark_missing) for row in rows}


def in_reader_language(chinese: str, english: str) -> str:
    """What a resident reads of a field kept in both languages (`title` / `title_en`): the English value on
    English pages, else the Chinese one marked "(no English yet)" — visibly, so that staff notice it."""
    if not english_active():
        return chinese
    if english:
        return english
    return gettext("%(text)s (no English yet)") % {"text": chinese} if chinese else ""


def language_of(user, fallback: str = "") -> str:
    """The language `user` reads (their profile's choice), else `fallback`, else the source language."""
    profile = getattr(user, "profile", None) if user is not None else None
    return (profile.preferred_language if profile is not None else "") or fallback or source_language()


def catalogue_files(base: Path | None = None, language: str = "zh_Hans") -> list[Path]:
    """The django.po files of `language`: site/locale (site-wide and home/) and <app>/locale."""
    base = Path(base or settings.BASE_DIR)
    site = base / "site" / "locale" / language / "LC_MESSAGES" / "django.po"
    apps = sorted(path for path in base.glob(f"*/locale/{language}/LC_MESSAGES/django.po") if path != site)
    return [site, *apps]
