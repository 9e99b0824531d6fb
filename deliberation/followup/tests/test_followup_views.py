"""The follow-up's pages: members' minutes, public minutes, decisions with objections, the progress page, topics."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from deliberation.council.factories import AgendaItemFactory
from deliberation.council.models import CouncilMember, CouncilSession
from deliberation.followup import services as followup
from deliberation.followup.models import Decision, FollowUpAction, MinutesConfirmation, MinutesIndexPage, Objection
from deliberation.followup.tests import followup_support
from deliberation.followup.tests.followup_support import chair_of, decide, held_session, seats, secretary_of
from deliberation.mailbox.factories import resident
from home.factories import UserFactory

pytestmark = pytest.mark.django_db

# Anonymous visitors, page cache cold. Two are the site's (portal settings, menu pages); the rest are flat:
PROGRESS_QUERIES = 6  # decisions per stage, count, decisions with item, session and council, their actions
DECISION_QUERIES = 7  # decision with its item, session, council, result and topic; actions; updates; objections

council = followup_support.council
staff = followup_support.staff
session = followup_support.session
topic = followup_support.topic
people = followup_support.people
item = followup_support.item


def url(name, *args, language="en"):
    """English by default: the tests read the messages; the pages themselves are tested in both languages."""
    with translation.override(language):
        return reverse(name, args=args)


def latest_body(session) -> str:
    zh_page, _en_page = followup.minutes_pages(session)
    return zh_page.get_latest_revision_as_object().body


@pytest.fixture
def minutes(session, council):
    AgendaItemFactory(session=session, position=1)
    return followup.generate_minutes(session=session, actor=chair_of(council).user)


# --- Members' minutes page ----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_secretary_sees_the_draft_the_edit_form_and_the_publish_button(client, session, council, minutes, language):
    client.force_login(secretary_of(council).user)
    response = client.get(url("followup:member_minutes", session.pk, language=language))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="body"' in html and 'name="body_en"' in html
    assert url("followup:publish_minutes", session.pk, language=language) in html
    assert 'name="closing"' in html and 'name="closing_en"' in html
    # The draft in the page's language: its free text, then the results section generated from the stored results.
    draft = html.split('id="draft-heading"')[1].split("</section>")[0]
    draft_item = session.items.get()
    assert ("Attendance" in draft) == (language == "en") and ("出席" in draft) == (language == "zh-hans")
    results = draft.split("data-minutes-results")[1]
    assert (draft_item.motion_en in results) == (language == "en")
    assert (draft_item.motion in results) == (language == "zh-hans")
    # In the editor, between the free texts of each language, the results section is read-only: no field holds it.
    editor = html.split('class="minutes-form')[1]
    assert editor.count("minutes-results-readonly") == 2
    assert draft_item.motion in editor and draft_item.motion_en in editor
    assert draft_item.motion not in "".join(part.split("</textarea>")[0] for part in editor.split("<textarea")[1:])
    assert 'id="confirmation-count"' in html


MINUTES_QUESTIONS = {
    "zh-hans": {
        "confirm": "确认这份会议纪要如实记录了本次会议吗？确认后不能撤回，并计入发布所需的确认人数（如纪要文字再有修改，会请您重新确认）。",
        "publish": "现在发布会议纪要吗？纪要将以中英文在公开页面上发布，之后不能再修改或确认。",
        "yes_confirm": "确定，我确认",
        "yes_publish": "确定发布",
        "no": "暂不",
    },
    "en": {
        "confirm": "Confirm that these minutes are a correct record of the session? Your confirmation cannot be withdrawn;",
        "publish": "Publish the minutes now? They appear on the public page in Chinese and English and can no longer be changed",
        "yes_confirm": "Yes, I confirm them",
        "yes_publish": "Yes, publish them",
        "no": "No, not yet",
    },
}


def confirm_box(html: str, action: str) -> str:
    """The <details> that holds the form posting to `action`: the question, its buttons and the way back."""
    end = html.index(f'action="{action}"')
    start = html.rindex('<details class="confirm">', 0, end)
    return html[start : html.index("</details>", end)]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_confirming_and_publishing_the_minutes_ask_first_and_say_what_follows(client, session, council, minutes, language):
    questions = MINUTES_QUESTIONS[language]
    client.force_login(secretary_of(council).user)  # present at the session, and keeps the minutes
    page = url("followup:member_minutes", session.pk, language=language)
    html = client.get(page).content.decode()
    confirm = confirm_box(html, url("followup:confirm_minutes", session.pk, language=language))
    assert questions["confirm"] in confirm and questions["yes_confirm"] in confirm
    assert f'class="button secondary confirm-no" href="{page}">{questions["no"]}</a>' in confirm
    publish = confirm_box(html, url("followup:publish_minutes", session.pk, language=language))
    assert questions["publish"] in publish and questions["yes_publish"] in publish and questions["no"] in publish
    assert not MinutesConfirmation.objects.exists()  # showing the questions confirms nothing


def test_a_member_present_confirms_on_the_page_and_sees_the_count(client, session, council, minutes):
    member = seats(council)[3].user
    client.force_login(member)
    html = client.get(url("followup:member_minutes", session.pk)).content.decode()
    assert url("followup:confirm_minutes", session.pk) in html and 'name="body"' not in html
    response = client.post(url("followup:confirm_minutes", session.pk), follow=True)
    assert MinutesConfirmation.objects.filter(session=session, member__user=member).exists()
    html = response.content.decode()
    assert url("followup:confirm_minutes", session.pk) not in html
    # Twice: a clear message, nothing more stored.
    response = client.post(url("followup:confirm_minutes", session.pk), follow=True)
    assert "already confirmed" in response.content.decode()
    assert MinutesConfirmation.objects.filter(session=session).count() == 1


def test_an_absent_member_reads_but_cannot_confirm(client, session, council, minutes):
    absent = seats(council)[6].user
    client.force_login(absent)
    html = client.get(url("followup:member_minutes", session.pk)).content.decode()
    assert url("followup:confirm_minutes", session.pk) not in html
    response = client.post(url("followup:confirm_minutes", session.pk), follow=True)
    assert "Only members present" in response.content.decode()
    assert not MinutesConfirmation.objects.exists()


def test_outsiders_get_404_and_anonymous_visitors_log_in(client, session, minutes):
    assert client.get(url("followup:member_minutes", session.pk)).status_code == 302
    client.force_login(resident(session.council.community))
    assert client.get(url("followup:member_minutes", session.pk)).status_code == 404
    assert client.post(url("followup:confirm_minutes", session.pk)).status_code == 404
    assert client.post(url("followup:edit_minutes", session.pk), {"body": "x", "body_en": "x"}).status_code == 404


def test_the_secretary_edits_and_a_plain_member_cannot(client, session, council, minutes):
    client.force_login(secretary_of(council).user)
    response = client.post(
        url("followup:edit_minutes", session.pk), {"body": "## 纪要\n\n同意。", "body_en": "## Minutes\n\nAgreed."}, follow=True
    )
    assert "The minutes have been saved." in response.content.decode()
    assert "同意。" in latest_body(session)
    response = client.post(url("followup:edit_minutes", session.pk), {"body": "", "body_en": "x"}, follow=True)
    assert "cannot be empty" in response.content.decode()
    plain = council.members.filter(role=CouncilMember.Role.MEMBER).first().user
    client.force_login(plain)
    response = client.post(url("followup:edit_minutes", session.pk), {"body": "改", "body_en": "Changed"}, follow=True)
    assert "Only the council&#x27;s chair or secretary" in response.content.decode()
    assert "同意。" in latest_body(session)


def test_publishing_from_the_page_then_both_languages_are_public(client, session, council, minutes):
    secretary = secretary_of(council).user
    client.force_login(secretary)
    response = client.post(url("followup:publish_minutes", session.pk), follow=True)
    assert "need 3 confirmations" in response.content.decode()
    for seat in seats(council)[:3]:
        followup.confirm_minutes(session=session, user=seat.user)
    response = client.post(url("followup:publish_minutes", session.pk), follow=True)
    assert "published in both languages" in response.content.decode()
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.MINUTES_PUBLISHED
    client.logout()
    zh_page, en_page = followup.minutes_pages(session)
    zh_page.refresh_from_db()
    en_page.refresh_from_db()
    zh_html = client.get(zh_page.url).content.decode()
    en_html = client.get(en_page.url).content.decode()
    assert session.title in zh_html and "动议" not in en_html and "Motion" in en_html
    assert zh_page.url.startswith("/zh-hans/") and en_page.url.startswith("/en/")
    index = MinutesIndexPage.objects.get(pk=zh_page.get_parent().pk)
    assert zh_page.title in client.get(index.url).content.decode()
    en_index = index.get_translation(en_page.locale)
    assert en_page.title in client.get(en_index.url).content.decode()


# --- Decisions --------------------------------------------------------------------------------


@pytest.fixture
def decision(item):
    return decide(item)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_decision_page_shows_the_notice_period_and_the_objection_form(client, decision, item, language):
    html = client.get(url("followup:decision_detail", decision.pk, language=language)).content.decode()
    assert (item.motion_en if language == "en" else item.motion) in html
    assert decision.notice_until.isoformat() in html
    assert "account/login" in html or "accounts/login" in html  # anonymous: log in to object
    client.force_login(resident(decision.item.session.council.community))
    html = client.get(url("followup:decision_detail", decision.pk, language=language)).content.decode()
    assert url("followup:file_objection", decision.pk, language=language) in html


def test_a_resident_files_an_objection_and_sees_the_answer_anonymised(client, decision, staff, community):
    neighbour = resident(community, display_name="李四")
    client.force_login(neighbour)
    response = client.post(url("followup:file_objection", decision.pk), {"text": "离我家窗户太近。"}, follow=True)
    assert "Your objection has been filed" in response.content.decode()
    objection = Objection.objects.get()
    response = client.post(url("followup:file_objection", decision.pk), {"text": "再说一次。"}, follow=True)
    assert "waiting for an answer" in response.content.decode() and Objection.objects.count() == 1
    response = client.post(url("followup:file_objection", decision.pk), {"text": ""}, follow=True)
    assert "Write your objection first" in response.content.decode()
    followup.answer_objection(objection=objection, actor=staff, answer="夜间车位远离住宅。")
    client.logout()
    html = client.get(url("followup:decision_detail", decision.pk)).content.decode()
    assert "离我家窗户太近。" in html and "夜间车位远离住宅。" in html and "李四" not in html


@pytest.mark.parametrize(
    ("language", "answer_en", "expected", "not_expected"),
    [
        ("zh-hans", "Night parking is away from homes.", "夜间车位远离住宅。", "Night parking"),
        ("en", "Night parking is away from homes.", "Night parking is away from homes.", "夜间车位远离住宅。"),
        ("en", "", "夜间车位远离住宅。 (no English yet)", "Night parking"),
    ],
)
def test_the_decision_page_shows_the_answer_in_the_readers_language(
    client, decision, staff, community, language, answer_en, expected, not_expected
):
    objection = followup.file_objection(decision=decision, resident=resident(community), text="离我家窗户太近。")
    followup.answer_objection(objection=objection, actor=staff, answer="夜间车位远离住宅。", answer_en=answer_en)
    html = client.get(url("followup:decision_detail", decision.pk, language=language)).content.decode()
    assert expected in html and not_expected not in html


def test_an_unverified_account_cannot_object(client, decision):
    client.force_login(UserFactory())
    response = client.post(url("followup:file_objection", decision.pk, language="en"), {"text": "不同意"}, follow=True)
    assert "verify your mobile number or e-mail" in response.content.decode() and not Objection.objects.exists()


def test_withdrawn_decisions_are_not_public(client, decision):
    Decision.objects.filter(pk=decision.pk).update(status=Decision.Status.WITHDRAWN)
    assert client.get(url("followup:decision_detail", decision.pk)).status_code == 404


def make_decisions_in_effect(council, staff, count: int) -> None:
    for number in range(count):
        session = held_session(council, present=5)
        decision = decide(AgendaItemFactory(session=session, position=1))
        Decision.objects.filter(pk=decision.pk).update(status=Decision.Status.IN_EFFECT, effective_at=timezone.now())
        for party in ("property_management", "street_office"):
            followup.add_action(
                decision=decision,
                actor=staff,
                description=f"行动{number}{party}",
                description_en=f"Action {number} {party}",
                party=party,
                due_on=timezone.localdate() + datetime.timedelta(days=3),
            )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_progress_page_lists_decisions_in_effect_with_a_flat_query_count(
    client, council, staff, language, django_assert_num_queries
):
    make_decisions_in_effect(council, staff, 1)
    path = url("followup:progress", language=language)
    client.get(path)
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as one:
        response = client.get(path)
    assert response.status_code == 200 and response.content.decode().count('class="action-progress"') == 2
    make_decisions_in_effect(council, staff, 5)
    FollowUpAction.objects.filter(pk=FollowUpAction.objects.first().pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    cache.clear()
    with django_assert_num_queries(len(one)):
        response = client.get(path)
    html = response.content.decode()
    assert html.count('class="action-progress"') == 12
    assert html.count('class="overdue"') == 1
    assert ("Action 0 street_office" in html) == (language == "en")
    assert len(one) == PROGRESS_QUERIES


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_decision_page_pins_its_queries(client, council, staff, language, django_assert_num_queries):
    from django.core.cache import cache

    make_decisions_in_effect(council, staff, 1)
    decision = Decision.objects.get()
    path = url("followup:decision_detail", decision.pk, language=language)
    client.get(path)
    cache.clear()
    with CaptureQueriesContext(connection) as before:
        client.get(path)
    for action in decision.actions.all():
        for progress in (10, 20, 30):
            followup.report_progress(action=action, actor=staff, progress=progress, note="进展")
    cache.clear()
    assert len(before) == DECISION_QUERIES
    with django_assert_num_queries(DECISION_QUERIES):
        html = client.get(path).content.decode()
    assert html.count("<time") == 6


def test_the_topic_page_links_its_session_and_decision(client, decision, topic, item):
    item.session.status = CouncilSession.Status.CLOSED
    html = client.get(url("mailbox:topic_detail", topic.pk, language="en")).content.decode()
    assert item.session.title_en in html and url("followup:decision_detail", decision.pk, language="en") in html
    assert "Passed" in html
