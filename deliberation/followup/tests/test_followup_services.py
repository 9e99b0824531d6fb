"""The council's follow-up services: minutes, decisions and their notice period, objections, actions."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone, translation
from wagtail.models import ModelLogEntry

from deliberation.council.factories import AgendaItemFactory, CouncilSessionFactory
from deliberation.council.models import AgendaItem, Choice, CouncilMember, CouncilSession, Participation, Result, Vote
from deliberation.followup import services as followup
from deliberation.followup.models import (
    Decision,
    FollowUpAction,
    MinutesConfirmation,
    MinutesIndexPage,
    MinutesPage,
    Objection,
    minutes_results,
)
from deliberation.followup.tests import followup_support
from deliberation.followup.tests.followup_support import chair_of, decide, seats, secretary_of, store_result
from deliberation.mailbox.factories import resident, staff_member
from deliberation.mailbox.models import Letter, LetterEvent, Topic
from home.factories import UserFactory
from plumbing import workdays
from points.models import LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Errors are read in English here; mail is rendered in each recipient's language whatever is active."""
    with translation.override("en"):
        yield


council = followup_support.council
staff = followup_support.staff
session = followup_support.session
topic = followup_support.topic
people = followup_support.people
item = followup_support.item


# --- Minutes ----------------------------------------------------------------------------------


def test_generated_minutes_are_two_drafts_each_in_its_own_language(session, council, topic):
    open_item = AgendaItemFactory(session=session, topic=topic, position=1)
    secret_item = AgendaItemFactory(
        session=session, position=2, ballot=AgendaItem.Ballot.SECRET, title="选举", title_en="Election"
    )
    members = seats(council)
    for seat, choice in zip(members[:3], [Choice.YES, Choice.YES, Choice.NO], strict=True):
        Vote.objects.create(item=open_item, member=seat, choice=choice)
    for seat in members[:3]:
        Participation.objects.create(item=secret_item, member=seat)
    decide(open_item, yes=2, no=1)
    store_result(secret_item, yes=3, no=0, outcome=Result.Outcome.PASSED)

    page = followup.generate_minutes(session=session, actor=secretary_of(council).user)

    zh_page, en_page = followup.minutes_pages(session)
    assert page == zh_page and en_page is not None
    assert not zh_page.live and not en_page.live
    assert zh_page.translation_key == en_page.translation_key
    assert isinstance(zh_page.get_parent().specific, MinutesIndexPage) and zh_page.get_parent().title == "会议纪要"
    assert en_page.get_parent().title == "Minutes" and en_page.get_parent().live
    first = members[0].user.profile.display_name
    assert first in zh_page.body and first in en_page.body  # attendance, in the free text before the results
    assert "Decisions" in en_page.closing and open_item.motion_en in en_page.closing  # after them
    # The results are not in the editable text: they are rendered from the stored results, in each language.
    assert open_item.motion_en not in en_page.body and open_item.motion not in zh_page.body
    with translation.override("en"):
        results_en = minutes_results(session=session)
    with translation.override("zh-hans"):
        results_zh = minutes_results(session=session)
    assert "Motion" in results_en and "In favour" in results_en
    assert open_item.motion in results_zh and open_item.motion_en in results_en
    # Secret ballot: counts only; the open ballot names who voted how.
    secret_part = results_en.split("Election")[1]
    assert "In favour:" not in secret_part and "3 in favour" in secret_part
    assert f"In favour: {first}" in results_en
    assert ModelLogEntry.objects.filter(action="followup.minutes.generate", object_id=str(session.pk)).exists()
    # A second call keeps the minutes the session has.
    assert followup.generate_minutes(session=session, actor=None) == zh_page
    assert MinutesPage.objects.filter(session=session).count() == 2


def test_only_the_chair_secretary_or_staff_generate_minutes_of_a_session_that_took_place(session, council, staff):
    plain = council.members.filter(role=CouncilMember.Role.MEMBER).first().user
    with pytest.raises(followup.NotAllowed):
        followup.generate_minutes(session=session, actor=plain)
    upcoming = CouncilSessionFactory(council=council, status=CouncilSession.Status.ANNOUNCED)
    with pytest.raises(followup.FollowUpError):
        followup.generate_minutes(session=upcoming, actor=staff)
    assert not MinutesPage.objects.exists()
    assert followup.generate_minutes(session=session, actor=staff).pk


@pytest.fixture
def minutes(session, council):
    return followup.generate_minutes(session=session, actor=chair_of(council).user)


def test_the_secretary_edits_both_languages_and_earlier_confirmations_lapse(session, council, minutes):
    secretary = secretary_of(council).user
    followup.confirm_minutes(session=session, user=chair_of(council).user)
    followup.edit_minutes(
        session=session, actor=secretary, body="## 纪要\n\n会议**通过**。", body_en="## Minutes\n\nThe motion **passed**."
    )
    zh_page, en_page = followup.minutes_pages(session)
    assert "<b>通过</b>" in zh_page.get_latest_revision_as_object().body
    assert "<h2>Minutes</h2>" in en_page.get_latest_revision_as_object().body
    assert not zh_page.live and not en_page.live
    assert not MinutesConfirmation.objects.filter(session=session).exists()
    # Markup beyond the minutes' features is dropped, not stored.
    followup.edit_minutes(session=session, actor=secretary, body="<script>alert(1)</script>纪要", body_en="Minutes")
    assert "<script" not in zh_page.get_latest_revision_as_object().body


@pytest.mark.parametrize("body, body_en", [("", "Minutes"), ("纪要", "   ")])
def test_empty_minutes_are_refused_and_nothing_changes(session, council, minutes, body, body_en):
    before = {page.pk: page.get_latest_revision().pk for page in followup.minutes_pages(session)}
    with pytest.raises(followup.FollowUpError):
        followup.edit_minutes(session=session, actor=secretary_of(council).user, body=body, body_en=body_en)
    assert {page.pk: page.get_latest_revision().pk for page in followup.minutes_pages(session)} == before


def test_a_plain_member_cannot_edit_the_minutes(session, council, minutes):
    plain = council.members.filter(role=CouncilMember.Role.MEMBER).first().user
    with pytest.raises(followup.NotAllowed):
        followup.edit_minutes(session=session, actor=plain, body="改", body_en="Changed")


def test_the_secretary_of_the_session_keeps_its_minutes_after_their_term_ends(council):
    """Who keeps the minutes is decided for the session's own day (the voting services' rule), not for today."""
    held = followup_support.held_session(council, starts_at=timezone.now() - datetime.timedelta(days=40))
    followup.generate_minutes(session=held, actor=chair_of(council).user)
    secretary = secretary_of(council)
    secretary.term_end = timezone.localdate() - datetime.timedelta(days=10)
    secretary.save(update_fields=["term_end"])
    followup.edit_minutes(session=held, actor=secretary.user, body="卸任前主持的会议纪要", body_en="Minutes")
    zh_page, _en_page = followup.minutes_pages(held)
    assert "卸任前主持的会议纪要" in zh_page.get_latest_revision_as_object().body


def test_members_present_confirm_once_others_are_refused(session, council, minutes):
    members = seats(council)
    followup.confirm_minutes(session=session, user=members[2].user)
    with pytest.raises(followup.FollowUpError, match="already"):
        followup.confirm_minutes(session=session, user=members[2].user)
    absent = members[6].user  # a member, but not present
    with pytest.raises(followup.NotAllowed):
        followup.confirm_minutes(session=session, user=absent)
    with pytest.raises(followup.NotAllowed):
        followup.confirm_minutes(session=session, user=resident(council.community))
    assert MinutesConfirmation.objects.filter(session=session).count() == 1


def test_publishing_needs_more_than_half_of_those_present(session, council, minutes, django_capture_on_commit_callbacks):
    members, secretary = seats(council), secretary_of(council).user
    for seat in members[:2]:
        followup.confirm_minutes(session=session, user=seat.user)
    with pytest.raises(followup.FollowUpError, match="3"):
        followup.publish_minutes(session=session, actor=secretary)
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.CLOSED and not MinutesPage.objects.filter(live=True).exists()
    followup.confirm_minutes(session=session, user=members[2].user)
    with pytest.raises(followup.NotAllowed):
        followup.publish_minutes(session=session, actor=members[3].user)
    with django_capture_on_commit_callbacks(execute=True):
        followup.publish_minutes(session=session, actor=secretary)
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.MINUTES_PUBLISHED
    assert MinutesPage.objects.filter(session=session, live=True).count() == 2
    assert ModelLogEntry.objects.filter(action="followup.minutes.publish", user=secretary).exists()
    # Published minutes are final.
    with pytest.raises(followup.FollowUpError, match="published"):
        followup.edit_minutes(session=session, actor=secretary, body="改", body_en="Changed")
    with pytest.raises(followup.FollowUpError):
        followup.confirm_minutes(session=session, user=members[3].user)
    with pytest.raises(followup.FollowUpError, match="already"):
        followup.publish_minutes(session=session, actor=secretary)


# --- Results and decisions -----------------------------------------------------------------


def test_a_passed_item_becomes_a_decision_posted_for_the_notice_period(
    item, topic, people, council, django_capture_on_commit_callbacks
):
    writer, supporter = people
    chair = chair_of(council).user
    with django_capture_on_commit_callbacks(execute=True):
        decision = decide(item, actor=chair)
    assert decision.status == Decision.Status.NOTICE
    assert decision.notice_until == workdays.add(timezone.localdate(), 5)
    assert decision.summary == item.motion and decision.summary_en == item.motion_en and decision.topic == topic
    topic.refresh_from_db()
    assert topic.status == Topic.Status.DECIDED
    # The letters' timelines show the step; each person gets one message, in their language.
    assert LetterEvent.objects.filter(kind=LetterEvent.Kind.TOPIC_STATUS, topic_status=Topic.Status.DECIDED).count() == 2
    assert not LetterEvent.objects.filter(kind=LetterEvent.Kind.TOPIC_STATUS, notified_at__isnull=True).exists()
    by_address = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_address) == sorted([writer.email, supporter.email, "guest@example.com"])
    # (The Chinese catalogue is filled in at the end: the writer's message is told apart by its links.)
    assert "/zh-hans/me/letters/" in by_address[writer.email].body
    assert "The council has voted" in by_address[supporter.email].subject
    assert f"/en/council/decisions/{decision.pk}/" in by_address[supporter.email].body
    assert "/en/mailbox/track/" in by_address["guest@example.com"].body
    # The writer's suggestion was adopted: points, once.
    assert (
        LedgerEntry.objects.filter(account__resident=writer, source_key=f"deliberation.adopted:{decision.pk}:{writer.pk}").count()
        == 1
    )
    assert not LedgerEntry.objects.filter(account__resident=supporter).exists()
    decision.refresh_from_db()
    assert decision.suggestion_points_awarded
    assert ModelLogEntry.objects.filter(action="followup.decision.create", user=chair).exists()


def test_with_no_notice_period_a_decision_is_in_effect_at_once(session, council):
    council.notice_days = 0
    council.save()
    decision = decide(AgendaItemFactory(session=session, position=1))
    assert decision.status == Decision.Status.IN_EFFECT and decision.notice_until is None and decision.effective_at


def test_a_procedural_item_without_public_notice_takes_effect_when_voting_closes(session, council, community):
    closed = timezone.now() - datetime.timedelta(minutes=3)
    procedural = AgendaItemFactory(session=session, position=1, title="通过上次会议纪要", public_notice=False)
    decision = decide(procedural, closed_at=closed)
    assert (decision.status, decision.notice_until, decision.effective_at) == (Decision.Status.IN_EFFECT, None, closed)
    with pytest.raises(followup.FollowUpError, match="notice period"):
        followup.file_objection(decision=decision, resident=resident(community), text="不同意")
    assert not Objection.objects.exists()
    # The same council's other items still get their notice period.
    ordinary = decide(AgendaItemFactory(session=session, position=2))
    assert ordinary.status == Decision.Status.NOTICE and ordinary.notice_until


def test_a_failed_item_sends_its_topic_back_to_the_shortlist_and_tells_everyone(
    item, topic, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert decide(item, outcome=Result.Outcome.FAILED, yes=1, no=4) is None
    topic.refresh_from_db()
    assert topic.status == Topic.Status.SHORTLISTED and not Decision.objects.exists()
    assert len(mail.outbox) == 3
    english = next(message for message in mail.outbox if message.to == [people[1].email])
    assert "did not pass" in english.body and "Not passed" in english.body


def test_a_shortlisted_topic_passed_without_being_scheduled_is_still_decided(item, topic):
    Topic.objects.filter(pk=topic.pk).update(status=Topic.Status.SHORTLISTED)
    decide(item)
    topic.refresh_from_db()
    assert topic.status == Topic.Status.DECIDED


@pytest.fixture
def decision(item):
    return decide(item)


def test_verified_residents_object_during_the_notice_period_one_open_objection_each(decision, community):
    neighbour = resident(community, preferred_language="en")
    objection = followup.file_objection(decision=decision, resident=neighbour, text="  Too close to my window.  ")
    assert objection.text == "Too close to my window." and objection.language == "en"
    with pytest.raises(followup.FollowUpError, match="waiting"):
        followup.file_objection(decision=decision, resident=neighbour, text="Again")
    with pytest.raises(followup.FollowUpError):
        followup.file_objection(decision=decision, resident=resident(community), text="   ")
    with pytest.raises(followup.FollowUpError):
        followup.file_objection(decision=decision, resident=resident(community), text="长" * 2001)
    unverified = UserFactory()
    with pytest.raises(followup.NotAllowed):
        followup.file_objection(decision=decision, resident=unverified, text="不同意")
    assert Objection.objects.count() == 1


def test_no_objection_outside_the_notice_period(decision, community, monkeypatch):
    later = decision.notice_until + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args: later)
    with pytest.raises(followup.FollowUpError, match="notice period"):
        followup.file_objection(decision=decision, resident=resident(community), text="太晚了")
    assert not Objection.objects.exists()


def test_staff_answer_objections_and_the_objector_hears_in_their_language(
    decision, community, staff, council, django_capture_on_commit_callbacks
):
    neighbour = resident(community, preferred_language="en")
    objection = followup.file_objection(decision=decision, resident=neighbour, text="Too noisy at night.")
    with pytest.raises(followup.NotAllowed):
        followup.answer_objection(objection=objection, actor=chair_of(council).user, answer="不行")
    with pytest.raises(followup.FollowUpError):
        followup.answer_objection(objection=objection, actor=staff, answer="  ")
    with django_capture_on_commit_callbacks(execute=True):
        followup.answer_objection(objection=objection, actor=staff, answer="车位只在晚上使用。")
    objection.refresh_from_db()
    assert objection.answered_by == staff and objection.answered_at
    (message,) = mail.outbox
    assert message.to == [neighbour.email] and message.subject == "Your objection has been answered"
    assert "车位只在晚上使用。" in message.body and "Too noisy at night." in message.body
    with pytest.raises(followup.FollowUpError, match="already"):
        followup.answer_objection(objection=objection, actor=staff, answer="again")
    # Once answered, the same resident may object again.
    followup.file_objection(decision=decision, resident=neighbour, text="Still too noisy.")


@pytest.mark.parametrize(
    ("language", "answer_en", "expected", "not_expected"),
    [
        ("en", "Parking is used only at night.", "Parking is used only at night.", "车位只在晚上使用。"),
        ("en", "", "车位只在晚上使用。 (no English yet)", "Parking"),
        ("zh-hans", "Parking is used only at night.", "车位只在晚上使用。", "Parking"),
    ],
)
def test_the_answer_mail_gives_the_answer_in_the_objectors_language(
    decision, community, staff, language, answer_en, expected, not_expected, django_capture_on_commit_callbacks
):
    neighbour = resident(community, preferred_language=language)
    objection = followup.file_objection(decision=decision, resident=neighbour, text="不同意")
    with django_capture_on_commit_callbacks(execute=True):
        followup.answer_objection(objection=objection, actor=staff, answer=" 车位只在晚上使用。 ", answer_en=f" {answer_en} ")
    objection.refresh_from_db()
    assert (objection.answer, objection.answer_en) == ("车位只在晚上使用。", answer_en)
    (message,) = mail.outbox
    assert expected in message.body and not_expected not in message.body
    assert message.subject == ("Your objection has been answered" if language == "en" else "您的异议已得到答复")


def test_an_english_answer_longer_than_the_limit_is_refused(decision, community, staff):
    objection = followup.file_objection(decision=decision, resident=resident(community), text="不同意")
    with pytest.raises(followup.FollowUpError, match="at most"):
        followup.answer_objection(objection=objection, actor=staff, answer="好", answer_en="x" * (followup.MAX_ANSWER_CHARS + 1))
    objection.refresh_from_db()
    assert objection.answered_at is None and objection.answer_en == ""


def test_a_decision_takes_effect_after_its_notice_period_once_every_objection_is_answered(decision, community, staff):
    objection = followup.file_objection(decision=decision, resident=resident(community), text="不同意")
    assert followup.take_effect_due(today=decision.notice_until) == 0  # the last day of the period
    after = decision.notice_until + datetime.timedelta(days=1)
    assert followup.take_effect_due(today=after) == 0  # an objection waits for its answer
    decision.refresh_from_db()
    assert decision.status == Decision.Status.NOTICE
    followup.answer_objection(objection=objection, actor=staff, answer="已考虑。")
    assert followup.take_effect_due(today=after) == 1
    decision.refresh_from_db()
    assert decision.status == Decision.Status.IN_EFFECT and decision.effective_at
    assert ModelLogEntry.objects.filter(action="followup.decision.effect").count() == 1
    assert followup.take_effect_due(today=after) == 0


# --- Follow-up actions ----------------------------------------------------------------------


def in_a_week() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=7)


def test_staff_add_actions_and_the_topic_is_in_follow_up(decision, topic, staff, council):
    action = followup.add_action(
        decision=decision,
        actor=staff,
        description="施划停车位",
        description_en="Mark out the bays",
        party=FollowUpAction.Party.PROPERTY_MANAGEMENT,
        due_on=in_a_week(),
    )
    assert action.created_by == staff and action.progress == 0
    topic.refresh_from_db()
    assert topic.status == Topic.Status.FOLLOW_UP
    with translation.override("en"):
        assert action.display_description == "Mark out the bays"
    with pytest.raises(followup.NotAllowed):
        followup.add_action(
            decision=decision, actor=chair_of(council).user, description="x", party="street_office", due_on=in_a_week()
        )
    for bad in (
        {"description": " ", "party": "street_office", "due_on": in_a_week()},
        {"description": "x", "party": "mayor", "due_on": in_a_week()},
        {"description": "x", "party": "street_office", "due_on": timezone.localdate() - datetime.timedelta(days=1)},
        {"description": "长" * 201, "party": "street_office", "due_on": in_a_week()},
    ):
        with pytest.raises(followup.FollowUpError):
            followup.add_action(decision=decision, actor=staff, **bad)
    assert FollowUpAction.objects.count() == 1


def test_progress_reports_complete_the_decision_close_the_topic_and_ask_about_satisfaction(
    decision, topic, people, staff, django_capture_on_commit_callbacks
):
    writer, supporter = people
    Decision.objects.filter(pk=decision.pk).update(status=Decision.Status.IN_EFFECT, effective_at=timezone.now())
    first = followup.add_action(
        decision=decision, actor=staff, description="施划", party="property_management", due_on=in_a_week()
    )
    second = followup.add_action(
        decision=decision, actor=staff, description="公示", party="residents_committee", due_on=in_a_week()
    )
    for bad in (-1, 101, "50", True):
        with pytest.raises(followup.FollowUpError):
            followup.report_progress(action=first, actor=staff, progress=bad)
    update = followup.report_progress(action=first, actor=staff, progress=40, note="已完成一半", note_en="Half done")
    assert update.progress == 40 and update.author == staff
    followup.report_progress(action=first, actor=staff, progress=100)
    first.refresh_from_db()
    assert first.completed_at and first.progress == 100
    with pytest.raises(followup.FollowUpError, match="already complete"):
        followup.report_progress(action=first, actor=staff, progress=100)
    decision.refresh_from_db()
    assert decision.status == Decision.Status.IN_EFFECT
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        followup.report_progress(action=second, actor=staff, progress=100, note="已公示")
    decision.refresh_from_db()
    topic.refresh_from_db()
    assert decision.status == Decision.Status.COMPLETED and decision.completed_at
    assert topic.status == Topic.Status.CLOSED
    by_address = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_address) == sorted([writer.email, supporter.email, "guest@example.com"])
    assert "/zh-hans/me/letters/" in by_address[writer.email].body
    assert "satisfied" in by_address[supporter.email].subject
    letter = Letter.objects.get(writer=writer)
    assert letter.is_closed and letter.satisfied is None  # the letter page now asks the question


def test_progress_only_by_staff(decision, staff, council):
    action = followup.add_action(
        decision=decision, actor=staff, description="施划", party="property_management", due_on=in_a_week()
    )
    with pytest.raises(followup.NotAllowed):
        followup.report_progress(action=action, actor=chair_of(council).user, progress=10)
    action.refresh_from_db()
    assert action.progress == 0 and not action.updates.exists()


def test_a_decision_whose_actions_are_done_during_the_notice_period_completes_when_it_takes_effect(decision, staff):
    action = followup.add_action(
        decision=decision, actor=staff, description="施划", party="property_management", due_on=in_a_week()
    )
    followup.report_progress(action=action, actor=staff, progress=100)
    decision.refresh_from_db()
    assert decision.status == Decision.Status.NOTICE
    followup.take_effect_due(today=decision.notice_until + datetime.timedelta(days=1))
    decision.refresh_from_db()
    assert decision.status == Decision.Status.COMPLETED


def test_overdue_actions_are_escalated_to_the_heads_once(decision, staff, community, django_capture_on_commit_callbacks):
    head = staff_member(community, head=True, username="head-liuhe")
    action = followup.add_action(
        decision=decision, actor=staff, description="施划", party="property_management", due_on=in_a_week()
    )
    assert followup.escalate_overdue_actions(today=in_a_week()) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert followup.escalate_overdue_actions(today=in_a_week() + datetime.timedelta(days=1)) == 1
    action.refresh_from_db()
    assert action.escalated_at and action.is_overdue(today=in_a_week() + datetime.timedelta(days=1))
    (message,) = mail.outbox
    assert message.to == [head.email] and "施划" in message.subject
    assert f"/admin/council-follow-up/{decision.pk}/" in message.body
    assert followup.escalate_overdue_actions(today=in_a_week() + datetime.timedelta(days=2)) == 0


def test_members_present_are_asked_to_confirm_the_draft_in_their_language(session, council, django_capture_on_commit_callbacks):
    english = seats(council)[2]
    english.user.profile.preferred_language = "en"
    english.user.profile.save()
    with django_capture_on_commit_callbacks(execute=True):
        followup.generate_minutes(session=session, actor=secretary_of(council).user)
    present = {seat.user.email for seat in seats(council)[:5]}
    assert {message.to[0] for message in mail.outbox} == present and len(mail.outbox) == 5
    (to_english,) = [message for message in mail.outbox if message.to == [english.user.email]]
    assert to_english.subject.startswith("Please confirm the minutes of Third-quarter council session")
    assert f"/en/me/council/sessions/{session.pk}/minutes/" in to_english.body
    with django_capture_on_commit_callbacks(execute=True):
        followup.generate_minutes(session=session, actor=None)  # already generated: nobody is asked twice
    assert len(mail.outbox) == 5


def test_the_follow_up_tasks_are_registered_and_do_their_work(decision, staff):
    from deliberation.followup import tasks
    from plumbing.periodic import registered

    periodic = {task.name: task.every for task in registered()}
    assert periodic["deliberation.followup.tasks.decisions_take_effect"] == datetime.timedelta(hours=1)
    assert periodic["deliberation.followup.tasks.escalate_overdue_actions"] == datetime.timedelta(hours=1)
    Decision.objects.filter(pk=decision.pk).update(notice_until=timezone.localdate() - datetime.timedelta(days=1))
    assert tasks.decisions_take_effect.enqueue().return_value == 1
    action = followup.add_action(
        decision=decision, actor=staff, description="施划", party="street_office", due_on=timezone.localdate()
    )
    FollowUpAction.objects.filter(pk=action.pk).update(due_on=timezone.localdate() - datetime.timedelta(days=1))
    assert tasks.escalate_overdue_actions.enqueue().return_value == 1
