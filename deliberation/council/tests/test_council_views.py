"""The council on the web: members' portal (roll call, votes, recusals, chair and secretary), the door's QR
link, the public session pages and the home page's block. Every refusal shows a message and changes nothing."""

import datetime
import re

import pytest
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import LocalePrefixPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation

from deliberation.council import services as voting
from deliberation.council.factories import AgendaItemFactory, CouncilSessionFactory, council_with_members
from deliberation.council.models import AgendaItem, Attendance, Ballot, CouncilSession, Participation, Recusal, Result, Vote
from deliberation.council.tests.council_helpers import sealed_choices
from deliberation.followup.models import MinutesPage
from deliberation.mailbox.factories import community_with_staff, resident, staff_member

pytestmark = pytest.mark.django_db


def url(name, *args, language="zh-hans"):
    with translation.override(language):
        return reverse(name, args=args)


@pytest.fixture
def council(site_pages):
    return council_with_members(members=5, community=community_with_staff(name="六和社区", code="liuhe"))


@pytest.fixture
def seats(council):
    members = list(council.members.order_by("pk"))
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
    return client.post(live(session), data, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def everyone_present(session, seats):
    present(session, seats["chair"], seats["secretary"], *seats["members"])


def open_item(item, seats):
    return voting.open_voting(item=item, actor=seats["chair"].user)


# --- The portal -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_my_councils_lists_the_council_and_its_public_sessions(client, council, seats, session, language):
    CouncilSessionFactory(council=council, title="草稿会议", status=CouncilSession.Status.DRAFT)
    client.force_login(seats["members"][0].user)
    response = client.get(url("council:my_councils", language=language))
    assert response.status_code == 200
    content = response.content.decode()
    assert session.display_title in content or session.title in content
    assert "草稿会议" not in content
    assert response["Cache-Control"].startswith("max-age=0")


def test_my_councils_for_a_resident_without_a_seat(client, council):
    client.force_login(resident(council.community))
    response = client.get(url("council:my_councils"))
    assert response.status_code == 200 and response.context["entries"] == []


def test_a_former_member_no_longer_sees_the_council(client, council, seats, session):
    seat = seats["members"][0]  # their term ended the day before the session (begun minutes ago, maybe yesterday)
    seat.term_end = timezone.localdate(session.starts_at) - datetime.timedelta(days=1)
    seat.save()
    client.force_login(seat.user)
    assert client.get(url("council:my_councils")).context["entries"] == []
    assert client.get(live(session)).status_code == 404


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_live_page_renders_for_a_member_in_both_languages(client, seats, session, item, language):
    client.force_login(seats["members"][0].user)
    response = client.get(live(session, language))
    assert response.status_code == 200
    assert response.context["quorum"].members == 5
    content = response.content.decode()
    assert 'data-action="here"' in content  # hybrid session in progress: "I am here"
    assert 'data-action="open"' not in content  # not the chair
    assert (item.title_en if language == "en" else item.title) in content


def test_the_live_page_is_not_found_for_outsiders_drafts_and_anonymous(client, council, seats, session):
    client.force_login(resident(council.community))
    assert client.get(live(session)).status_code == 404
    other = council_with_members(members=3)
    client.force_login(other.members.first().user)
    assert client.get(live(session)).status_code == 404
    draft = CouncilSessionFactory(council=council)
    client.force_login(seats["chair"].user)
    assert client.get(live(draft)).status_code == 404
    anonymous = Client()
    response = anonymous.get(live(session))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_staff_see_the_live_page_with_the_chairs_controls(client, council, session, item):
    staff = staff_member(council.community)
    client.force_login(staff)
    response = client.get(live(session))
    assert response.status_code == 200
    assert response.context["can_chair"] and response.context["can_clerk"] and response.context["member"] is None


@override_settings(LINLI_STAFF_MFA_REQUIRED=True)
def test_members_without_totp_are_sent_to_set_it_up_when_required(client, seats, session):
    user = seats["members"][0].user
    client.force_login(user)
    for target in (live(session), url("council:council_door", session.pk, session.door_key)):
        response = client.get(target)
        assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    response = client.post(live(session), {"action": "here"})
    assert response["Location"] == reverse("mfa_activate_totp")
    assert not Attendance.objects.exists()
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert client.get(live(session)).status_code == 200


def members_portal_routes() -> dict[str, str]:
    """Every route of the site under /<lang>/me/council/, by name, walked from the resolver: a view added there
    later is in this list without anyone adding it."""
    found = {}

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix if isinstance(pattern.pattern, LocalePrefixPattern) else prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith("me/council/"):
                found[pattern.name or route] = route

    walk(get_resolver().url_patterns, "")
    return found


def portal_url(route: str, session) -> str:
    """The route filled in with the session (its id for every number, its door key for every string)."""
    return "/zh-hans/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: str(session.pk if m[1] == "int" else session.door_key), route)


@override_settings(LINLI_STAFF_MFA_REQUIRED=True)
def test_every_page_of_the_members_portal_asks_members_and_staff_for_totp_first(client, council, seats, session):
    routes = members_portal_routes()
    minutes = {"member_minutes", "edit_minutes", "confirm_minutes", "publish_minutes"}
    assert minutes | {"my_councils", "council_session_live", "council_door"} <= set(routes)
    for user in (seats["members"][0].user, seats["secretary"].user, staff_member(council.community)):
        client.force_login(user)
        for name, route in routes.items():
            for method in (client.get, client.post):
                response = method(portal_url(route, session))
                assert (response.status_code, response.get("Location")) == (302, reverse("mfa_activate_totp")), (name, method)
    assert not Attendance.objects.exists()
    for name, route in routes.items():
        response = Client().get(portal_url(route, session))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], name
    client.force_login(resident(council.community))  # no seat, not staff: nothing here to protect
    assert client.get(url("council:my_councils")).status_code == 200


@override_settings(LINLI_STAFF_MFA_REQUIRED=False)
def test_without_the_setting_members_vote_without_totp(client, seats, session):
    client.force_login(seats["members"][0].user)
    assert client.get(live(session)).status_code == 200


# --- Roll call -------------------------------------------------------------------------------


def test_i_am_here_checks_the_member_in_once(client, seats, session):
    seat = seats["members"][0]
    client.force_login(seat.user)
    response = post(client, session, action="here")
    assert Attendance.objects.get(session=session, member=seat).method == Attendance.Method.ONLINE
    assert response.context["present"]
    post(client, session, action="here")
    assert Attendance.objects.filter(session=session).count() == 1


def test_i_am_here_is_refused_for_an_in_person_session(client, council, seats):
    session = CouncilSessionFactory(council=council, status=CouncilSession.Status.IN_SESSION, mode=CouncilSession.Mode.IN_PERSON)
    client.force_login(seats["members"][0].user)
    response = post(client, session, action="here")
    assert messages_of(response) and "二维码" in messages_of(response)[0]
    assert not Attendance.objects.exists()


def test_a_member_of_another_council_cannot_check_in(client, session):
    other = council_with_members(members=3)
    client.force_login(other.members.last().user)
    response = post(client, session, action="here")
    assert response.redirect_chain[-1][0] == url("council:my_councils")
    assert messages_of(response)
    assert not Attendance.objects.exists()


def test_the_door_link_asks_to_log_in_then_confirms_and_checks_in(client, seats, session):
    door = url("council:council_door", session.pk, session.door_key)
    response = Client().get(door)
    assert response.status_code == 302 and f"next={door}" in response["Location"].replace("%2F", "/")
    seat = seats["members"][1]
    client.force_login(seat.user)
    response = client.get(door)
    assert response.status_code == 200 and not Attendance.objects.exists()
    response = client.post(door, follow=True)
    assert response.redirect_chain[-1][0] == live(session)
    assert Attendance.objects.get(member=seat).method == Attendance.Method.QR


@pytest.mark.parametrize("key", ["forged-key", "签到码", "ключ"])
def test_a_wrong_door_key_is_refused(client, seats, session, key):
    client.force_login(seats["members"][1].user)
    door = url("council:council_door", session.pk, key)
    page = client.get(door)
    # Said before the tap: the page explains and offers no button that cannot work.
    assert page.status_code == 403
    assert "这个签到码已过期" in page.content.decode() and "check me in" not in page.content.decode().lower()
    assert "签到" in page.content.decode() and 'type="submit"' not in page.content.decode().split("<main")[-1]
    response = client.post(door)
    assert response.status_code == 403  # not ASCII: the refusal, not a server error
    content = response.content.decode()
    assert content.count("这个签到码已过期") == 1 and "二维码" in content  # said once, not also as a message
    assert not messages_of(response)
    assert not Attendance.objects.exists()


def test_the_secretary_marks_a_member_present_and_a_plain_member_cannot(client, seats, session):
    target = seats["members"][2]
    client.force_login(seats["members"][0].user)
    response = post(client, session, action="present", member=target.pk)
    assert messages_of(response) and not Attendance.objects.exists()
    client.force_login(seats["secretary"].user)
    response = post(client, session, action="present", member=target.pk)
    attendance = Attendance.objects.get(member=target)
    assert attendance.method == Attendance.Method.SECRETARY and attendance.recorded_by == seats["secretary"].user
    assert messages_of(response) == [f"{target.user.profile.display_name} 已标记为出席。"] or messages_of(response)


def test_the_secretary_cannot_mark_a_member_of_another_council(client, seats, session):
    other = council_with_members(members=3)
    client.force_login(seats["secretary"].user)
    response = post(client, session, action="present", member=other.members.last().pk)
    assert messages_of(response) and not Attendance.objects.exists()


# --- Chair ------------------------------------------------------------------------------------


def test_the_chair_starts_the_session(client, council, seats):
    session = CouncilSessionFactory(council=council, status=CouncilSession.Status.ANNOUNCED)
    AgendaItemFactory(session=session)
    client.force_login(seats["members"][0].user)
    response = post(client, session, action="start")
    assert messages_of(response)
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.ANNOUNCED
    client.force_login(seats["chair"].user)
    assert 'data-action="start"' in client.get(live(session)).content.decode()
    post(client, session, action="start")
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.IN_SESSION


def test_opening_without_quorum_is_refused_with_the_numbers(client, seats, session, item):
    present(session, seats["chair"], seats["secretary"])
    client.force_login(seats["chair"].user)
    response = post(client, session, action="open", item=item.pk)
    (message,) = messages_of(response)
    assert "2" in message and "5" in message and "3" in message
    item.refresh_from_db()
    assert item.status == AgendaItem.Status.PENDING


def test_a_member_cannot_open_or_close_voting(client, seats, session, item):
    everyone_present(session, seats)
    client.force_login(seats["members"][0].user)
    post(client, session, action="open", item=item.pk)
    item.refresh_from_db()
    assert item.status == AgendaItem.Status.PENDING
    open_item(item, seats)
    response = post(client, session, action="close", item=item.pk)
    assert messages_of(response)
    item.refresh_from_db()
    assert item.status == AgendaItem.Status.OPEN and not Result.objects.exists()


def test_an_item_of_another_session_is_refused(client, council, seats, session, item):
    everyone_present(session, seats)
    elsewhere = AgendaItemFactory(session=CouncilSessionFactory(council=council, status=CouncilSession.Status.IN_SESSION))
    client.force_login(seats["chair"].user)
    response = post(client, session, action="open", item=elsewhere.pk)
    assert messages_of(response)
    elsewhere.refresh_from_db()
    assert elsewhere.status == AgendaItem.Status.PENDING


def test_a_bad_closing_time_is_refused(client, seats, session, item):
    everyone_present(session, seats)
    client.force_login(seats["chair"].user)
    response = post(client, session, action="open", item=item.pk, closes_at="not a time")
    assert messages_of(response)
    past = (timezone.localtime() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = post(client, session, action="open", item=item.pk, closes_at=past)
    assert messages_of(response)
    item.refresh_from_db()
    assert item.status == AgendaItem.Status.PENDING


def test_unknown_actions_change_nothing(client, seats, session):
    client.force_login(seats["chair"].user)
    response = post(client, session, action="delete_everything")
    assert messages_of(response)


def test_posts_need_the_csrf_token(seats, session):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(seats["members"][0].user)
    assert browser.post(live(session), {"action": "here"}).status_code == 403
    assert not Attendance.objects.exists()


# --- Voting -----------------------------------------------------------------------------------


def test_open_ballot_vote_change_and_the_page_shows_my_choice_but_no_count(client, council, seats, session, item):
    everyone_present(session, seats)
    open_item(item, seats)
    seat = seats["members"][0]
    client.force_login(seat.user)
    post(client, session, action="vote", item=item.pk, choice="yes")
    response = post(client, session, action="vote", item=item.pk, choice="no")
    vote = Vote.objects.get(item=item, member=seat)
    assert vote.choice == "no" and vote.changed_at is not None
    assert "data-my-choice" in response.content.decode()
    client.force_login(seats["members"][1].user)
    post(client, session, action="vote", item=item.pk, choice="yes")
    # Nobody sees a count while voting is open: member, chair, staff in the admin, the public.
    pages = [client.get(live(session)).content.decode()]
    client.force_login(seats["chair"].user)
    pages.append(client.get(live(session)).content.decode())
    pages.append(Client().get(url("council:council_session", session.pk)).content.decode())
    for page in pages:
        assert "result-figures" not in page and "<svg" not in page and "data-outcome" not in page


def test_a_vote_without_a_choice_or_with_a_forged_choice_is_refused(client, seats, session, item):
    everyone_present(session, seats)
    open_item(item, seats)
    client.force_login(seats["members"][0].user)
    for data in ({}, {"choice": "maybe"}):
        response = post(client, session, action="vote", item=item.pk, **data)
        assert messages_of(response)
    assert not Vote.objects.exists()


def test_votes_on_a_pending_or_closed_item_are_refused(client, seats, session, item):
    everyone_present(session, seats)
    client.force_login(seats["members"][0].user)
    response = post(client, session, action="vote", item=item.pk, choice="yes")
    assert messages_of(response) and not Vote.objects.exists()
    open_item(item, seats)
    voting.close_voting(item=item, actor=seats["chair"].user)
    response = post(client, session, action="vote", item=item.pk, choice="yes")
    assert messages_of(response) and not Vote.objects.exists()


def test_a_member_not_checked_in_cannot_vote(client, seats, session, item):
    present(session, seats["chair"], seats["secretary"], seats["members"][1])
    open_item(item, seats)
    client.force_login(seats["members"][0].user)
    response = post(client, session, action="vote", item=item.pk, choice="yes")
    assert messages_of(response) and not Vote.objects.exists()


def test_a_non_member_cannot_vote(client, council, seats, session, item):
    everyone_present(session, seats)
    open_item(item, seats)
    client.force_login(resident(council.community))
    response = post(client, session, action="vote", item=item.pk, choice="yes")
    assert messages_of(response) and not Vote.objects.exists()
    client.force_login(staff_member(council.community))  # staff run the session but do not vote
    response = post(client, session, action="vote", item=item.pk, choice="yes")
    assert messages_of(response) and not Vote.objects.exists()


def test_recusal_then_a_vote_is_refused(client, seats, session, item):
    everyone_present(session, seats)
    open_item(item, seats)
    seat = seats["members"][0]
    client.force_login(seat.user)
    post(client, session, action="recuse", item=item.pk, reason="我家就在东侧")
    assert Recusal.objects.get(member=seat).reason == "我家就在东侧"
    response = post(client, session, action="vote", item=item.pk, choice="yes")
    assert messages_of(response) and not Vote.objects.exists()
    assert "data-recused" in response.content.decode()
    response = post(client, session, action="recuse", item=item.pk)
    assert messages_of(response) and Recusal.objects.count() == 1


def test_secret_ballot_receipt_stays_in_a_signed_cookie_on_the_device(client, seats, session):
    item = AgendaItemFactory(session=session, position=1, ballot=AgendaItem.Ballot.SECRET)
    everyone_present(session, seats)
    open_item(item, seats)
    seat = seats["members"][0]
    client.force_login(seat.user)
    response = client.post(live(session), {"action": "vote", "item": item.pk, "choice": "yes"})
    cookie = response.cookies[f"council_receipt_zh-hans_{item.pk}"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/zh-hans/me/council/"
    english = response.cookies[f"council_receipt_en_{item.pk}"]
    assert english["path"] == "/en/me/council/" and english["httponly"]
    assert Participation.objects.filter(member=seat).count() == 1
    assert sealed_choices(item) == ["yes"]
    assert cookie.value not in str(dict(client.session))  # never in the session
    page = client.get(live(session)).content.decode()
    assert "data-voted-secret" in page and "data-vote-form" in page  # may change it on this device
    client.post(live(session), {"action": "vote", "item": item.pk, "choice": "no"})
    assert sealed_choices(item) == ["no"]
    # Another device (no receipt): refused, nothing changed.
    other_device = Client()
    other_device.force_login(seat.user)
    assert "data-vote-form" not in other_device.get(live(session)).content.decode()
    response = other_device.post(live(session), {"action": "vote", "item": item.pk, "choice": "yes"}, follow=True)
    assert messages_of(response)
    assert sealed_choices(item) == ["no"]
    # A forged cookie (not signed by us) counts as none.
    other_device.cookies[f"council_receipt_zh-hans_{item.pk}"] = "forged"
    other_device.post(live(session), {"action": "vote", "item": item.pk, "choice": "yes"})
    assert sealed_choices(item) == ["no"] and Ballot.objects.count() == 1


@override_settings(SESSION_COOKIE_SECURE=True)
def test_the_receipt_cookie_is_secure_in_production(client, seats, session):
    item = AgendaItemFactory(session=session, position=1, ballot=AgendaItem.Ballot.SECRET)
    everyone_present(session, seats)
    open_item(item, seats)
    client.force_login(seats["members"][0].user)
    response = client.post(live(session), {"action": "vote", "item": item.pk, "choice": "yes"})
    assert response.cookies[f"council_receipt_zh-hans_{item.pk}"]["secure"]


def test_the_secretary_records_a_vote_in_the_room(client, seats, session, item):
    everyone_present(session, seats)
    open_item(item, seats)
    target = seats["members"][2]
    client.force_login(seats["members"][0].user)
    response = post(client, session, action="record", item=item.pk, member=target.pk, choice="yes")
    assert messages_of(response) and not Vote.objects.exists()
    client.force_login(seats["secretary"].user)
    post(client, session, action="record", item=item.pk, member=target.pk, choice="yes")
    vote = Vote.objects.get(member=target)
    assert vote.recorded_by == seats["secretary"].user


def test_close_shows_the_result_with_its_chart_to_members_and_the_public(client, seats, session, item):
    everyone_present(session, seats)
    open_item(item, seats)
    for seat, choice in zip(seats["members"], ["yes", "yes", "no"], strict=True):
        voting.cast_vote(item=item, user=seat.user, choice=choice)
    client.force_login(seats["chair"].user)
    response = post(client, session, action="close", item=item.pk)
    result = Result.objects.get(item=item)
    assert result.yes == 2 and result.no == 1
    content = response.content.decode()
    assert f'data-outcome="{result.outcome}"' in content and "<svg" in content
    public = Client().get(url("council:council_session", session.pk, language="en")).content.decode()
    assert f'data-outcome="{result.outcome}"' in public and "<svg" in public and result.digest[:12] in public


def test_the_chair_ends_the_session(client, seats, session, item):
    everyone_present(session, seats)
    client.force_login(seats["chair"].user)
    post(client, session, action="end", confirm="yes")
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.CLOSED


# --- Public pages ------------------------------------------------------------------------------

# A cold miss of the page cache: the site's own queries (site, settings, footer), one for the sessions, one for
# the councils' current members and one for the count of decisions in their notice period.
EXPECTED_LIST_QUERIES = {"zh-hans": 5, "en": 5}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_public_list_pins_its_queries_from_2_to_20_sessions(client, council, language, django_assert_num_queries):
    other = council_with_members(members=3)
    statuses = [CouncilSession.Status.ANNOUNCED, CouncilSession.Status.CLOSED]
    for number in range(2):
        CouncilSessionFactory(council=council if number % 2 else other, status=statuses[number % 2])
    CouncilSessionFactory(council=council, title="草稿", status=CouncilSession.Status.DRAFT)
    CouncilSessionFactory(council=council, title="取消", status=CouncilSession.Status.CANCELLED)
    target = url("council:council_sessions", language=language)
    client.get(target)  # warm the site caches
    cache.clear()
    with django_assert_num_queries(EXPECTED_LIST_QUERIES[language]):
        response = Client().get(target)
    assert response.status_code == 200
    content = response.content.decode()
    assert "草稿" not in content and "取消" not in content
    assert content.count('class="session-item"') == 2
    for number in range(18):
        CouncilSessionFactory(council=council if number % 2 else other, status=statuses[number % 2])
    cache.clear()
    with django_assert_num_queries(EXPECTED_LIST_QUERIES[language]):
        response = Client().get(target)
    assert response.content.decode().count('class="session-item"') == 20


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_public_session_page_in_both_languages(client, session, item, language):
    response = client.get(url("council:council_session", session.pk, language=language))
    assert response.status_code == 200
    content = response.content.decode()
    assert (session.title_en if language == "en" else session.title) in content
    assert (item.motion_en if language == "en" else item.motion) in content
    assert "no-cache" in response["Cache-Control"]  # in session: results must show as soon as voting closes


def test_draft_and_cancelled_sessions_are_not_public(client, council):
    for status in (CouncilSession.Status.DRAFT, CouncilSession.Status.CANCELLED):
        session = CouncilSessionFactory(council=council, status=status)
        assert client.get(url("council:council_session", session.pk)).status_code == 404


def test_public_session_links_its_published_minutes(client, council, site_pages):
    from deliberation.followup.models import MinutesIndexPage

    session = CouncilSessionFactory(council=council, status=CouncilSession.Status.MINUTES_PUBLISHED)
    home = site_pages if hasattr(site_pages, "add_child") else None
    from wagtail.models import Page

    root = home or Page.objects.filter(depth=2).first().specific
    index = root.add_child(instance=MinutesIndexPage(title="会议纪要", slug="minutes"))
    minutes = index.add_child(
        instance=MinutesPage(
            title="第三季度会议纪要", slug="q3", session=session, held_on=timezone.localdate(), body="<p>纪要</p>"
        )
    )
    response = client.get(url("council:council_session", session.pk))
    assert minutes.url in response.content.decode()


def test_home_page_shows_announced_sessions(client, council, site_pages):
    announced = CouncilSessionFactory(council=council, title="即将召开的议事会", status=CouncilSession.Status.ANNOUNCED)
    CouncilSessionFactory(council=council, title="草稿会议", status=CouncilSession.Status.DRAFT)
    content = client.get("/zh-hans/").content.decode()
    assert announced.title in content and "草稿会议" not in content
    assert url("council:council_session", announced.pk) in content


def test_replayed_posts_change_nothing(client, seats, session, item):
    everyone_present(session, seats)
    client.force_login(seats["chair"].user)
    post(client, session, action="open", item=item.pk)
    response = post(client, session, action="open", item=item.pk)  # the same request again
    assert messages_of(response)
    voting.cast_vote(item=item, user=seats["members"][0].user, choice="yes")
    post(client, session, action="close", item=item.pk)
    response = post(client, session, action="close", item=item.pk)
    assert messages_of(response) and Result.objects.filter(item=item).count() == 1
    client.force_login(seats["members"][0].user)
    response = post(client, session, action="vote", item=item.pk, choice="no")  # a vote replayed after the close
    assert messages_of(response) and Vote.objects.get(item=item).choice == "yes"


@pytest.mark.parametrize(
    ("language", "unconfirmed", "still_open"),
    [
        ("zh-hans", "请勾选确认结束会议", "的表决仍在进行"),
        ("en", "Please tick the box to confirm that the session ends.", "is still open: close it first"),
    ],
)
def test_ending_the_session_asks_for_confirmation_and_is_refused_while_a_vote_is_open(
    client, council, seats, session, item, language, unconfirmed, still_open
):
    everyone_present(session, seats)
    client.force_login(seats["chair"].user)
    page = client.get(live(session, language)).content.decode()
    assert 'name="confirm"' in page and "required" in page  # the consequence is said beside the box

    response = client.post(live(session, language), {"action": "end"}, follow=True)
    assert unconfirmed in " ".join(messages_of(response))
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.IN_SESSION

    open_item(item, seats)
    voting.cast_vote(item=item, user=seats["members"][0].user, choice="yes")
    response = client.post(live(session, language), {"action": "end", "confirm": "yes"}, follow=True)
    assert still_open in " ".join(messages_of(response))
    session.refresh_from_db()
    item.refresh_from_db()
    assert session.status == CouncilSession.Status.IN_SESSION and item.status == "open"  # nothing closed, nobody told

    voting.close_voting(item=item, actor=seats["chair"].user)
    response = client.post(live(session, language), {"action": "end", "confirm": "yes"}, follow=True)
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.CLOSED


@pytest.mark.parametrize(
    ("language", "question", "yes", "no"),
    [
        (
            "zh-hans",
            "现在结束“%s”的表决吗？此后任何人都不能再投票或改票，系统将计票并向所有人公布结果。",
            "确定结束表决",
            "不，继续表决",
        ),
        (
            "en",
            "Close voting on “%s” now? Nobody can vote or change a vote after this; the votes are counted and the result is shown to everyone.",
            "Yes, close voting",
            "No, keep voting open",
        ),
    ],
)
def test_closing_a_vote_asks_first_and_says_what_follows(client, seats, session, item, language, question, yes, no):
    everyone_present(session, seats)
    open_item(item, seats)
    client.force_login(seats["chair"].user)
    page = client.get(live(session, language)).content.decode()
    display_title = item.title_en if language == "en" and item.title_en else item.title
    assert question % display_title in page
    # The chair's first tap opens the question; the button that closes sits inside it, beside the way back.
    details = page[page.index('<details class="confirm">') :]
    details = details[: details.index("</details>")]
    assert 'name="action" value="close" data-action="close"' in details and yes in details
    assert f'class="button secondary confirm-no" href="{live(session, language)}">{no}</a>' in details
    assert Result.objects.count() == 0  # showing the question closes nothing
    # A member who does not chair is not asked at all.
    client.force_login(seats["members"][0].user)
    assert question % display_title not in client.get(live(session, language)).content.decode()
