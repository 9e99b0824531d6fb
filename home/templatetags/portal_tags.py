"""Template tags: the language switcher, labels in the active language, punctuation and times."""

from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse, translate_url
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from wagtail.models import Page

from home.i18n import label
from plumbing import personal as personal_parts
from plumbing.middleware import links_to_admin, shared_part

register = template.Library()


def _translated_page_url(page: Page, language: str, request) -> str | None:
    """The page's translation, else the nearest translated ancestor (its section's index).

    At most two queries however deep the page is: its ancestors, then all their live translations.
    """
    ancestors = reversed(page.get_ancestors().filter(depth__gte=2)) if page.depth > 2 else []
    candidates = [page, *ancestors]
    translations = {
        translation.translation_key: translation
        for translation in Page.objects.live().filter(
            locale__language_code=language, translation_key__in=[candidate.translation_key for candidate in candidates]
        )
    }
    for candidate in candidates:
        translation = translations.get(candidate.translation_key)
        if translation is not None:
            return translation.get_url(request=request)
    return f"/{language}/"


@register.inclusion_tag("includes/language_switcher.html", takes_context=True)
def language_switcher(context):
    request = context["request"]
    page = context.get("page")
    current = context.get("LANGUAGE") or settings.LANGUAGE_CODE

    def links(translated) -> list[dict]:
        return [
            {"code": code, "name": name, "url": f"{reverse('set_language', args=[code])}?{urlencode({'next': translated(code)})}"}
            for code, name in settings.LANGUAGES
            if code != current
        ]

    if isinstance(page, Page) and page.pk:
        # The same for every visitor of the page: made once per publish generation (pages moved, translated).
        made = shared_part(
            ("language-switcher", page.pk, current, request.get_host()),
            lambda: links(lambda code: _translated_page_url(page, code, request)),
        )
        return {"links": made}
    return {"links": links(lambda code: translate_url(request.get_full_path(), code))}


@register.simple_tag(takes_context=True)
def footer(context) -> SafeString:
    """The footer (the portal's settings, the menu pages): the same for everyone, made once per language, site and
    publish generation (saving the settings or publishing a page starts a new one)."""
    from django.utils.translation import get_language

    request = context.get("request")
    host = request.get_host() if request is not None else ""
    return shared_part(
        ("footer", get_language(), host), lambda: mark_safe(render_to_string("includes/footer.html", request=request))
    )


class SharedNode(template.Node):
    def __init__(self, nodelist, vary):
        self.nodelist = nodelist
        self.vary = vary

    def render(self, context):
        from django.utils.translation import get_language

        request = context.get("request")
        key = ("shared-block", get_language(), request.get_host() if request is not None else "")
        key += tuple(value.resolve(context) for value in self.vary)
        return shared_part(key, lambda: mark_safe(self.nodelist.render(context)))  # noqa: S308  (rendered, escaped)


@register.tag
def shared(parser, token):
    """`{% shared "name" value… %}…{% endshared %}`: a part of a page that is the same for everyone who shares the
    name, the values, the language and the site, rendered once per publish generation (plumbing.middleware.shared_part).
    Whatever inside it depends on the visitor must be one of the values."""
    vary = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endshared",))
    parser.delete_first_token()
    return SharedNode(nodelist, vary)


@register.filter(name="links_to_admin")
def links_to_admin_filter(user) -> bool:
    """`{% if user|links_to_admin %}`: the header's admin link (the permission, kept a minute per person)."""
    return links_to_admin(user)


@register.simple_tag(takes_context=True)
def personal(context, name: str, **arguments) -> SafeString:
    """`{% personal "events.sessions" page=page.pk %}`: a part of a shared page that is rendered for each visitor
    (plumbing/personal.py), by the function an app registered under that name."""
    return personal_parts.render(context["request"], name, arguments)


@register.filter(name="label")
def label_filter(obj, field: str = "name") -> str:
    """`{{ reward|label }}`, `{{ rule|label:"description" }}`: a label in the active language; on English pages
    the Chinese one marked "(no English yet)" when staff left the English empty (`home.i18n.label`)."""
    return label(obj, field, mark_missing=True)


@register.simple_tag(takes_context=True)
def footer_pages(context) -> list[dict[str, str]]:
    """About, Privacy, Contact…: the home page's children shown in menus, in the active language."""
    from django.utils.translation import get_language

    from home.models import StandardPage

    pages = StandardPage.objects.live().in_menu().filter(depth=3, locale__language_code=get_language()).order_by("path")
    return [{"title": page.title, "url": page.get_url(request=context.get("request"))} for page in pages]


# --- Punctuation and times in the reader's language -------------------------------------------------


def _chinese() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("zh")


@register.simple_tag
def colon() -> str:
    """The colon after a label: full-width "：" in Chinese ("参加者：王芳"), ": " in English."""
    return "：" if _chinese() else ": "


@register.simple_tag
def parens(value) -> str:
    """A remark in brackets: full-width "（星期一）" in Chinese, " (Mon)" in English."""
    return format_html("（{}）", value) if _chinese() else format_html(" ({})", value)


@register.simple_tag
def time_range(starts, ends=None, *, weekday: bool = True) -> str:
    """A session's date, weekday and times, e.g. 2026-12-07（星期一）14:30–16:00: the range is one
    unbreakable piece ("14:30–16:00" never breaks after the dash), the date may wrap before it."""
    from django.utils import timezone
    from django.utils.dateformat import format as date_format

    starts = timezone.localtime(starts)
    day = date_format(starts, "Y-m-d")
    if weekday:
        day = format_html("{}{}", day, parens(date_format(starts, "D")))
    times = date_format(starts, "H:i")
    if ends is not None:
        times = f"{times}\u2013{date_format(timezone.localtime(ends), 'H:i')}"
    gap = "" if _chinese() else " "  # Chinese breaks after "）" by itself
    return format_html('<time datetime="{}">{}</time>{}<span class="time-range">{}</span>', starts.isoformat(), day, gap, times)


@register.simple_tag
def masked_contact(value) -> str:
    """A phone number shown as 138****5678, the full number one tap away (<details>, no JavaScript), so that
    it is not on screen for whoever looks over the staff member's shoulder; other contacts are shown as they are."""
    import re

    from django.utils.translation import gettext

    text = str(value or "")
    digits = re.sub(r"[\s\-+]", "", text)
    if not re.fullmatch(r"(86)?1\d{10}|0\d{9,11}|\d{7,8}", digits):
        return text
    masked = digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return format_html(
        '<details class="masked-contact"><summary>{} · {}</summary><a href="tel:{}">{}</a></details>',
        masked,
        gettext("Show the number"),
        digits,
        text,
    )
