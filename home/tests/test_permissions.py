"""Per-community permissions: staff edit their own community's pages only, heads approve and publish."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from wagtail.models import Page, TaskState, WorkflowState
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from conftest import fresh_copies, on_the_site_with
from home import factories, services
from home.models import NoticeIndexPage, NoticePage

pytestmark = pytest.mark.django_db

User = get_user_model()


STREET = on_the_site_with("_permissions_street")


@pytest.fixture(scope="session")
def _permissions_street(shared_site, django_db_blocker):
    """The street below, made once for this module's tests (a layer inside the shared site's, conftest.py)."""
    yield make_street() if STREET.open(django_db_blocker) else None
    STREET.close()


@pytest.fixture
def street(_permissions_street, site_pages):
    """Two communities, each with a notice, a staff member and a head (each test's own copies)."""
    return fresh_copies(_permissions_street) if STREET.running else make_street()


def make_street() -> dict:
    a = services.create_community(name="六和社区", code="liuhe")
    b = services.create_community(name="江南社区", code="jiangnan")
    people = {}
    for key, community in (("a", a), ("b", b)):
        index = NoticeIndexPage.objects.child_of(community.root_page).get()
        people[f"{key}_notice"] = factories.notice(index, title=f"{community.name}停水通知", slug="water", community=community)
        people[f"{key}_index"] = index
        staff = factories.VerifiedUserFactory(username=f"{community.code}-staff")
        staff.groups.add(community.editors)
        head = factories.VerifiedUserFactory(username=f"{community.code}-head")
        head.groups.add(community.heads)
        people[f"{key}_staff"], people[f"{key}_head"] = fresh(staff), fresh(head)
    return {"a": a, "b": b, **people}


def fresh(user):
    """The user without Wagtail's permission cache (it lives on the user object)."""
    return User.objects.get(pk=user.pk)


def notice_form(title: str, slug: str, **fields) -> dict:
    data = {
        "title": title,
        "slug": slug,
        "summary": "本周四上午九点至十二点停水。",
        "category": "general",
        "publication_date": "2026-11-02",
        "expires_on": "",
        "community": "",
        "body": streamfield([("paragraph", rich_text("<p>请提前储水。</p>"))]),
        "seo_title": "",
        "search_description": "",
        "go_live_at": "",
        "expire_at": "",
        "comments": inline_formset([]),
    }
    data.update(fields)
    return nested_form_data(data)


# Page permissions as Wagtail computes them


def test_staff_may_add_and_edit_in_their_community_only(street):
    staff = street["a_staff"]
    for page in (street["a"].root_page, street["a_index"], street["a_notice"]):
        permissions = page.permissions_for_user(staff)
        assert permissions.can_edit(), page
        assert not permissions.can_publish(), page
    assert street["a_index"].permissions_for_user(staff).can_add_subpage()

    for page in (street["b"].root_page, street["b_index"], street["b_notice"]):
        permissions = page.permissions_for_user(staff)
        assert not permissions.can_edit(), page
        assert not permissions.can_add_subpage(), page
    # Nor the street-wide pages above the sections.
    assert not street["a"].root_page.get_parent().permissions_for_user(staff).can_edit()


def test_heads_may_publish_in_their_community_only(street):
    head = street["a_head"]
    assert street["a_notice"].permissions_for_user(head).can_publish()
    assert street["a_index"].permissions_for_user(head).can_publish_subpage()
    assert not street["b_notice"].permissions_for_user(head).can_edit()
    assert not street["b_notice"].permissions_for_user(head).can_publish()


def test_permissions_follow_group_membership(street):
    outsider = factories.VerifiedUserFactory()
    assert not street["a_notice"].permissions_for_user(outsider).can_edit()

    outsider.groups.add(street["a"].editors)

    assert street["a_notice"].permissions_for_user(fresh(outsider)).can_edit()


# The same rules through the Wagtail admin


def test_admin_edit_view_is_refused_for_another_communitys_notice(client, street):
    client.force_login(street["a_staff"])

    own = client.get(reverse("wagtailadmin_pages:edit", args=[street["a_notice"].pk]))
    other = client.get(reverse("wagtailadmin_pages:edit", args=[street["b_notice"].pk]))

    assert own.status_code == 200
    assert other.status_code == 302
    assert other["Location"] == reverse("wagtailadmin_home")
    assert "没有权限" in " ".join(str(m) for m in client.get(other["Location"]).context["messages"])


def test_admin_refuses_adding_or_saving_in_another_community(client, street):
    client.force_login(street["a_staff"])
    add_in_b = reverse("wagtailadmin_pages:add", args=["home", "noticepage", street["b_index"].pk])

    assert client.get(add_in_b).status_code == 302
    client.post(add_in_b, notice_form("闯入的通知", "intruder"))
    client.post(reverse("wagtailadmin_pages:edit", args=[street["b_notice"].pk]), notice_form("改掉别人的通知", "water"))

    assert not Page.objects.filter(slug="intruder").exists()
    street["b_notice"].refresh_from_db()
    assert street["b_notice"].title == "江南社区停水通知"
    assert street["b_notice"].get_latest_revision().content["title"] == "江南社区停水通知"


def test_staff_cannot_publish_their_publish_action_only_saves_a_draft(client, street):
    client.force_login(street["a_staff"])

    client.post(
        reverse("wagtailadmin_pages:add", args=["home", "noticepage", street["a_index"].pk]),
        notice_form("垃圾分类宣传周", "sorting-week", **{"action-publish": "action-publish"}),
    )

    notice = NoticePage.objects.get(slug="sorting-week")
    assert not notice.live
    assert notice.current_workflow_state is None
    assert notice.get_latest_revision().content["title"] == "垃圾分类宣传周"


def test_head_publishes_directly_in_their_community(client, street):
    client.force_login(street["a_head"])

    client.post(
        reverse("wagtailadmin_pages:add", args=["home", "noticepage", street["a_index"].pk]),
        notice_form("议事会开会通知", "council", **{"action-publish": "action-publish"}),
    )

    assert NoticePage.objects.get(slug="council").live


def test_staff_submits_head_approves_and_the_notice_is_live_on_the_home_page_at_once(client, street):
    home_before = client.get("/zh-hans/").content.decode()  # now in the anonymous page cache
    assert "志愿者招募" not in home_before

    # Staff of A write a notice and submit it for moderation.
    staff_client = type(client)()
    staff_client.force_login(street["a_staff"])
    response = staff_client.post(
        reverse("wagtailadmin_pages:add", args=["home", "noticepage", street["a_index"].pk]),
        notice_form("志愿者招募", "volunteers", **{"action-submit": "action-submit"}),
    )
    assert response.status_code == 302
    notice = NoticePage.objects.get(slug="volunteers")
    assert not notice.live
    workflow_state = notice.current_workflow_state
    assert workflow_state is not None and workflow_state.status == WorkflowState.STATUS_IN_PROGRESS
    assert workflow_state.workflow.name == "六和社区 · moderation"
    task_state = notice.current_workflow_task_state
    assert list(task_state.task.specific.groups.all()) == [street["a"].heads]

    # B's head may not act on it; A's staff may not approve their own submission.
    approve_url = reverse("wagtailadmin_pages:workflow_action", args=[notice.pk, "approve", task_state.pk])
    for outsider in (street["b_head"], street["a_staff"]):
        other = type(client)()
        other.force_login(outsider)
        response = other.post(approve_url)
        assert (response.status_code, response["Location"]) == (302, reverse("wagtailadmin_home"))
        notice.refresh_from_db()
        assert not notice.live
    assert not task_state.task.specific.user_can_access_editor(notice, street["b_head"])

    # A's head approves in the admin: the notice goes live and the home page shows it at once.
    head_client = type(client)()
    head_client.force_login(street["a_head"])
    response = head_client.post(approve_url)
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.live
    task_state.refresh_from_db()
    assert task_state.status == TaskState.STATUS_APPROVED
    assert notice.current_workflow_state is None
    assert "志愿者招募" in client.get("/zh-hans/").content.decode()


def test_the_workflow_can_be_driven_through_wagtails_api_too(client, street):
    notice = factories.notice(street["a_index"], title="电梯维修通知", slug="lift", publish=False)
    notice.save_revision(user=street["a_staff"])

    workflow = notice.get_workflow()
    workflow.start(notice, street["a_staff"])
    notice.refresh_from_db()
    task_state = notice.current_workflow_task_state
    assert task_state.task.specific.user_can_access_editor(notice, street["a_head"])
    task_state.task.on_action(task_state, street["a_head"], "approve")

    notice.refresh_from_db()
    assert notice.live
    assert "电梯维修通知" in client.get("/zh-hans/").content.decode()


def test_staff_communities_are_those_of_the_users_groups(site_pages):
    liuhe = services.create_community(name="六和社区", code="liuhe", name_en="Liuhe")
    jiangnan = services.create_community(name="江南社区", code="jiangnan", name_en="Jiangnan")
    staff, head, resident = (factories.VerifiedUserFactory() for _ in range(3))
    staff.groups.add(liuhe.editors)
    head.groups.add(liuhe.heads, jiangnan.heads)
    assert set(services.staff_communities(staff).values_list("pk", flat=True)) == {liuhe.pk}
    assert {c.code for c in services.staff_communities(head)} == {"liuhe", "jiangnan"}
    assert not services.staff_communities(resident).exists()
    assert not services.staff_communities(AnonymousUser()).exists()
    street = factories.VerifiedUserFactory(is_superuser=True)
    assert services.staff_communities(street).count() == 2  # one row per community, named in both languages
    staff.is_active = street.is_active = False
    assert not services.staff_communities(staff).exists() and not services.staff_communities(street).exists()
