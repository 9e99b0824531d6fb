"""Template tags: the language switcher."""

from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.urls import reverse, translate_url
from wagtail.models import Locale, Page

register = template.Library()


def _translated_page_url(page: Page, language: str, request) -> str | None:
    """The page's translation, else the nearest translated ancestor (its section's index)."""
    locale = Locale.objects.filter(language_code=language).first()
    if locale is None:
        return None
    for candidate in [page, *reversed(page.get_ancestors().filter(depth__gte=2))]:
        translation = candidate.get_translation_or_none(locale)
        if translation is not None and translation.live:
            return translation.get_url(request=request)
    return f"/{language}/"


@register.inclusion_tag("includes/language_switcher.html", takes_context=True)
def language_switcher(context):
    request = context["request"]
    page = context.get("page")
    current = context.get("LANGUAGE") or settings.LANGUAGE_CODE
    links = []
    for code, name in settings.LANGUAGES:
        if code == current:
            continue
        if isinstance(page, Page) and page.pk:
            url = _translated_page_url(page, code, request)
        else:
            url = translate_url(request.get_full_path(), code)
        links.append({"code": code, "name": name, "url": f"{reverse('set_language', args=[code])}?{urlencode({'next': url})}"})
    return {"links": links}
