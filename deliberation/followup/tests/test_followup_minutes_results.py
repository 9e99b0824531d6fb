"""Minutes cannot contradict the results (their results section is generated, read-only; confirmations follow the
text), and every result says what it needed: pages, minutes and mail, in both languages."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation
from wagtail import hooks

from deliberation.council import chain, services
from deliberation.council.factories import AgendaItemFactory
from deliberation.council.models import AgendaItem, Result, outcome_of, threshold_text, yes_needed
from deliberation.council.tests.council_helpers import new_council, open_item, running_session
from deliberation.followup import services as followup
from deliberation.followup.models import MinutesConfirmation, MinutesPage, minutes_results
from deliberation.followup.tests import followup_support
from deliberation.followup.tests.followup_support import chair_of, decide, seats, secretary_of, store_result
from outbox.models import Message

pytestmark = pytest.mark.django_db

council = followup_support.council
session = followup_support.session
topic = followup_support.topic
people = followup_support.people
item = followup_support.item


# --- What a result needed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule, members, zh, en",
    [
        ("two_thirds", 7, "需 5 票赞成（全体 7 人的三分之二）", "Needs 5 votes in favour (two-thirds of all 7 members)"),
        ("two_thirds", 6, "需 4 票赞成（全体 6 人的三分之二）", "Needs 4 votes in favour (two-thirds of all 6 members)"),
        ("absolute", 7, "需 4 票赞成（全体 7 人的过半数）", "Needs 4 votes in favour (more than half of all 7 members)"),
        ("absolute", 6, "需 4 票赞成（全体 6 人的过半数）", "Needs 4 votes in favour (more than half of all 6 members)"),
        ("absolute", 1, "需 1 票赞成（全体 1 人的过半数）", "Needs 1 vote in favour (more than half of all 1 members)"),
        ("simple", 7, "需赞成票多于反对票（简单多数）", "Needs more votes in favour than against (simple majority)"),
    ],
)
def test_threshold_text_in_both_languages(rule, members, zh, en):
    with translation.override("zh-hans"):
        assert threshold_text(rule=rule, members=members) == zh
    with translation.override("en"):
        assert threshold_text(rule=rule, members=members) == en


@pytest.mark.parametrize("rule", ["absolute", "two_thirds"])
def test_the_threshold_is_exactly_what_the_outcome_applies(rule):
    for members in range(1, 13):
        needed = yes_needed(rule=rule, members=members)
        for yes in range(members + 1):
            outcome = outcome_of(rule=rule, yes=yes, no=0, members=members, quorum_met=True)
            assert (outcome == Result.Outcome.PASSED) == (yes >= needed), (rule, members, yes)


@pytest.fixture
def voted(site_pages):
    """A council of 7, 6 present; a two-thirds item closed with 4 in favour (5 needed): not passed."""
    from deliberation.mailbox.factories import community_with_staff

    council, members = new_council(community_with_staff(name="六和社区", code="liuhe"), members=7)
    session, (item,) = running_session(council, present=members[:6], rule=AgendaItem.Rule.TWO_THIRDS)
    open_item(session)
    for seat, choice in zip(members[:6], ["yes", "yes", "yes", "yes", "no", "abstain"], strict=True):
        services.cast_vote(item=item, user=seat.user, choice=choice)
    result = services.close_voting(item=item, actor=members[0].user)
    assert result.outcome == Result.Outcome.FAILED and result.members == 7
    return council, members, session


@pytest.mark.parametrize(
    "language, text",
    [("zh-hans", "需 5 票赞成（全体 7 人的三分之二）"), ("en", "Needs 5 votes in favour (two-thirds of all 7 members)")],
)
def test_the_live_and_public_session_pages_show_what_was_needed(client, voted, language, text):
    council, members, session = voted
    with translation.override(language):
        public = reverse("council:council_session", args=[session.pk])
        live = reverse("council:council_session_live", args=[session.pk])
    assert text in client.get(public).content.decode()
    client.force_login(members[1].user)
    assert text in client.get(live).content.decode()


def test_the_members_get_the_results_with_what_was_needed_and_the_chain_head(voted, django_capture_on_commit_callbacks):
    """One message per member when the session ends: those present in the request to confirm the minutes, the
    absent one in a results message; each with what every item needed and the chain's head."""
    council, members, session = voted
    english = members[2].user.profile
    english.preferred_language = "en"
    english.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.end_session(session=session, actor=members[0].user)
    head = session.chain_links.order_by("-sequence").first()
    messages = Message.objects.filter(kind__in=["deliberation.council_results", "deliberation.minutes_confirm"])
    assert sorted(messages.values_list("recipient_id", flat=True)) == sorted(seat.user.pk for seat in members)
    (absent,) = messages.filter(kind="deliberation.council_results")
    assert absent.recipient == members[6].user
    assert "需 5 票赞成（全体 7 人的三分之二）" in absent.body and "记录校验码" in absent.body and head.mac in absent.body
    to_english = messages.get(recipient=members[2].user)
    assert to_english.kind == "deliberation.minutes_confirm"
    assert "Needs 5 votes in favour (two-thirds of all 7 members)" in to_english.body and head.mac in to_english.body
    assert "4 in favour, 1 against, 1 abstaining" in to_english.body
    to_chinese = messages.get(recipient=members[3].user)
    assert "需 5 票赞成（全体 7 人的三分之二）" in to_chinese.body and head.mac in to_chinese.body


def test_the_result_mail_to_writers_and_supporters_says_what_was_needed(item, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        decide(item, outcome=Result.Outcome.FAILED, yes=1, no=4)
    writer, supporter = people
    by_address = {message.to[0]: message for message in mail.outbox}
    assert "Needs more votes in favour than against (simple majority)" in by_address[supporter.email].body
    assert "需赞成票多于反对票（简单多数）" in by_address[writer.email].body


# --- The minutes' results section ----------------------------------------------------------------------


@pytest.fixture
def minutes(session, council, item):
    store_result(item, outcome=Result.Outcome.FAILED, yes=4, no=1, abstain=0)
    return followup.generate_minutes(session=session, actor=chair_of(council).user)


def test_the_results_section_follows_the_stored_result_whatever_the_free_text_says(client, session, council, minutes):
    secretary = secretary_of(council).user
    followup.edit_minutes(
        session=session,
        actor=secretary,
        body="## 纪要\n\n本议题以 5 票赞成**通过**。",
        body_en="## Minutes\n\nThe motion **passed** with 5 in favour.",
        closing="",
        closing_en="",
    )
    for language, counts, outcome, needed in (
        ("zh-hans", "赞成 4 票，反对 1 票，弃权 0 票", "未通过", "需赞成票多于反对票（简单多数）"),
        ("en", "4 in favour, 1 against, 0 abstaining", "Not passed", "Needs more votes in favour than against (simple majority)"),
    ):
        with translation.override(language):
            results = minutes_results(session=session)
        assert counts in results and outcome in results and needed in results
        assert "赞成 5" not in results and "5 in favour" not in results
    # The editable text holds none of it: nobody can edit the results section.
    zh_page, en_page = followup.minutes_pages(session)
    assert "Not passed" not in en_page.get_latest_revision_as_object().body
    # Published, the page shows the free text and, beside it, the stored result.
    for seat in seats(council)[:3]:
        followup.confirm_minutes(session=session, user=seat.user)
    followup.publish_minutes(session=session, actor=secretary)
    en_page.refresh_from_db()
    html = client.get(en_page.url).content.decode()
    assert "The motion <b>passed</b> with 5 in favour." in html or "The motion <strong>passed</strong> with 5 in favour." in html
    assert "4 in favour, 1 against, 0 abstaining" in html and "Not passed" in html and "data-threshold" in html


def test_the_page_editor_shows_the_results_section_read_only(admin_client, session, council, minutes):
    zh_page, en_page = followup.minutes_pages(session)
    html = admin_client.get(reverse("wagtailadmin_pages:edit", args=[en_page.pk])).content.decode()
    assert "data-minutes-results" in html and "Not passed" in html
    assert 'name="body"' in html and 'name="closing"' in html and 'name="results"' not in html


def test_a_changed_text_clears_the_confirmations_and_asks_those_members_again(session, council, minutes):
    members = seats(council)
    english = members[2].user.profile
    english.preferred_language = "en"
    english.save()
    secretary = secretary_of(council).user
    zh_page, en_page = followup.minutes_pages(session)
    unchanged = followup.markdown_of(zh_page), followup.markdown_of(en_page)
    followup.edit_minutes(session=session, actor=secretary, body=unchanged[0], body_en=unchanged[1])  # as the portal stores it
    for seat in members[2:4]:
        followup.confirm_minutes(session=session, user=seat.user)
    assert followup.current_confirmations(session).count() == 2
    followup.edit_minutes(session=session, actor=secretary, body=unchanged[0], body_en=unchanged[1])
    assert MinutesConfirmation.objects.filter(session=session).count() == 2  # the same text: nothing lapses

    followup.edit_minutes(session=session, actor=secretary, body=unchanged[0], body_en=unchanged[1] + "\n\nOne more line.")
    assert not MinutesConfirmation.objects.filter(session=session).exists()
    notices = Message.objects.filter(kind="deliberation.minutes_reconfirm")
    assert sorted(notices.values_list("recipient_id", flat=True)) == sorted(seat.user.pk for seat in members[2:4])
    assert "were changed after you confirmed them" in notices.get(recipient=members[2].user).body
    assert "您之前的确认已不再有效" in notices.get(recipient=members[3].user).body


def test_an_edit_in_the_page_editor_also_clears_them(session, council, minutes):
    members = seats(council)
    followup.confirm_minutes(session=session, user=members[3].user)
    zh_page, _en_page = followup.minutes_pages(session)
    assert any(hook.__name__ == "minutes_confirmations_follow_the_text" for hook in hooks.get_hooks("after_edit_page"))
    draft = zh_page.get_latest_revision_as_object()
    draft.closing = "<p>其他事项：无。</p>"
    draft.save_revision()
    for hook in hooks.get_hooks("after_edit_page"):
        hook(type("Request", (), {"user": secretary_of(council).user})(), MinutesPage.objects.get(pk=zh_page.pk))
    assert not MinutesConfirmation.objects.filter(session=session).exists()
    assert Message.objects.filter(kind="deliberation.minutes_reconfirm", recipient=members[3].user).exists()


def test_a_confirmation_of_another_text_does_not_count_however_the_text_changed(session, council, minutes):
    for seat in seats(council)[:3]:
        followup.confirm_minutes(session=session, user=seat.user)
    confirmation = MinutesConfirmation.objects.filter(session=session).first()
    assert confirmation.text_digest == followup.minutes_text_digest(session)
    zh_page, _en_page = followup.minutes_pages(session)
    draft = zh_page.get_latest_revision_as_object()
    draft.body += "<p>未经确认的补充。</p>"
    draft.save_revision()  # no hook, no service: e.g. a script
    assert followup.current_confirmations(session).count() == 0
    with translation.override("en"), pytest.raises(followup.FollowUpError, match="need 3 confirmations"):
        followup.publish_minutes(session=session, actor=secretary_of(council).user)
    # A member may confirm the new text.
    followup.confirm_minutes(session=session, user=seats(council)[0].user)
    assert followup.current_confirmations(session).count() == 1


def test_the_results_section_lists_an_item_not_voted_on(session, council, minutes):
    AgendaItemFactory(session=session, position=2, title="未表决", title_en="Not voted")
    with translation.override("en"):
        second = minutes_results(session=session).split("2. Not voted</h3>")[1]
    assert "Not voted on." in second


def test_a_draft_saved_in_the_editor_after_publication_leaves_the_confirmations(session, council, minutes):
    """Published minutes are final: the confirmations they were published on stay (the chain covers them)."""
    members = seats(council)
    for seat in members[:3]:
        followup.confirm_minutes(session=session, user=seat.user)
    followup.publish_minutes(session=session, actor=secretary_of(council).user)
    zh_page, _en_page = followup.minutes_pages(session)
    draft = zh_page.get_latest_revision_as_object()
    draft.body += "<p>发布后的修改。</p>"
    draft.save_revision()
    assert followup.minutes_edited_in_admin(page=MinutesPage.objects.get(pk=zh_page.pk), actor=members[1].user) == 0
    assert MinutesConfirmation.objects.filter(session=session).count() == 3
    assert chain.verify_chain(council=council) == []  # (the helper's results carry made-up digests: the chain alone)
