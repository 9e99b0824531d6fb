"""Staff of one community do not see the titles of another community's unpublished pages in the admin."""

import pytest
from django.contrib.auth import get_user_model
from wagtail.models import Locale

from conftest import fresh_copies, on_the_site_with, wagtail_indexes_on
from home import factories, services
from home.models import NoticeIndexPage

pytestmark = pytest.mark.django_db

User = get_user_model()


STREET = on_the_site_with("_visibility_street")


@pytest.fixture(scope="session")
def _visibility_street(shared_site, django_db_blocker):
    """The street below, made once for this module's tests (a layer inside the shared site's, conftest.py)."""
    if not STREET.open(django_db_blocker):
        yield None
    else:
        with wagtail_indexes_on():  # the admin's searches below find the notices
            street = make_street()
        yield street
    STREET.close()


@pytest.fixture
def street(_visibility_street, site_pages):
    """Communities A and B, each with a published and a draft notice, and A's staff (each test's own copies)."""
    if STREET.running:
        return fresh_copies(_visibility_street)
    with wagtail_indexes_on():
        return make_street()


def make_street() -> dict:
    a = services.create_community(name="六和社区", code="liuhe")
    b = services.create_community(name="江南社区", code="jiangnan")
    pages = {}
    for key, community in (("a", a), ("b", b)):
        index = NoticeIndexPage.objects.child_of(community.root_page).get()
        pages[f"{key}_index"] = index
        pages[f"{key}_live"] = factories.notice(index, title=f"{key.upper()}公开通知", slug="public", community=community)
        pages[f"{key}_draft"] = factories.notice(
            index, title=f"{key.upper()}草稿通知", slug="draft", community=community, publish=False
        )
    # A's section in English too: the staff then explore from the tree's root, across both languages.
    a.root_page.copy_for_translation(Locale.objects.get(language_code="en"))
    services.share_section_with_translations(community=a)
    staff = factories.VerifiedUserFactory(username="liuhe-staff")
    staff.groups.add(a.editors)
    return {"a": a, "b": b, "staff": User.objects.get(pk=staff.pk), **pages}


def seen(client, url, **params) -> str:
    """What the user reads on an admin page (chooser pages answer with their HTML inside JSON)."""
    response = client.get(url, params, follow=True)  # Django's LocaleMiddleware answers a 404 with a redirect
    if response.status_code == 404:
        return ""
    assert response.status_code == 200, url
    if response["Content-Type"].startswith("application/json"):
        return response.json()["html"]
    return response.content.decode()


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/admin/pages/{b_draft}/", {}),  # the explorer by id: the page's own title in the header
        ("/admin/pages/{b_draft}/results/", {}),
        ("/admin/pages/{b_index}/", {}),
        ("/admin/pages/{b_index}/", {"q": "B草稿"}),
        ("/admin/pages/{b_index}/", {"q": "B草稿", "search_all": "1"}),
        ("/admin/pages/search/", {"q": "B草稿"}),
        ("/admin/pages/search/results/", {"q": "B草稿"}),
        ("/admin/choose-page/{b_index}/", {}),
        ("/admin/choose-page/{b_draft}/", {}),
        ("/admin/choose-page/search/", {"q": "B草稿"}),
    ],
)
def test_staff_do_not_see_another_communitys_draft(client, street, url, params):
    client.force_login(street["staff"])
    url = url.format(b_index=street["b_index"].pk, b_draft=street["b_draft"].pk)
    assert "B草稿通知" not in seen(client, url, **params)


def test_staff_see_own_drafts_and_others_live_pages(client, street):
    client.force_login(street["staff"])
    a_index, b_index, b_draft = street["a_index"], street["b_index"], street["b_draft"]
    assert client.get(f"/admin/pages/{b_draft.pk}/", follow=True).status_code == 404
    assert client.get("/admin/pages/999999/", follow=True).status_code == 404  # as for a page that does not exist
    assert "A草稿通知" in seen(client, f"/admin/pages/{a_index.pk}/")
    assert "A草稿通知" in seen(client, "/admin/pages/search/", q="A草稿")
    assert "A草稿通知" in seen(client, f"/admin/choose-page/{a_index.pk}/")
    assert "A草稿通知" in seen(client, "/admin/choose-page/search/", q="A草稿")
    assert "B公开通知" in seen(client, f"/admin/choose-page/{b_index.pk}/")
    assert "B公开通知" in seen(client, "/admin/choose-page/search/", q="B公开")


def test_the_street_office_sees_every_draft(client, street):
    client.force_login(factories.UserFactory(is_superuser=True, is_staff=True))
    b_index, b_draft = street["b_index"], street["b_draft"]
    assert client.get(f"/admin/pages/{b_draft.pk}/").status_code == 200
    assert "B草稿通知" in seen(client, f"/admin/pages/{b_index.pk}/")
    assert "B草稿通知" in seen(client, f"/admin/choose-page/{b_index.pk}/")
    assert "B草稿通知" in seen(client, "/admin/choose-page/search/", q="B草稿")
