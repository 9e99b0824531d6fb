"""Demo pages in two languages: StreamField values from the demo texts, and the Chinese → English
strings wagtail-localize asks for, so that the English pages are translations of the Chinese ones."""

from __future__ import annotations

import dataclasses

from django.conf import settings
from django.core.management.base import CommandError
from wagtail.models import Locale
from wagtail.rich_text import RichText
from wagtail_localize.models import Translation
from wagtail_localize.strings import StringValue, extract_strings

from home import factories

from .content import Text


def locale(language: str) -> Locale:
    return Locale.objects.get(language_code=language)


def is_translated(page) -> bool:
    return Translation.objects.filter(
        source__object_id=page.translation_key, source__locale_id=page.locale_id, target_locale=locale("en")
    ).exists()


def ensure_translated(page, strings: dict[str, str]):
    if is_translated(page):
        return None
    try:
        return factories.translate(page, strings=strings, language="en")
    except ValueError as error:
        raise CommandError(f"{page.title}: {error}") from error


def stream(text: Text) -> list:
    blocks = []
    for kind, value in text.body:
        if kind == "heading":
            blocks.append(("heading", {"text": value}))
        elif kind == "paragraph":
            blocks.append(("paragraph", RichText(value)))
        elif kind == "table":
            blocks.append(("translatable_table", value.as_block_value()))
        else:
            raise CommandError(f"Unknown block {kind!r} in {text.title}")
    return blocks


def plain(text: str) -> str:
    """A plain-text field as wagtail-localize stores it (HTML-escaped)."""
    return StringValue.from_plaintext(text).data


def rich_pairs(zh_html: str, en_html: str) -> dict[str, str]:
    """Rich text: wagtail-localize makes one string of each paragraph and list item."""
    _template, zh_strings = extract_strings(zh_html)
    _template, en_strings = extract_strings(en_html)
    if len(zh_strings) != len(en_strings):
        raise CommandError(f"The English text has {len(en_strings)} paragraphs, the Chinese {len(zh_strings)}: {zh_html[:60]}")
    return {zh.data: en.data for (zh, _attrs), (en, _attrs) in zip(zh_strings, en_strings, strict=True)}


def text_pairs(zh: Text, en: Text, *, slug: str) -> dict[str, str]:
    strings = {plain(zh.title): plain(en.title), slug: slug}
    if zh.summary:
        strings[plain(zh.summary)] = plain(en.summary)
    if [kind for kind, _value in zh.body] != [kind for kind, _value in en.body]:
        raise CommandError(f"The English and Chinese bodies of {slug} differ in shape")
    for (kind, zh_value), (_kind, en_value) in zip(zh.body, en.body, strict=True):
        if kind == "heading":
            strings[plain(zh_value)] = plain(en_value)
        elif kind == "paragraph":
            strings.update(rich_pairs(zh_value, en_value))
        elif kind == "table":  # written once, bilingually: the English cells of the Chinese table
            for zh_row, en_row in zip(zh_value.cells(settings.LANGUAGE_CODE), zh_value.cells("en"), strict=True):
                strings.update((plain(zh_cell), plain(en_cell)) for zh_cell, en_cell in zip(zh_row, en_row, strict=True))
    return strings


def fill(text: Text, values: dict[str, str]) -> Text:
    def sub(value: str) -> str:
        for key, replacement in values.items():
            value = value.replace(key, replacement)
        return value

    body = tuple((kind, sub(value) if isinstance(value, str) else value) for kind, value in text.body)
    return dataclasses.replace(text, title=sub(text.title), summary=sub(text.summary), body=body)
