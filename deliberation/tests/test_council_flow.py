"""The council's flow on the web (issue 14): recusals recorded by the secretary and withdrawn, the chair's count
of votes cast, refusals shown at the item, the door page of an online session, and the places decisions are
found. Every page in both languages."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from deliberation.factories import (
    AgendaItemFactory,
    CouncilSessionFactory,
    community_with_staff,
    council_with_members,
    staff_member,
)
from deliberation.models import AgendaItem, Attendance, CouncilSession, Recusal, Vote
from deliberation.services import council as voting

pytestmark = pytest.mark.django_db


def url(name, *args, language="zh-hans"):
    with translation.override(language):
        return reverse(f"deliberation:{name}", args=args)


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
    return url("council_session_live", session.pk, language=language)


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
    door = url("council_door", session.pk, session.door_key, language=language)
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
    door = url("council_door", session.pk, session.door_key, language=language)
    assert 'type="submit"' in client.get(door).content.decode().split("<main")[-1]
    response = client.post(door)
    assert response["Location"] == live(session, language)
    assert Attendance.objects.get().method == Attendance.Method.QR
