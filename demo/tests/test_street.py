"""`manage.py seed_demo`: idempotent, complete in both languages, translated through wagtail-localize."""

import io
import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from wagtail.models import Locale, Page, Revision
from wagtail_localize.models import StringTranslation, Translation, TranslationSource

from demo import content as demo_content
from demo.street import DEMO_PASSWORD
from home.models import Community, Grid, HomePage, NoticeIndexPage, NoticePage, PortalSettings, ResidentProfile, StandardPage

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict:
    counted = {
        "users": get_user_model().objects.count(),
        "profiles": ResidentProfile.objects.count(),
        "verified addresses": EmailAddress.objects.filter(verified=True).count(),
        "revisions": Revision.objects.count(),
        "string translations": StringTranslation.objects.count(),
        "translations": Translation.objects.count(),
        "settings": PortalSettings.objects.count(),
        "communities": Community.objects.count(),
        "grids": Grid.objects.count(),
    }
    for language in ("zh-hans", "en"):
        counted[f"pages {language}"] = Page.objects.filter(locale__language_code=language).count()
        counted[f"notices {language}"] = NoticePage.objects.filter(locale__language_code=language).count()
    return counted


@pytest.fixture
def en(site_pages):
    return Locale.objects.get(language_code="en")


def status(translation_record) -> str:
    with translation.override("en"):
        return str(translation_record.get_status_display())


def english_of(page, en):
    return page.get_translation(en).specific


def test_running_twice_creates_nothing_new(demo_street):
    first_output = demo_street.output
    assert demo_street.mails == []  # the residents are invented: no mail to them
    first = counts()
    second_output = seed()

    assert counts() == first
    assert first["notices zh-hans"] == first["notices en"] == len(demo_content.NOTICES) >= 12
    assert first["communities"] == 2 and first["grids"] == 7  # one row each, labelled in both languages
    assert get_user_model().objects.filter(username__startswith="demo-").count() == 24
    assert "15 zh-hans / 15 en" in first_output and second_output == first_output


def test_every_chinese_notice_has_a_live_english_translation_made_by_wagtail_localize(demo_street, en):
    by_slug = {demo.slug: demo for demo in demo_content.NOTICES}

    notices = NoticePage.objects.filter(locale__language_code="zh-hans")
    assert notices.count() == len(by_slug)
    for notice in notices:
        english = english_of(notice, en)
        source = TranslationSource.objects.get(object_id=notice.translation_key, locale=notice.locale)
        translation_record = Translation.objects.get(source=source, target_locale=en)
        assert english.live
        assert english.title == by_slug[notice.slug].en.title
        assert english.summary == by_slug[notice.slug].en.summary
        assert status(translation_record) == "Up to date"
        # Everything is English, the tables' cells too (translated cell by cell).
        for block in english.body:
            assert not CJK.search(str(block.render())), (notice.slug, block.block_type)
        for block in notice.body:
            if block.block_type == "translatable_table":
                cells = [*block.value["header"], *(cell for row in block.value["rows"] for cell in row["cells"])]
                assert not any(re.search(r"[A-Za-z]{3}", cell) for cell in cells), notice.slug  # Chinese cells only
        assert english.get_parent().specific.__class__ is NoticeIndexPage
        assert english.get_parent().locale == en


def test_editing_a_chinese_notice_leaves_its_english_translation_out_of_date_after_a_sync(demo_street, client, en):
    notice = NoticePage.objects.get(locale__language_code="zh-hans", slug="resident-mailbox")
    english_summary = english_of(notice, en).summary
    source = TranslationSource.objects.get(object_id=notice.translation_key, locale=notice.locale)
    translation_record = Translation.objects.get(source=source, target_locale=en)
    total, translated = translation_record.get_progress()
    assert total == translated and status(translation_record) == "Up to date"

    notice.summary = "居民信箱全天开放，工作人员两个工作日内登记。"
    notice.save_revision().publish()
    # wagtail-localize notices the change when an editor syncs the source ("Sync translated pages").
    client.force_login(get_user_model().objects.create_superuser("editor", "editor@linli.localhost", "not-used-here-123"))
    response = client.post(reverse("wagtail_localize:update_translations", args=[source.pk]), {})

    assert response.status_code == 302
    translation_record.refresh_from_db()
    assert status(translation_record) == "Waiting for translations"
    assert translation_record.get_progress() == (total, total - 1)
    # Until a translator translates the new summary, the English page keeps the old one.
    assert english_of(notice, en).summary == english_summary


def test_privacy_about_and_contact_pages_exist_in_both_languages_in_the_menus(demo_street, client, settings):
    for language in ("zh-hans", "en"):
        pages = StandardPage.objects.live().filter(locale__language_code=language)
        assert set(pages.filter(show_in_menus=True).values_list("slug", flat=True)) >= {"about", "privacy", "contact"}
        with translation.override(language):
            privacy_url = reverse("home:privacy")
        response = client.get(privacy_url, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == pages.get(slug="privacy").url
        html = response.content.decode()
        assert settings.LINLI_PRIVACY_NOTICE_VERSION in html
    assert "Download my data (JSON)" in html and "Delete my account" in html


def test_home_pages_and_notice_lists_show_the_seeded_notices_in_each_language(demo_street, client):
    today = timezone.localdate()
    current = [d for d in demo_content.NOTICES if d.expires_in_days is None or d.expires_in_days > 0]
    pinned = [d for d in current if d.pinned]
    expired = [d for d in demo_content.NOTICES if d.expires_in_days is not None and d.expires_in_days < 0]
    assert pinned and expired and any(d.expires_in_days and d.expires_in_days > 0 for d in current)

    for language in ("zh-hans", "en"):
        home = client.get(f"/{language}/").content.decode()
        for demo in pinned:
            assert escape(getattr(demo, language[:2]).title) in home
        for demo in expired:
            assert escape(getattr(demo, language[:2]).title) not in home
        # The street's list shows the communities' notices too (filterable by place); ?where=street only its own.
        everything = client.get(f"/{language}/notices/").content.decode()
        street = client.get(f"/{language}/notices/?where=street").content.decode()
        for demo in demo_content.NOTICES:
            assert escape(getattr(demo, language[:2]).title) in everything
            assert (escape(getattr(demo, language[:2]).title) in street) == (not demo.community)
        liuhe = client.get(f"/{language}/liuhe/notices/").content.decode()
        for demo in demo_content.NOTICES:
            assert (escape(getattr(demo, language[:2]).title) in liuhe) == (demo.community == "liuhe")
    assert ">Expired<" in client.get("/en/liuhe/notices/").content.decode()
    for notice in NoticePage.objects.all():
        assert notice.publication_date < today
        assert timezone.localtime(notice.first_published_at).date() == notice.publication_date


def test_notices_mix_categories_communities_pinning_expiry_and_tables(demo_street):
    notices = NoticePage.objects.filter(locale__language_code="zh-hans")
    today = timezone.localdate()

    assert notices.values("category").distinct().count() == len(NoticePage.Category.values)
    assert notices.filter(pinned=True).count() >= 2
    assert notices.filter(expires_on__lt=today).count() >= 1
    assert notices.filter(expires_on__gt=today).count() >= 1
    assert notices.filter(community__isnull=True).count() >= 4
    assert notices.values("publication_date").distinct().count() >= 10
    for notice in notices.filter(community__isnull=False):
        assert notice.get_parent().get_parent().specific.community == notice.community
    assert sum(any(b.block_type == "translatable_table" for b in n.body) for n in notices) >= 5
    assert all(any(b.block_type == "heading" for b in n.body) for n in notices)


@pytest.mark.parametrize(
    ("cell", "chinese", "english"),
    [
        ("2个工作日 2 working days", "2个工作日", "2 working days"),
        ("周二、周四 Tue, Thu 9:00", "周二、周四", "Tue, Thu 9:00"),
        (
            "“年度好邻居”推荐资格 Nomination for Good Neighbour of the Year",
            "“年度好邻居”推荐资格",
            "Nomination for Good Neighbour of the Year",
        ),
        ("7:00–9:00", "7:00–9:00", "7:00–9:00"),
    ],
)
def test_a_bilingual_demo_cell_splits_into_its_chinese_and_english_parts(cell, chinese, english):
    assert demo_content.split_cell(cell) == (chinese, english)


def test_every_demo_table_cell_has_both_languages():
    tables = [value for demo in demo_content.NOTICES for kind, value in demo.zh.body if kind == "table"]
    assert len(tables) >= 5
    for table in tables:
        for zh_row, en_row in zip(table.cells("zh-hans"), table.cells("en"), strict=True):
            for zh_cell, en_cell in zip(zh_row, en_row, strict=True):
                assert not CJK.search(en_cell) and (CJK.search(zh_cell) or zh_cell == en_cell), (zh_cell, en_cell)


def test_residents_and_staff_and_their_admin_access(demo_street, client, settings):
    User = get_user_model()
    profiles = ResidentProfile.objects.filter(user__username__startswith="demo-", user__groups__isnull=True)

    assert profiles.count() == 20
    assert EmailAddress.objects.filter(user__in=profiles.values("user"), verified=True).count() == 20
    assert all(p.display_name and p.community and p.grid and p.grid.community_id == p.community_id for p in profiles)
    years = [p.birth_year for p in profiles]
    assert min(years) <= 1950 and max(years) >= 2000
    assert 0 < profiles.exclude(mobile="").count() < 20
    assert profiles.filter(preferred_language="en").exists()
    assert not any(u.has_usable_password() for u in User.objects.filter(username__startswith="demo-"))  # DEBUG is off

    for community in Community.objects.all():
        staff = User.objects.get(groups=community.editors)
        head = User.objects.get(groups=community.heads)
        assert not staff.is_staff and not head.is_staff
        client.force_login(staff)
        assert client.get("/admin/").status_code == 200
        assert client.get(reverse("wagtailadmin_explore", args=[community.root_page_id])).status_code == 200
    client.force_login(profiles.first().user)
    assert client.get("/admin/").status_code == 302


def test_demo_password_only_with_debug_and_never_printed(demo_street, settings):
    assert "no usable password" in demo_street.output and DEMO_PASSWORD not in demo_street.output
    # Out of the way (the street keeps its history): the seed below creates demo-liuhe.staff again, with DEBUG on.
    staff = get_user_model().objects.get(username="demo-liuhe.staff")
    EmailAddress.objects.filter(user=staff).update(email="moved@example.org")
    get_user_model().objects.filter(pk=staff.pk).update(username="moved-away", email="moved@example.org")
    ResidentProfile.objects.filter(user=staff).update(mobile="")
    settings.DEBUG = True
    output = seed()

    assert get_user_model().objects.get(username="demo-liuhe.staff").check_password(DEMO_PASSWORD)
    assert DEMO_PASSWORD not in output


def test_communities_grids_and_footer_are_bilingual(demo_street, client, en):
    for community in Community.objects.all():  # one row per place, labelled in both languages
        assert CJK.search(community.name) and community.name_en.endswith("Community")
        assert community.description and not CJK.search(community.description_en)
        for grid in community.grids.all():
            assert CJK.search(grid.name) and grid.name_en.startswith("Grid ")
    assert HomePage.objects.get(locale=en).intro == demo_content.SITE.home_intro_en
    portal = PortalSettings.load()
    assert portal.hotline and portal.email and portal.address and portal.footer_en
    assert portal.address_en in client.get("/en/").content.decode()
    assert portal.address in client.get("/zh-hans/").content.decode()


def test_each_grid_has_its_worker_building_leaders_and_a_qr_code(demo_street, client):
    from home.models import GridContact, GridJoinCode

    for grid in Grid.objects.all():
        roles = list(GridContact.objects.filter(grid=grid).values_list("role", flat=True))
        assert roles.count("worker") == 1 and roles.count("building_leader") >= 2
        assert GridJoinCode.objects.filter(grid=grid, retired_at__isnull=True).count() == 1
    assert all(re.fullmatch(r"138-0000-\d{4}", phone) for phone in GridContact.objects.values_list("phone", flat=True))
    resident = ResidentProfile.objects.get(user__username="demo-wang.xiuying")
    client.force_login(resident.user)
    page = client.get(f"/en/grids/{resident.grid_id}/").content.decode()
    assert "蒋文静" in page and "Building 2" in page and "Weekdays 8:30–17:00" in page
