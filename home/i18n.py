"""Where the translation catalogues live: the site's, and one per app that has strings."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def catalogue_files(base: Path | None = None, language: str = "zh_Hans") -> list[Path]:
    """The django.po files of `language`: site/locale (site-wide and home/) and <app>/locale."""
    base = Path(base or settings.BASE_DIR)
    site = base / "site" / "locale" / language / "LC_MESSAGES" / "django.po"
    apps = sorted(path for path in base.glob(f"*/locale/{language}/LC_MESSAGES/django.po") if path != site)
    return [site, *apps]
