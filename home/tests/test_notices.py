"""Notices: ordering, expiry, scheduled publishing, and every page type in both languages."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import Locale

from home import factories, services
from home.models import CommunityPage, NoticeIndexPage, NoticePage

pytestmark = pytest.mark.django_db


def test_home_page_lists_pinned_first_and_leaves_out_expired(client, site_pages):
    today = timezone.localdate()
    factories.notice(title="普通通知", publication_date=today)
    factories.notice(title="置顶通知", pinned=True, publication_date=today - datetime.timedelta(days=5))
    factories.notice(title="过期通知", expires_on=today)
    factories.notice(title="明天过期的通知", expires_on=today + datetime.timedelta(days=1))

    html = client.get("/zh-hans/").content.decode()

    assert html.index("置顶通知") < html.index("普通通知")
    assert "明天过期的通知" in html
    assert "过期通知</a>" not in html


def test_expired_notice_is_marked_expired_on_its_page_and_in_the_list(client, site_pages):
    expired = factories.notice(title="停水通知", expires_on=timezone.localdate() - datetime.timedelta(days=1))

    page_html = client.get(expired.url).content.decode()
    list_html = client.get(expired.get_parent().url).content.decode()

    assert "已过期" in page_html
    assert "停水通知" in list_html and "已过期" in list_html


def test_scheduled_notice_goes_live_when_publish_scheduled_runs(client, site_pages):
    parent = factories.notice_index()
    go_live = timezone.now() + datetime.timedelta(hours=1)
    page = factories.notice(parent, title="定时发布的通知", publish=False, go_live_at=go_live)
    page.get_latest_revision().publish()  # scheduling: publishing a revision with go_live_at in the future
    page.refresh_from_db()
    assert not page.live
    assert "定时发布的通知" not in client.get("/zh-hans/").content.decode()

    with pytest.MonkeyPatch.context() as patch:
        later = go_live + datetime.timedelta(minutes=1)
        patch.setattr(timezone, "now", lambda: later)
        call_command("publish_scheduled")

    page.refresh_from_db()
    assert page.live
    assert "定时发布的通知" in client.get("/zh-hans/").content.decode()


def test_category_filter_on_the_notice_list(client, site_pages):
    factories.notice(title="垃圾分类新规", category=NoticePage.Category.GARBAGE)
    factories.notice(title="义诊活动", category=NoticePage.Category.HEALTH)

    html = client.get("/zh-hans/notices/?category=health").content.decode()

    assert "义诊活动" in html and "垃圾分类新规" not in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_page_type_renders_in_both_languages(client, site_pages, language):
    zh = Locale.objects.get(language_code="zh-hans")
    en = Locale.objects.get(language_code="en")
    community = services.create_community(name="六和社区", code="liuhe", name_en="Liuhe Community")
    notice = factories.notice(title="六和社区通知", community=community)
    about = factories.standard_page(title="关于我们", slug="about")
    pages = [site_pages, factories.notice_index(), notice, about, CommunityPage.objects.get(community=community)]
    if language == "en":
        translated = []
        for page in pages:
            copy = page.get_translation_or_none(en)
            if copy is None:
                copy = page.copy_for_translation(en, copy_parents=True)
                copy.save_revision().publish()
            translated.append(copy)
        pages = translated
    for page in pages:
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        assert f'lang="{language}"' in response.content.decode()
        assert page.locale == (en if language == "en" else zh)


def test_translated_community_section_gets_the_same_editors_and_workflow(site_pages):
    from wagtail.models import WorkflowPage

    en = Locale.objects.get(language_code="en")
    community = services.create_community(name="六和社区", code="liuhe", name_en="Liuhe Community")
    staff = factories.UserFactory(username="liuhe-staff")
    staff.groups.add(community.editors)
    english_section = community.root_page.copy_for_translation(en, copy_parents=True)
    english_section.save_revision().publish()
    assert not english_section.permissions_for_user(staff).can_edit()

    services.share_section_with_translations(community=community)

    english_section.refresh_from_db()
    staff = type(staff).objects.get(pk=staff.pk)  # Wagtail caches page permissions on the user object
    assert english_section.permissions_for_user(staff).can_edit()
    assert not english_section.permissions_for_user(staff).can_publish()
    assert WorkflowPage.objects.get(page=english_section).workflow == WorkflowPage.objects.get(page=community.root_page).workflow


def test_english_notice_shows_the_english_community_name(client, site_pages):
    en = Locale.objects.get(language_code="en")
    community = services.create_community(name="江南社区", code="jiangnan", name_en="Jiangnan Community")
    notice = factories.notice(title="江南社区停车通知", community=community)
    english = notice.copy_for_translation(en, copy_parents=True)
    english.title = "Jiangnan parking notice"
    english.save_revision().publish()

    list_html = client.get(english.get_parent().url).content.decode()
    page_html = client.get(english.url).content.decode()

    assert "Jiangnan Community" in list_html and "江南社区" not in list_html
    assert "Jiangnan Community" in page_html


@pytest.fixture
def two_communities(site_pages):
    liuhe = services.create_community(name="六和社区", code="liuhe", name_en="Liuhe Community")
    jiangnan = services.create_community(name="江南社区", code="jiangnan", name_en="Jiangnan Community")
    factories.notice(title="全街道停水通知")
    for community, title in ((liuhe, "六和社区义诊"), (jiangnan, "江南社区停车")):
        factories.notice(NoticeIndexPage.objects.descendant_of(community.root_page).get(), title=title, community=community)
    return liuhe, jiangnan


def test_the_street_notice_list_shows_the_communities_notices_too_filterable(client, two_communities):
    everything = client.get("/zh-hans/notices/").content.decode()
    assert all(title in everything for title in ("全街道停水通知", "六和社区义诊", "江南社区停车"))
    street = client.get("/zh-hans/notices/?where=street").content.decode()
    assert "全街道停水通知" in street and "六和社区义诊" not in street and "江南社区停车" not in street
    one = client.get("/zh-hans/notices/?where=jiangnan").content.decode()
    assert "江南社区停车" in one and "六和社区义诊" not in one and "全街道停水通知" not in one


def test_a_residents_notice_list_defaults_to_their_community_and_the_street(client, two_communities):
    liuhe, _jiangnan = two_communities
    resident = factories.ResidentProfileFactory(community=liuhe).user
    client.force_login(resident)
    factories.translate(factories.notice_index(), strings={"通知公告": "Notices", "notices": "notices"})
    for language, label in (("zh-hans", "我的社区和街道"), ("en", "My community and the street")):
        html = client.get(f"/{language}/notices/").content.decode()
        assert f'aria-current="true">{label}</a>' in html
    html = client.get("/zh-hans/notices/").content.decode()
    assert "全街道停水通知" in html and "六和社区义诊" in html and "江南社区停车" not in html
    assert "江南社区停车" in client.get("/zh-hans/notices/?where=all").content.decode()


def test_community_pages_are_linked_from_the_home_page_and_lead_to_their_notices(client, two_communities):
    liuhe, _jiangnan = two_communities
    home = client.get("/zh-hans/").content.decode()
    assert 'href="/zh-hans/liuhe/"' in home and 'href="/zh-hans/jiangnan/"' in home
    section = client.get("/zh-hans/liuhe/").content.decode()
    assert 'href="/zh-hans/notices/?where=liuhe"' in section
