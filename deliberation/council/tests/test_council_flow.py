"""The council's flow on the web (issue 14): recusals recorded by the secretary and withdrawn, the chair's count
of votes cast, refusals shown at the item, the door page of an online session, and the places decisions are
found. Every page in both languages."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from deliberation.council import services as voting
from deliberation.council.factories import AgendaItemFactory, CouncilSessionFactory, council_with_members
from deliberation.council.models import AgendaItem, Attendance, CouncilSession, Recusal, Vote
from deliberation.mailbox.factories import community_with_staff, staff_member
from deliberation.mailbox.models import Topic

pytestmark = pytest.mark.django_db


def url(name, *args, language="zh-hans"):
    with translation.override(language):
        return reverse(name, args=args)


@pytest.fixture
def council(site_pages):
    return council_with_members(members=5, community=community_with_staff(name="六和社区", code="liuhe"))


@pytest.fixture
def seats(council):
    members = list(council.members.select_related("user__profile").order_by("pk"))
    return {"chair": members[0], "secretary": members[1], "members": members[2:]}


@pytest.fixture
def session(council):
    return CouncilSessionFactory(
        council=council, status=CouncilSession.Status.IN_SESSION, starts_at=timezone.now() - datetime.timedelta(minutes=10)
    )


@pytest.fixture
def item(session):
    return AgendaItemFactory(session=session, position=1)


def live(session, language="zh-hans"):
    return url("council:council_session_live", session.pk, language=language)


def present(session, *seats):
    for seat in seats:
        Attendance.objects.create(session=session, member=seat, method=Attendance.Method.ONLINE)


def post(client, session, **data):
    return client.post(live(session), data)


def name_of(seat) -> str:
    return seat.user.profile.display_name


# --- Recusals on the live page ------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_secretary_records_a_recusal_and_withdraws_it_before_voting_opens(client, seats, session, item, language):
    target = seats["members"][0]
    present(session, seats["chair"], seats["secretary"], target)
    client.force_login(seats["secretary"].user)
    page = client.get(live(session, language)).content.decode()
    assert 'data-action="record-recusal"' in page and 'data-action="open"' not in page  # the secretary does not chair
    response = client.post(
        live(session, language), {"action": "record_recusal", "item": item.pk, "member": target.pk, "reason": "施工方是我女婿"}
    )
    assert response["Location"].endswith(f"#item-{item.pk}")
    recusal = Recusal.objects.get(item=item)
    assert (recusal.member, recusal.reason, recusal.recorded_by) == (target, "施工方是我女婿", seats["secretary"].user)
    page = client.get(live(session, language)).content.decode()
    assert f'data-recusal="{target.pk}"' in page and "施工方是我女婿" in page
    assert ("由秘书登记" if language == "zh-hans" else "recorded by the secretary") in page
    # The member sees it on their own page and may withdraw it too; here the secretary does.
    member = Client()
    member.force_login(target.user)
    assert "data-recused" in member.get(live(session, language)).content.decode()
    client.post(live(session, language), {"action": "withdraw_recusal", "item": item.pk, "recusal": recusal.pk})
    assert not Recusal.objects.exists()
    assert "data-recusal=" not in client.get(live(session, language)).content.decode()


def test_the_member_withdraws_their_own_recusal_and_not_after_voting_opens(client, seats, session, item):
    everyone = [seats["chair"], seats["secretary"], *seats["members"]]
    present(session, *everyone)
    seat = seats["members"][0]
    client.force_login(seat.user)
    post(client, session, action="recuse", item=item.pk, reason="我家车位在此")
    recusal = Recusal.objects.get(member=seat)
    page = client.get(live(session)).content.decode()
    assert 'data-action="withdraw-recusal"' in page
    post(client, session, action="withdraw_recusal", item=item.pk, recusal=recusal.pk)
    assert not Recusal.objects.exists()
    recusal = voting.declare_recusal(item=item, user=seat.user)
    voting.open_voting(item=item, actor=seats["chair"].user)
    page = client.get(live(session)).content.decode()
    assert 'data-action="withdraw-recusal"' not in page
    response = post(client, session, action="withdraw_recusal", item=item.pk, recusal=recusal.pk)
    assert response["Location"].endswith(f"#item-{item.pk}-error")
    page = client.get(live(session)).content.decode()
    assert "data-item-error" in page and "表决已经开始" in page
    assert Recusal.objects.filter(pk=recusal.pk).exists()


def test_a_recusal_after_voting_is_refused_at_the_item_and_the_vote_stays(client, seats, session, item):
    target = seats["members"][0]
    present(session, seats["chair"], seats["secretary"], *seats["members"])
    voting.open_voting(item=item, actor=seats["chair"].user)
    voting.cast_vote(item=item, user=target.user, choice="yes")
    client.force_login(seats["secretary"].user)
    response = post(client, session, action="record_recusal", item=item.pk, member=target.pk, reason="亲属")
    assert response["Location"].endswith(f"#item-{item.pk}-error")
    page = client.get(live(session)).content.decode()
    assert f'id="item-{item.pk}-error"' in page and "已就此议项投票" in page
    assert Vote.objects.get(item=item).choice == "yes" and not Recusal.objects.exists()
    # Shown once: the next page is without it.
    assert "data-item-error" not in client.get(live(session)).content.decode()


def test_a_plain_member_cannot_record_or_withdraw_anothers_recusal(client, seats, session, item):
    target, other = seats["members"][0], seats["members"][1]
    present(session, target, other)
    client.force_login(other.user)
    assert 'data-action="record-recusal"' not in client.get(live(session)).content.decode()
    post(client, session, action="record_recusal", item=item.pk, member=target.pk, reason="亲属")
    assert not Recusal.objects.exists()
    recusal = voting.declare_recusal(item=item, user=target.user)
    post(client, session, action="withdraw_recusal", item=item.pk, recusal=recusal.pk)
    assert Recusal.objects.filter(pk=recusal.pk).exists()


# --- The count of votes cast ----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_chair_and_secretary_see_how_many_have_voted_members_do_not(client, council, seats, session, item, language):
    present(session, seats["chair"], seats["secretary"], *seats["members"])
    voting.declare_recusal(item=item, user=seats["members"][2].user)
    voting.open_voting(item=item, actor=seats["chair"].user)
    voting.cast_vote(item=item, user=seats["members"][0].user, choice="no")
    voting.cast_vote(item=item, user=seats["members"][1].user, choice="yes")
    expected = "已投票 2 / 4" if language == "zh-hans" else "Voted: 2 of 4"
    for viewer in (seats["chair"].user, seats["secretary"].user, staff_member(council.community)):
        client.force_login(viewer)
        page = client.get(live(session, language)).content.decode()
        assert 'data-votes-cast="2/4"' in page and expected in page
        assert "result-figures" not in page and "data-outcome" not in page  # a count of voters, never of choices
    client.force_login(seats["members"][0].user)
    assert "data-votes-cast" not in client.get(live(session, language)).content.decode()


# --- Refusals at the item ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_opening_without_quorum_shows_the_refusal_at_the_item(client, seats, session, item, language):
    second = AgendaItemFactory(session=session, position=2)
    present(session, seats["chair"], seats["secretary"])
    client.force_login(seats["chair"].user)
    response = client.post(live(session, language), {"action": "open", "item": second.pk})
    assert response["Location"] == f"{live(session, language)}#item-{second.pk}-error"
    page = client.get(response["Location"]).content.decode()
    at_item = page.split(f'id="item-{second.pk}"')[1].split("</li>")[0]
    assert f'id="item-{second.pk}-error"' in at_item and 'role="alert"' in at_item
    assert ("法定人数" if language == "zh-hans" else "No quorum") in at_item
    assert "data-item-error" not in page.split(f'id="item-{second.pk}"')[0]  # not at the first item
    second.refresh_from_db()
    assert second.status == AgendaItem.Status.PENDING


# --- The door page -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_door_page_of_an_online_session_links_the_session_page_and_offers_no_check_in(client, council, seats, language):
    session = CouncilSessionFactory(council=council, status=CouncilSession.Status.IN_SESSION, mode=CouncilSession.Mode.ONLINE)
    client.force_login(seats["members"][0].user)
    door = url("council:council_door", session.pk, session.door_key, language=language)
    response = client.get(door)
    main = response.content.decode().split("<main")[-1]
    assert response.status_code == 200
    assert 'type="submit"' not in main and "data-door-online" in main
    assert f'href="{live(session, language)}"' in main
    sentence = "无需在门口签到" if language == "zh-hans" else "no check-in at the door"
    assert main.count(sentence) == 1
    client.post(door)  # a tap from an old page: nothing happens
    assert not Attendance.objects.exists()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_door_page_of_an_in_person_session_still_checks_in(client, council, seats, language):
    session = CouncilSessionFactory(
        council=council,
        status=CouncilSession.Status.IN_SESSION,
        mode=CouncilSession.Mode.IN_PERSON,
        starts_at=timezone.now() - datetime.timedelta(minutes=10),
    )
    client.force_login(seats["members"][0].user)
    door = url("council:council_door", session.pk, session.door_key, language=language)
    assert 'type="submit"' in client.get(door).content.decode().split("<main")[-1]
    response = client.post(door)
    assert response["Location"] == live(session, language)
    assert Attendance.objects.get().method == Attendance.Method.QR


# --- The agenda offers only free topics; no session in the past (item 12) ------------------------------


@pytest.fixture
def admin_user(council):
    from deliberation.mailbox.tests.test_admin import admin_staff

    return admin_staff(council.community, username="staff-flow")


def shortlisted(council, staff, writer=None, title="增加小区停车位", letters=1):
    from deliberation.mailbox import services as mailbox
    from deliberation.mailbox.factories import TopicFactory, resident, web_letter

    topic = TopicFactory(community=council.community, status=Topic.Status.SHORTLISTED, title=title)
    writer = writer or resident(council.community)
    for _number in range(letters):
        mailbox.merge_letter(letter=web_letter(writer=writer, community=council.community), topic=topic, actor=staff)
    return topic


def future_session(council, **fields):
    fields.setdefault("starts_at", timezone.now() + datetime.timedelta(days=5))
    return CouncilSessionFactory(council=council, status=fields.pop("status", CouncilSession.Status.DRAFT), **fields)


@pytest.fixture
def _english():
    with translation.override("en"):
        yield


@pytest.mark.usefixtures("_english")
def test_a_session_cannot_be_created_or_moved_into_the_past(council, admin_user):
    past = timezone.now() - datetime.timedelta(hours=1)
    with pytest.raises(voting.CouncilError, match="start time has passed"):
        voting.create_session(
            council=council, actor=admin_user, title="议事会", starts_at=past, ends_at=past + datetime.timedelta(hours=2),
            mode="hybrid",
        )  # fmt: skip
    assert not CouncilSession.objects.exists()
    session = future_session(council)
    planned = session.starts_at
    with pytest.raises(voting.CouncilError, match="start time has passed"):
        voting.update_session(session=session, actor=admin_user, starts_at=past, ends_at=past + datetime.timedelta(hours=2))
    session.refresh_from_db()
    assert session.starts_at == planned
    voting.update_session(session=session, actor=admin_user, title="改名的议事会")  # other changes need no new time


def test_the_admin_session_form_refuses_a_start_in_the_past(client, council, admin_user):
    client.force_login(admin_user)
    past = timezone.localtime() - datetime.timedelta(days=1)
    response = client.post(
        reverse("council_admin:session_new", args=[council.pk]),
        {"title": "议事会", "starts_at": past.strftime("%Y-%m-%dT%H:%M"),
         "ends_at": (past + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), "mode": "hybrid"},
    )  # fmt: skip
    assert response.status_code == 200 and "开始时间已过" in response.content.decode()
    assert not CouncilSession.objects.exists()


def test_the_agenda_offers_only_topics_free_for_it(council, admin_user):
    from deliberation.council.forms import ItemForm
    from deliberation.followup.models import Decision

    elsewhere, free, decided = (shortlisted(council, admin_user, title=t) for t in ("东侧停车", "加装电梯", "垃圾分类"))
    other = future_session(council, title="另一场", title_en="Another session")
    AgendaItemFactory(session=other, position=1, topic=elsewhere)
    closed = future_session(council, status=CouncilSession.Status.CLOSED)
    decision_item = AgendaItemFactory(session=closed, position=1, topic=decided, status=AgendaItem.Status.CLOSED)
    Decision.objects.create(item=decision_item, topic=decided, summary="通过")
    session = future_session(council)
    offered = set(ItemForm(council=council).fields["topic"].queryset)
    assert offered == {free}
    for topic, message in ((elsewhere, "already on the agenda of “Another session”"), (decided, "already decided")):
        with translation.override("en"), pytest.raises(voting.CouncilError, match=message):
            voting.add_item(
                session=session, actor=admin_user, title="议项", motion="动议", rule="simple", ballot="open", topic=topic
            )
    item = voting.add_item(
        session=session, actor=admin_user, title="议项", motion="动议", rule="simple", ballot="open", topic=free
    )
    assert free not in set(ItemForm(council=council).fields["topic"].queryset)  # now on this agenda
    assert free in set(ItemForm.for_item(item).fields["topic"].queryset)  # but its own item keeps it
    voting.update_item(item=item, actor=admin_user, title="改过的议项")  # the same topic stays
    with pytest.raises(voting.CouncilError):
        AgendaItemFactory(session=session, position=2)
        voting.update_item(item=session.items.get(position=2), actor=admin_user, topic=free)  # twice on one agenda
    voting.cancel_session(session=other, actor=admin_user, reason="改期")
    assert elsewhere in set(ItemForm(council=council).fields["topic"].queryset)  # a cancelled agenda frees it


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_topic_page_starts_the_status_at_choose_and_links_the_sessions(client, council, admin_user, language):
    topic = shortlisted(council, admin_user)
    session = future_session(council)
    client.force_login(admin_user)
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(admin_user)
    profile.preferred_language = language
    profile.save()
    page = client.get(reverse("mailbox_admin:topic", args=[topic.pk])).content.decode()
    select = page.split('id="id_status"')[1].split("</select>")[0]
    assert select.index('<option value="" selected>') < select.index('value="rejected"')
    assert ("请选择" if language == "zh-hans" else "Choose…") in select
    assert ("将此议题列入议事会会议" if language == "zh-hans" else "Add this topic to a council session") in page
    link = f"{reverse('council_admin:session', args=[session.pk])}?topic={topic.pk}#add-item"
    assert f'href="{link}"' in page
    assert f"{reverse('council_admin:session_new', args=[council.pk])}?topic={topic.pk}" in page
    form_page = client.get(link).content.decode()
    assert f'<option value="{topic.pk}" selected>' in form_page and f'value="{topic.title}"' in form_page
    # Sent without a choice: refused with a message, the topic unchanged.
    response = client.post(reverse("mailbox_admin:topic", args=[topic.pk]), {"action": "status", "status": ""}, follow=True)
    assert any("请选择议题的新状态" in str(m) or "Choose the topic's new status" in str(m) for m in response.context["messages"])
    topic.refresh_from_db()
    assert topic.status == Topic.Status.SHORTLISTED


def test_a_new_session_from_the_topic_page_leads_back_to_its_agenda_form(client, council, admin_user):
    topic = shortlisted(council, admin_user)
    client.force_login(admin_user)
    starts = timezone.localtime() + datetime.timedelta(days=3)
    response = client.post(
        f"{reverse('council_admin:session_new', args=[council.pk])}?topic={topic.pk}",
        {"title": "临时议事会", "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
         "ends_at": (starts + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), "mode": "hybrid"},
    )  # fmt: skip
    session = CouncilSession.objects.get()
    assert response["Location"] == f"{reverse('council_admin:session', args=[session.pk])}?topic={topic.pk}#add-item"


# --- One message per person per event (item 13) -------------------------------------------------------


def messages_per_address(since_pk: int) -> dict[str, int]:
    from collections import Counter

    from outbox.models import Message

    return dict(Counter(Message.objects.filter(pk__gt=since_pk).values_list("address", flat=True)))


def last_message_pk() -> int:
    from outbox.models import Message

    return Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_announcing_sends_each_writer_and_supporter_one_message(council, seats, admin_user, django_capture_on_commit_callbacks):
    from deliberation.mailbox.factories import resident
    from deliberation.mailbox.models import LetterEvent, Support

    writer = resident(council.community, user__username="writer", user__email="writer@example.com")
    other_writer = resident(council.community, user__username="other", user__email="other@example.com")
    supporter = resident(council.community, user__username="supporter", user__email="supporter@example.com")
    parking = shortlisted(council, admin_user, writer=writer, letters=2)  # two letters by one writer
    lift = shortlisted(council, admin_user, writer=writer, title="加装电梯")
    shortlisted_again = parking.letters.count()
    from deliberation.mailbox import services as mailbox
    from deliberation.mailbox.factories import web_letter

    mailbox.merge_letter(letter=web_letter(writer=other_writer, community=council.community), topic=lift, actor=admin_user)
    Support.objects.create(topic=parking, resident=supporter)
    Support.objects.create(topic=lift, resident=writer)  # writes and supports: still one message
    session = future_session(council)
    AgendaItemFactory(session=session, position=1, topic=parking)
    AgendaItemFactory(session=session, position=2, topic=lift)
    before = last_message_pk()
    with django_capture_on_commit_callbacks(execute=True):
        voting.announce_session(session=session, actor=admin_user)
    sent = messages_per_address(before)
    assert {address: sent[address] for address in ("writer@example.com", "other@example.com", "supporter@example.com")} == {
        "writer@example.com": 1,
        "other@example.com": 1,
        "supporter@example.com": 1,
    }
    assert all(count == 1 for count in sent.values()), sent  # the members' invitations too
    # Each letter still shows the step on its timeline.
    assert LetterEvent.objects.filter(topic_status=Topic.Status.SCHEDULED).count() == shortlisted_again + 2


def test_a_status_change_tells_a_writer_of_several_letters_once(council, admin_user, django_capture_on_commit_callbacks):
    from deliberation.mailbox import services as mailbox
    from deliberation.mailbox.factories import resident
    from deliberation.mailbox.models import LetterEvent

    writer = resident(council.community, user__username="writer", user__email="writer@example.com")
    topic = shortlisted(council, admin_user, writer=writer, letters=3)
    before = last_message_pk()
    with django_capture_on_commit_callbacks(execute=True):
        mailbox.change_topic_status(topic=topic, actor=admin_user, status=Topic.Status.REJECTED, reason="不属于议事范围")
    assert messages_per_address(before) == {"writer@example.com": 1}
    assert LetterEvent.objects.filter(topic_status=Topic.Status.REJECTED).count() == 3


# --- Where decisions are found (item 9; issue 15 item 6) ------------------------------------------------


@pytest.fixture
def three_decisions(council):
    """A decision in its notice period, one in effect and one completed, each from its own held session."""
    from deliberation.followup.models import Decision
    from deliberation.followup.tests.followup_support import decide, held_session

    made = {}
    for status, title in (("notice", "增设夜间停车位"), ("in_effect", "加装电梯"), ("completed", "修缮凉亭")):
        session = held_session(council, present=4)
        decision = decide(AgendaItemFactory(session=session, position=1, title=title, title_en=f"Decision {status}"))
        if status != "notice":
            Decision.objects.filter(pk=decision.pk).update(
                status=status,
                effective_at=timezone.now(),
                completed_at=timezone.now() if status == "completed" else None,
            )
        decision.refresh_from_db()
        made[status] = decision
    return made


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_progress_page_groups_decisions_in_notice_in_effect_and_completed(
    client, three_decisions, language, django_assert_num_queries
):
    from django.core.cache import cache

    path = url("followup:progress", language=language)
    client.get(path)
    cache.clear()
    with django_assert_num_queries(6):  # site (2), counts, page count, decisions, their actions
        page = client.get(path).content.decode()
    groups = [part.split('"')[0] for part in page.split('data-decision-group="')[1:]]
    assert groups == ["notice", "in_effect", "completed"]
    for status, decision in three_decisions.items():
        section = page.split(f'data-decision-group="{status}"')[1].split("</section>")[0]
        assert f'data-decision="{decision.pk}"' in section
    assert ("前可提出异议" if language == "zh-hans" else "open for objections until") in page
    only = client.get(f"{path}?status=completed").content.decode()
    assert f'data-decision="{three_decisions["completed"].pk}"' in only
    assert f'data-decision="{three_decisions["notice"].pk}"' not in only


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_council_page_links_decisions_in_notice_the_progress_page_and_the_members(
    client, council, seats, three_decisions, language
):
    page = client.get(url("council:council_sessions", language=language)).content.decode()
    progress = url("followup:progress", language=language)
    assert f'href="{progress}?status=notice"' in page and f'href="{progress}"' in page
    members = page.split("data-council-members")[1].split("</details>")[0]
    for seat in (seats["chair"], seats["secretary"], *seats["members"]):
        assert name_of(seat) in members
    assert members.index(name_of(seats["chair"])) < members.index(name_of(seats["members"][0]))
    assert ("主持人" if language == "zh-hans" else "Chair") in members


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_session_page_links_each_passed_items_decision(client, council, three_decisions, language):
    decision = three_decisions["notice"]
    path = decision_path = url("followup:decision_detail", decision.pk, language=language)
    public = client.get(url("council:council_session", decision.item.session_id, language=language)).content.decode()
    assert f'href="{decision_path}"' in public and f'data-decision-link="{decision.pk}"' in public
    member = Client()
    member.force_login(council.members.order_by("pk")[2].user)
    live_page = member.get(live(decision.item.session, language)).content.decode()
    assert f'href="{path}"' in live_page


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_home_page_shows_decisions_in_notice_and_links_the_progress_page(client, three_decisions, language):
    from django.core.cache import cache

    cache.clear()
    page = client.get(f"/{language}/").content.decode()
    section = page.split("data-home-council")[1].split("</section>")[0]
    assert f'href="{url("followup:decision_detail", three_decisions["notice"].pk, language=language)}"' in section
    assert f'href="{url("followup:decision_detail", three_decisions["in_effect"].pk, language=language)}"' not in section
    assert f'href="{url("followup:progress", language=language)}"' in section


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_topic_page_links_its_session_and_the_progress_page(client, council, language):
    from deliberation.followup.tests.followup_support import decide, held_session
    from deliberation.mailbox.factories import TopicFactory

    topic = TopicFactory(community=council.community, status=Topic.Status.SCHEDULED)
    item = AgendaItemFactory(session=held_session(council, present=4), position=1, topic=topic)
    decision = decide(item)
    page = client.get(url("mailbox:topic_detail", topic.pk, language=language)).content.decode()
    assert f'href="{url("council:council_session", item.session_id, language=language)}#item-{item.pk}"' in page
    assert f'href="{url("followup:decision_detail", decision.pk, language=language)}"' in page
    assert f'href="{url("followup:progress", language=language)}"' in page
