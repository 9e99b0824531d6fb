"""Factories for tests and the demo data (seed_demo uses them too)."""

from __future__ import annotations

import datetime

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from wagtail.models import Locale

from .i18n import source_language
from .models import Community, Grid, HomePage, NoticeIndexPage, NoticePage, ResidentProfile, StandardPage


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"resident{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class VerifiedUserFactory(UserFactory):
    """A resident whose e-mail address is verified (may book, spend, write and vote)."""

    @factory.post_generation
    def verified_email(obj, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.update_or_create(user=obj, email=obj.email, defaults={"verified": True, "primary": True})


class ResidentProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResidentProfile
        django_get_or_create = ("user",)

    user = factory.SubFactory(VerifiedUserFactory)
    display_name = factory.Sequence(lambda n: f"居民{n}")
    privacy_notice_version = "2026-11"
    privacy_consented_at = factory.LazyFunction(lambda: datetime.datetime.now(datetime.UTC))


def zh_locale() -> Locale:
    return Locale.objects.get(language_code=source_language())


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"社区{n}")
    code = factory.Sequence(lambda n: f"community-{n}")


class GridFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grid

    community = factory.SubFactory(CommunityFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda o: f"第{o.number}网格")


def home_page(language: str | None = None) -> HomePage:
    """The home page of `language` (default: the source language's)."""
    return HomePage.objects.get(locale__language_code=language or source_language(), depth=2)


def add_page(parent, page, *, publish: bool = True):
    """Add a Wagtail page under parent (and publish it, as an editor would)."""
    if not publish:
        page.live, page.has_unpublished_changes = False, True  # a draft, as the admin saves one
    parent.add_child(instance=page)
    revision = page.save_revision()
    if publish:
        revision.publish()
        page.refresh_from_db()
    return page


def notice_index(language: str | None = None, *, title: str = "通知公告", slug: str = "notices") -> NoticeIndexPage:
    home = home_page(language)
    existing = NoticeIndexPage.objects.child_of(home).filter(slug=slug).first()
    return existing or add_page(home, NoticeIndexPage(title=title, slug=slug))


def notice(parent: NoticeIndexPage | None = None, *, publish: bool = True, **fields) -> NoticePage:
    """A published notice under `parent` (default: the Chinese street-wide notice list)."""
    parent = parent or notice_index()
    fields.setdefault("title", "垃圾分类督导志愿者招募")
    fields.setdefault("summary", "每周六上午在小区投放点值守。")
    fields.setdefault("body", [("paragraph", "<p>欢迎居民报名参加。</p>")])
    return add_page(parent, NoticePage(**fields), publish=publish)


def standard_page(parent=None, **fields) -> StandardPage:
    parent = parent or home_page()
    fields.setdefault("title", "关于我们")
    return add_page(parent, StandardPage(**fields))


def translate(instance, *, strings: dict[str, str], language: str = "en", publish: bool = True):
    """Translate a page or snippet through wagtail-localize, as a translator would in its editor.

    `strings` maps every source string, as wagtail-localize extracts it (plain text HTML-escaped,
    or the inner HTML of one rich-text paragraph or list item), to its translation. A source
    string without a translation is an error: the translation would otherwise be incomplete.
    Parents must be translated first.
    """
    from wagtail.models import Page
    from wagtail_localize.models import StringSegment, StringTranslation, Translation, TranslationSource

    locale = Locale.objects.get(language_code=language)
    source, _created = TranslationSource.get_or_create_from_instance(instance)
    translation, _created = Translation.objects.get_or_create(source=source, target_locale=locale, defaults={"enabled": True})
    missing = []
    for segment in StringSegment.objects.filter(source=source).select_related("string", "context"):
        text = segment.string.data
        if text not in strings:
            missing.append(text)
            continue
        StringTranslation.objects.update_or_create(
            translation_of=segment.string,
            locale=locale,
            context=segment.context,
            defaults={"data": strings[text], "translation_type": StringTranslation.TRANSLATION_TYPE_MANUAL},
        )
    if missing:
        raise ValueError(f"No {language} translation for: {missing!r}")
    if not isinstance(instance, Page):
        translation.save_target()
        return source.get_translated_instance(locale)
    # wagtail-localize would publish when the transaction commits; a publish deferred past the
    # creation of child pages saves the page's stale child count and hides the children (404).
    translation.save_target(publish=False)
    translated = source.get_translated_instance(locale)
    if publish:
        translated.get_latest_revision().publish()
        translated.refresh_from_db()
    return translated
