"""The API's notices (/api/v1/notices/): the street's and the resident's community's, pinned first, both languages,
cursors and ETags."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from wagtail.models import Locale

from api.testing import assert_problem, token_for
from home import factories, services
from home.models import NoticeIndexPage


@pytest.fixture
def two_communities(site_pages):
    liuhe = services.create_community(name="六和社区", code="liuhe", name_en="Liuhe Community")
    jiangnan = services.create_community(name="江南社区", code="jiangnan", name_en="Jiangnan Community")
    today = timezone.localdate()
    factories.notice(title="全街道停水通知", publication_date=today)
    factories.notice(title="置顶的旧通知", pinned=True, publication_date=today - datetime.timedelta(days=9))
    for community, title in ((liuhe, "六和社区义诊"), (jiangnan, "江南社区停车")):
        factories.notice(
            NoticeIndexPage.objects.descendant_of(community.root_page).get(),
            title=title,
            community=community,
            publication_date=today - datetime.timedelta(days=1),
        )
    return liuhe, jiangnan


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["items"]]


def test_anyone_gets_every_notice_pinned_first(client, two_communities):
    assert titles(client.get("/api/v1/notices/")) == ["置顶的旧通知", "全街道停水通知", "江南社区停车", "六和社区义诊"]


def test_a_resident_gets_the_street_and_their_own_community(client, two_communities):
    liuhe, _jiangnan = two_communities
    resident = factories.ResidentProfileFactory(community=liuhe).user
    response = client.get("/api/v1/notices/", HTTP_X_SESSION_TOKEN=token_for(resident))
    assert titles(response) == ["置顶的旧通知", "全街道停水通知", "六和社区义诊"]
    assert response.json()["items"][2]["community"] == "六和社区"
    assert "private" in response["Cache-Control"]


def test_the_english_notices_in_english(client, two_communities):
    en = Locale.objects.get(language_code="en")
    liuhe, _jiangnan = two_communities
    notice = factories.notice(title="六和社区停车", community=liuhe)
    english = notice.copy_for_translation(en, copy_parents=True)
    english.title = "Liuhe parking notice"
    english.save_revision().publish()
    response = client.get("/api/v1/notices/", HTTP_ACCEPT_LANGUAGE="en")
    assert titles(response) == ["Liuhe parking notice"]
    assert response.json()["items"][0]["community"] == "Liuhe Community"
    detail = client.get(f"/api/v1/notices/{notice.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert detail["title"] == "Liuhe parking notice"


def test_a_notice_with_its_text(client, site_pages):
    notice = factories.notice(title="义诊通知", body=[("paragraph", "<p>欢迎居民参加。</p>")])
    response = client.get(f"/api/v1/notices/{notice.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert data["title"] == "义诊通知"
    assert "欢迎居民参加。" in data["body_html"]
    assert data["category_label"] == "社区事务"
    assert client.get(f"/api/v1/notices/{notice.pk}/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_a_draft_notice_is_not_found(client, site_pages):
    draft = factories.notice(title="草稿", publish=False)
    assert_problem(client.get(f"/api/v1/notices/{draft.pk}/"), 404, "not_found")


def test_cursor_pages_and_etag(client, two_communities):
    first = client.get("/api/v1/notices/?limit=3")
    assert len(first.json()["items"]) == 3
    rest = client.get(f"/api/v1/notices/?limit=3&cursor={first.json()['next']}").json()
    assert titles(first) + [item["title"] for item in rest["items"]] == titles(client.get("/api/v1/notices/"))
    assert rest["next"] is None
    assert client.get("/api/v1/notices/?limit=3", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get("/api/v1/notices/?limit=3", HTTP_IF_NONE_MATCH=f"W/{first['ETag']}").status_code == 304
    factories.notice(title="新通知")
    assert client.get("/api/v1/notices/?limit=3", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_category_filter(client, two_communities):
    factories.notice(title="垃圾分类新规", category="garbage")
    assert titles(client.get("/api/v1/notices/?category=garbage")) == ["垃圾分类新规"]


@pytest.mark.parametrize("bad", ["%00", "%C2%B2", str(10**23), "9999-12-31", "-1", "0"])
def test_bad_input_in_every_parameter_is_4xx(client, site_pages, bad):
    for url in (
        f"/api/v1/notices/{bad}/",
        f"/api/v1/notices/?limit={bad}",
        f"/api/v1/notices/?cursor={bad}",
        f"/api/v1/notices/?category={bad}",
    ):
        response = client.get(url)
        assert 400 <= response.status_code < 500, url
        assert_problem(response, response.status_code, response.json()["code"])


def test_the_list_query_count_is_flat(client, two_communities, django_assert_max_num_queries):
    client.get("/api/v1/notices/")  # warm Wagtail's site and locale caches
    with django_assert_max_num_queries(6):
        client.get("/api/v1/notices/")
