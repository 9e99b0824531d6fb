"""Staff read who did what, when, on a council session's, a decision's and a topic's admin page: the audit log
of the thing and of what belongs to it (agenda items and results; objections and actions), newest first."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from deliberation.council import services as voting
from deliberation.followup import services as followup
from deliberation.followup.tests import followup_support
from deliberation.followup.tests.followup_support import decide
from deliberation.followup.tests.test_followup_admin import admin_staff
from deliberation.mailbox import services
from deliberation.mailbox.factories import resident

pytestmark = pytest.mark.django_db

council = followup_support.council
session = followup_support.session
topic = followup_support.topic
item = followup_support.item


@pytest.fixture
def staff(community):
    return admin_staff(community, username="staff-liuhe", first_name="", last_name="", email="liuhe@example.com")


def history(html: str) -> str:
    start = html.index("data-audit-history")
    return html[start : html.index("</section>", start)]


def test_a_sessions_page_shows_who_changed_it_and_its_agenda(client, staff, council):
    new = voting.create_session(
        council=council,
        actor=staff,
        title="第四季度议事会",
        starts_at=timezone.now() + datetime.timedelta(days=7),
        ends_at=timezone.now() + datetime.timedelta(days=7, hours=2),
        mode="in_person",
    )
    voting.add_item(session=new, actor=staff, title="停车", motion="动议", rule="simple", ballot="open")
    client.force_login(staff)
    shown = history(client.get(reverse("council_admin:session", args=[new.pk])).content.decode())
    assert shown.index("Changed the agenda") < shown.index("Created a council session")  # newest first
    assert shown.count(staff.get_username()) == 2  # who did each of the two changes


def test_a_decisions_page_shows_its_objections_and_actions(client, staff, item, community):
    decision = decide(item)
    followup.file_objection(decision=decision, resident=resident(community), text="不同意")
    followup.add_action(
        decision=decision, actor=staff, description="施划", party="property_management", due_on=timezone.localdate()
    )
    client.force_login(staff)
    shown = history(client.get(reverse("followup_admin:decision", args=[decision.pk])).content.decode())
    assert "Created a follow-up action" in shown and "Filed an objection" in shown


def test_a_topics_page_shows_its_changes_and_nothing_before_there_are_any(client, staff, community):
    client.force_login(staff)
    topic = services.create_topic(community=community, title="夜间施工噪音", category="parking", actor=staff)
    assert "Created a topic" in history(client.get(reverse("mailbox_admin:topic", args=[topic.pk])).content.decode())
    services.approve_topic_summary(topic=topic, actor=staff, summary="周边工地夜间施工。")
    shown = history(client.get(reverse("mailbox_admin:topic", args=[topic.pk])).content.decode())
    assert shown.index("Approved the topic") < shown.index("Created a topic")
    other = services.create_topic(community=community, title="楼道堆物", category="parking", actor=staff)
    from wagtail.models import ModelLogEntry

    ModelLogEntry.objects.filter(object_id=str(other.pk)).delete()
    assert "Nothing recorded yet." in history(client.get(reverse("mailbox_admin:topic", args=[other.pk])).content.decode())
