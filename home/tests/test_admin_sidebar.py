"""home/admin_sidebar.py: the admin's sidebar is made once per person and language, and a new one as soon as the
person's groups, name or language change."""

import json

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group, Permission
from wagtail.users.models import UserProfile

from home import admin_sidebar, services
from home.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def made(monkeypatch):
    """How many times Wagtail made the sidebar (its own tag, called through)."""
    calls = []
    wagtails = admin_sidebar._made_by_wagtail

    def counted(context):
        calls.append(context["request"].path)
        return wagtails(context)

    monkeypatch.setattr(admin_sidebar, "_made_by_wagtail", counted)
    return calls


@pytest.fixture
def liuhe(site_pages):
    return services.create_community(name="六和社区", code="liuhe", name_en="Liuhe Community")


def menu_links(response) -> set[str]:
    """The URLs of the sidebar's menu, read from the props Wagtail's script reads."""
    assert response.status_code == 200
    props = BeautifulSoup(response.content.decode(), "html.parser").find("script", id="wagtail-sidebar-props")
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            found.update(
                value for key, value in node.items() if key == "url" or (isinstance(value, str) and value.startswith("/admin/"))
            )
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(props.string))
    return found


def test_the_sidebar_is_made_once_for_many_admin_pages(client, liuhe, made):
    staff = UserFactory()
    staff.groups.add(liuhe.editors)
    client.force_login(staff)
    first = menu_links(client.get("/admin/"))
    assert "/admin/points/hand-over/" in first
    for path in ("/admin/", "/admin/points/", "/admin/points/hand-over/"):
        assert menu_links(client.get(path)) == first
    assert made == ["/admin/"]


def test_a_new_group_name_or_language_gives_a_new_sidebar_at_once(client, liuhe, made):
    staff = UserFactory(first_name="")
    group = Group.objects.create(name="只看页面")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    staff.groups.add(group, liuhe.editors)
    client.force_login(staff)
    before = client.get("/admin/")
    assert "/admin/points/hand-over/" in menu_links(before)

    staff.groups.remove(liuhe.editors)  # no longer staff of Liuhe: the staff menus go
    after = client.get("/admin/")
    assert after.status_code == 200 and "/admin/points/hand-over/" not in menu_links(after)
    assert len(made) == 2

    staff.groups.add(liuhe.editors)
    staff.first_name = "秀英"
    staff.save()
    named = client.get("/admin/")
    assert "秀英" in named.content.decode() and len(made) == 3

    UserProfile.get_for_user(staff)
    UserProfile.objects.filter(user=staff).update(preferred_language="en")
    english = client.get("/admin/").content.decode()
    assert "Hand over a reward" in english and len(made) == 4
