"""The follow-up in the Wagtail admin: community staff only, scoped to their community; each view GET and POST."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deliberation.council.factories import AgendaItemFactory, council_with_members
from deliberation.followup import services as followup
from deliberation.followup.models import Decision, FollowUpAction, MinutesPage, Objection
from deliberation.followup.tests import followup_support
from deliberation.followup.tests.followup_support import decide, held_session
from deliberation.mailbox.factories import community_with_staff, resident, staff_member

pytestmark = pytest.mark.django_db

council = followup_support.council
session = followup_support.session
topic = followup_support.topic
item = followup_support.item


def admin_staff(community, **fields):
    """Community staff with admin access, reading the admin in English (the tests read its messages)."""
    from wagtail.users.models import UserProfile

    user = staff_member(community, **fields)
    UserProfile.objects.update_or_create(user=user, defaults={"preferred_language": "en"})
    user.groups.first().permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    return user


@pytest.fixture
def staff(community):
    return admin_staff(community, username="staff-liuhe")


@pytest.fixture
def decision(item):
    return decide(item)


def due() -> str:
    return (timezone.localdate() + datetime.timedelta(days=10)).isoformat()


def test_the_decisions_list_flags_unanswered_objections_and_overdue_actions(client, staff, decision, community):
    followup.file_objection(decision=decision, resident=resident(community), text="不同意")
    action = followup.add_action(
        decision=decision, actor=staff, description="施划", party="property_management", due_on=timezone.localdate()
    )
    FollowUpAction.objects.filter(pk=action.pk).update(due_on=timezone.localdate() - datetime.timedelta(days=1))
    client.force_login(staff)
    html = client.get(reverse("followup_admin:decisions")).content.decode()
    assert reverse("followup_admin:decision", args=[decision.pk]) in html
    assert "1 unanswered objection" in html and "1 overdue action" in html


def test_another_communitys_staff_see_nothing_and_residents_are_refused(client, decision, site_pages):
    other = community_with_staff(name="其他社区", code="other")
    council_with_members(members=3, community=other)
    outsider = admin_staff(other, username="staff-other")
    client.force_login(outsider)
    assert (
        reverse("followup_admin:decision", args=[decision.pk])
        not in client.get(reverse("followup_admin:decisions")).content.decode()
    )
    # An admin 404 is redirected by LocaleMiddleware to the language-prefixed path, which is a 404 too.
    path = reverse("followup_admin:decision", args=[decision.pk])
    assert client.get(path, follow=True).status_code == 404
    response = client.post(path, {"action": "add_action", "description": "x", "party": "street_office", "due_on": due()})
    assert response.status_code in (302, 404) and response.get("Location", "") != path
    assert not FollowUpAction.objects.exists()
    client.force_login(resident(other))
    assert client.get(reverse("followup_admin:decisions")).status_code in (302, 403)


def test_staff_answer_add_actions_and_report_progress(client, staff, decision, community, django_capture_on_commit_callbacks):
    objection = followup.file_objection(decision=decision, resident=resident(community), text="离窗户太近")
    client.force_login(staff)
    path = reverse("followup_admin:decision", args=[decision.pk])
    assert "离窗户太近" in client.get(path).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            path,
            {
                "action": "answer",
                "objection": objection.pk,
                "answer": "夜间使用。",
                "answer_en": "Used at night.",
                "confirm": "yes",
            },
        )
    assert response.status_code == 302 and len(mail.outbox) == 1
    objection.refresh_from_db()
    assert (objection.answer, objection.answer_en) == ("夜间使用。", "Used at night.")
    assert "Used at night." in client.get(path).content.decode()
    response = client.post(
        path, {"action": "answer", "objection": objection.pk, "answer": "again", "confirm": "yes"}, follow=True
    )
    assert "already been answered" in response.content.decode()

    response = client.post(
        path,
        {
            "action": "add_action",
            "description": "施划车位",
            "description_en": "Mark bays",
            "party": "property_management",
            "due_on": due(),
        },
    )
    assert response.status_code == 302
    action = FollowUpAction.objects.get()
    response = client.post(path, {"action": "add_action", "description": "", "party": "nobody", "due_on": "soon"})
    assert response.status_code == 400 and FollowUpAction.objects.count() == 1

    response = client.post(path, {"action": "progress", "follow_up_action": action.pk, "progress": 150})
    assert response.status_code == 400
    response = client.post(path, {"action": "progress", "follow_up_action": action.pk, "progress": 60, "note": "过半"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.progress == 60 and action.updates.get().note == "过半"
    assert "过半" in client.get(path).content.decode()


def test_staff_generate_minutes_and_get_the_wagtail_edit_links(client, staff, session):
    AgendaItemFactory(session=session, position=1)
    client.force_login(staff)
    path = reverse("followup_admin:minutes")
    html = client.get(path).content.decode()
    assert 'name="session"' in html
    response = client.post(path, {"session": session.pk}, follow=True)
    assert "generated in both languages" in response.content.decode()
    zh_page, en_page = followup.minutes_pages(session)
    html = response.content.decode()
    assert reverse("wagtailadmin_pages:edit", args=[zh_page.pk]) in html
    assert reverse("wagtailadmin_pages:edit", args=[en_page.pk]) in html
    assert MinutesPage.objects.count() == 2


def test_the_admin_lists_pin_their_queries(client, staff, council, django_assert_num_queries):
    client.force_login(staff)
    decisions_path, minutes_path = (
        reverse("followup_admin:decisions"),
        reverse("followup_admin:minutes"),
    )
    decide(AgendaItemFactory(session=held_session(council), position=1))
    client.get(decisions_path)
    client.get(minutes_path)
    with CaptureQueriesContext(connection) as decisions:
        client.get(decisions_path)
    with CaptureQueriesContext(connection) as minutes:
        client.get(minutes_path)
    assert len(decisions) < 40 and len(minutes) < 40
    for _ in range(5):
        session = held_session(council)
        decision = decide(AgendaItemFactory(session=session, position=1))
        Objection.objects.create(decision=decision, resident=resident(council.community), text="x")
        followup.generate_minutes(session=session, actor=staff)
    assert Decision.objects.count() == 6
    with django_assert_num_queries(len(decisions)):
        client.get(decisions_path)
    with django_assert_num_queries(len(minutes)):
        client.get(minutes_path)


def test_minutes_are_edited_in_wagtail_but_never_published_from_the_editor(client, session, site_pages):
    from home.factories import UserFactory

    AgendaItemFactory(session=session, position=1)
    followup.generate_minutes(session=session, actor=None)
    zh_page, _en_page = followup.minutes_pages(session)
    superuser = UserFactory(username="street-manager", is_superuser=True, is_staff=True)
    permissions = zh_page.permissions_for_user(superuser)
    assert permissions.can_edit() and not permissions.can_publish()
    client.force_login(superuser)
    assert client.get(reverse("wagtailadmin_pages:edit", args=[zh_page.pk])).status_code == 200
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[zh_page.pk]),
        {
            "title": zh_page.title,
            "slug": zh_page.slug,
            "held_on": zh_page.held_on.isoformat(),
            "body": "{}",
            "action-publish": "1",
        },
    )
    zh_page.refresh_from_db()
    assert not zh_page.live and response.status_code in (200, 302, 403)


@pytest.mark.parametrize(
    ("language", "said", "refusal"),
    [
        (
            "zh-hans",
            "答复一经发送便不能修改：系统将通过电子邮件告知居民，答复也会显示在该决定的公开页面上。",
            "未发送：请勾选确认这是最终答复。",
        ),
        (
            "en",
            "The answer cannot be changed once sent: the resident is told by e-mail",
            "Nothing was sent: tick the box to confirm that this answer is final.",
        ),
    ],
)
@pytest.mark.parametrize("confirm", [None, "", "on", "²"])
def test_answering_an_objection_needs_the_box_ticked(
    client, staff, decision, community, language, said, refusal, confirm, django_capture_on_commit_callbacks
):
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = language  # the admin's language
    profile.save()
    objection = followup.file_objection(decision=decision, resident=resident(community), text="离窗户太近")
    mail.outbox.clear()
    client.force_login(staff)
    path = reverse("followup_admin:decision", args=[decision.pk])
    page = client.get(path).content.decode()
    assert said in page and 'name="confirm" value="yes" required' in page
    data = {"action": "answer", "objection": objection.pk, "answer": "夜间使用。"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, data | ({} if confirm is None else {"confirm": confirm}), follow=True)
    assert refusal in [str(message) for message in response.context["messages"]]
    objection.refresh_from_db()
    assert objection.answered_at is None and not objection.answer and not mail.outbox  # nothing stored, nobody told
