"""The council's API for its members (/api/v1/council/): the members' portal's queries and services as JSON.

Every endpoint's success, 401 without a token, 404 for a resident who may not follow the session (as its live
page), the services' refusals as 409 with their message in both languages, and bad input as 4xx."""

from __future__ import annotations

import datetime
import json
from urllib.parse import quote

import pytest
from allauth.mfa.models import Authenticator
from django.test import override_settings
from django.utils import timezone

from api.testing import assert_problem, token_for
from deliberation.council import services as voting
from deliberation.council.factories import AgendaItemFactory, CouncilSessionFactory, council_with_members
from deliberation.council.models import AgendaItem, Attendance, Ballot, CouncilSession, Participation, Vote
from deliberation.council.tests.council_helpers import open_item, running_session, seats, stored_ballots
from deliberation.mailbox.factories import community_with_staff, resident, staff_member

pytestmark = pytest.mark.django_db

BAD_IDS = ["0", "-1", str(10**23), "²", "\x00", "abc", "9999-12-31"]
BAD_CHOICES = ["", "YES", "maybe", "\x00", "²", 10**23, -1, 0, None, True, [], {}, "yes\x00", "9999-12-31"]


@pytest.fixture
def council(site_pages):
    return council_with_members(members=5, community=community_with_staff(name="六和社区", code="liuhe"))


@pytest.fixture
def members(council):
    return seats(council)


@pytest.fixture
def running(council, members):
    """A hybrid session in progress with two items, the first three members checked in."""
    session, items = running_session(council, present=members[:3], items=2)
    return session, items


@pytest.fixture
def api(client):
    """Calls as a phone client of `user`: its session token on every request, no cookie."""

    def call(user, method: str, path: str, body=None, **headers):
        if user is not None:
            headers["HTTP_X_SESSION_TOKEN"] = token_for(user)
        if body is not None:
            headers["content_type"] = "application/json"
            body = body if isinstance(body, str) else json.dumps(body)
            return getattr(client, method)(path, body, **headers)
        return getattr(client, method)(path, **headers)

    return call


def session_url(session) -> str:
    return f"/api/v1/council/sessions/{session.pk}/"


def check_in_url(session) -> str:
    return f"/api/v1/council/sessions/{session.pk}/check-in/"


def vote_url(item) -> str:
    return f"/api/v1/council/items/{item.pk}/vote/"


def result_url(item) -> str:
    return f"/api/v1/council/items/{item.pk}/result/"


# --- Authentication and who may see what -------------------------------------------------------


def test_every_endpoint_needs_a_token(client, running):
    session, (item, _second) = running
    for method, path in (
        ("get", "/api/v1/council/sessions/"),
        ("get", session_url(session)),
        ("post", check_in_url(session)),
        ("get", vote_url(item)),
        ("post", vote_url(item)),
        ("get", result_url(item)),
    ):
        assert_problem(getattr(client, method)(path), 401, "not_authenticated")
    assert not Vote.objects.exists()


def test_a_resident_who_is_not_a_member_gets_404_everywhere_and_records_nothing(api, council, running):
    """404, as the live page answers them: a 403 would tell a stranger which sessions and items exist."""
    session, (item, _second) = running
    item = open_item(session)
    stranger = resident(council.community)
    other_council = council_with_members(members=3)
    other_member = other_council.members.first().user
    for user in (stranger, other_member):
        for method, path in (("get", session_url(session)), ("get", vote_url(item)), ("get", result_url(item))):
            assert_problem(api(user, method, path), 404, "not_found")
        assert_problem(api(user, "post", check_in_url(session)), 404, "not_found")
        assert_problem(api(user, "post", vote_url(item), {"choice": "yes"}), 404, "not_found")
        assert api(user, "get", "/api/v1/council/sessions/").json() == {"items": [], "next": None}
    assert not Vote.objects.exists()
    assert Attendance.objects.filter(session=session).count() == 3
    # The same answer as for an id never used.
    assert_problem(api(stranger, "get", f"/api/v1/council/items/{item.pk + 1000}/vote/"), 404, "not_found")


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "议事会"), ("en", "Only current members")])
def test_staff_who_sit_on_no_council_follow_the_session_but_may_not_vote(api, council, running, language, message):
    session, (item, _second) = running
    item = open_item(session)
    staff = staff_member(council.community)
    assert api(staff, "get", session_url(session)).status_code == 200
    refused = assert_problem(
        api(staff, "post", vote_url(item), {"choice": "yes"}, HTTP_ACCEPT_LANGUAGE=language), 403, "forbidden"
    )
    assert message in refused["message"]
    assert not Vote.objects.exists()


def test_a_draft_sessions_items_are_not_found(api, council, members):
    draft = CouncilSessionFactory(council=council)
    item = AgendaItemFactory(session=draft, position=1)
    member = members[2].user
    assert_problem(api(member, "get", session_url(draft)), 404, "not_found")
    assert_problem(api(member, "post", vote_url(item), {"choice": "yes"}), 404, "not_found")


@override_settings(LINLI_STAFF_MFA_REQUIRED=True)
def test_members_without_totp_set_it_up_first_when_required(api, running, members):
    session, (item, _second) = running
    item = open_item(session)
    user = members[1].user
    for method, path, body in (
        ("get", "/api/v1/council/sessions/", None),
        ("get", session_url(session), None),
        ("post", vote_url(item), {"choice": "yes"}),
    ):
        refused = assert_problem(api(user, method, path, body), 403, "totp_required")
        assert "双重验证" in refused["message"]
    assert not Vote.objects.exists()
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert api(user, "post", vote_url(item), {"choice": "yes"}).status_code == 200


# --- Sessions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "title", "status"),
    [("zh-hans", "第三季度居民议事会", "会议进行中"), ("en", "Third-quarter council session", "In session")],
)
def test_the_session_list_upcoming_first_then_the_past_latest_first(api, council, members, running, language, title, status):
    session = running[0]
    now = timezone.now()
    later = CouncilSessionFactory(
        council=council, status=CouncilSession.Status.ANNOUNCED, starts_at=now + datetime.timedelta(days=3)
    )
    soon = CouncilSessionFactory(
        council=council, status=CouncilSession.Status.ANNOUNCED, starts_at=now + datetime.timedelta(days=1)
    )
    old = CouncilSessionFactory(council=council, status=CouncilSession.Status.CLOSED, starts_at=now - datetime.timedelta(days=60))
    recent = CouncilSessionFactory(
        council=council, status=CouncilSession.Status.MINUTES_PUBLISHED, starts_at=now - datetime.timedelta(days=20)
    )
    CouncilSessionFactory(council=council)  # a draft: not listed
    CouncilSessionFactory(council=council, status=CouncilSession.Status.CANCELLED)
    CouncilSessionFactory(council=council_with_members(members=2), status=CouncilSession.Status.ANNOUNCED)  # another council
    response = api(members[0].user, "get", "/api/v1/council/sessions/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    data = response.json()
    assert [each["id"] for each in data["items"]] == [session.pk, soon.pk, later.pk, recent.pk, old.pk]
    first = data["items"][0]
    assert (first["title"], first["status_label"], first["role"], first["checked_in"]) == (title, status, "chair", True)
    assert [each["checked_in"] for each in data["items"][1:]] == [False] * 4
    assert data["next"] is None
    # Pages of two with the cursor give the same order.
    pages, cursor = [], ""
    for _page in range(3):
        page = api(members[0].user, "get", f"/api/v1/council/sessions/?limit=2&cursor={cursor}").json()
        pages += [each["id"] for each in page["items"]]
        cursor = page["next"]
    assert pages == [session.pk, soon.pk, later.pk, recent.pk, old.pk] and cursor is None
    assert (
        api(
            members[0].user,
            "get",
            "/api/v1/council/sessions/",
            HTTP_IF_NONE_MATCH=response["ETag"],
            HTTP_ACCEPT_LANGUAGE=language,
        ).status_code
        == 304
    )


@pytest.mark.parametrize(("language", "item_title"), [("zh-hans", "增设夜间临时停车位"), ("en", "Night-time parking bays")])
def test_a_session_with_its_agenda_status_and_roll_call(api, members, running, language, item_title):
    session, (first, second) = running
    first = open_item(session)
    voting.cast_vote(item=first, user=members[2].user, choice="no")
    response = api(members[2].user, "get", session_url(session), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["checked_in"], data["role"]) == ("in_session", True, "member")
    assert data["quorum"] == {"members": 5, "present": 3, "needed": 3, "met": True}
    assert [each["id"] for each in data["items"]] == [first.pk, second.pk]
    assert data["items"][0]["title"] == item_title
    assert (data["items"][0]["status"], data["items"][0]["voted"], data["items"][0]["my_choice"]) == ("open", True, "no")
    assert data["items"][0]["result"] is None  # no count while open
    assert (data["items"][1]["status"], data["items"][1]["voted"]) == ("pending", False)
    assert data["items"][0]["vote_url"] == vote_url(first)
    assert (
        api(
            members[2].user, "get", session_url(session), HTTP_IF_NONE_MATCH=response["ETag"], HTTP_ACCEPT_LANGUAGE=language
        ).status_code
        == 304
    )
    absent = api(members[4].user, "get", session_url(session)).json()
    assert (absent["checked_in"], absent["items"][0]["voted"], absent["items"][0]["my_choice"]) == (False, False, None)


# --- Check-in -----------------------------------------------------------------------------------


def test_check_in_online_and_a_replay_answers_the_same(api, members, running):
    session = running[0]
    user = members[4].user
    first = api(user, "post", check_in_url(session))
    assert first.status_code == 200, first.content
    assert first.json()["checked_in"] and first.json()["method"] == "online"
    again = api(user, "post", check_in_url(session), {})
    assert again.json() == first.json()
    assert Attendance.objects.filter(session=session, member=members[4]).count() == 1
    assert api(user, "get", session_url(session)).json()["checked_in"] is True


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "二维码"), ("en", "QR code at the door")])
def test_online_check_in_to_an_in_person_session_is_409_with_the_services_message(api, council, members, language, message):
    session, _items = running_session(council, present=[], mode=CouncilSession.Mode.IN_PERSON)
    refused = assert_problem(
        api(members[3].user, "post", check_in_url(session), HTTP_ACCEPT_LANGUAGE=language), 409, "council_refused"
    )
    assert message in refused["message"]
    assert not Attendance.objects.filter(session=session).exists()


# --- Votes --------------------------------------------------------------------------------------


def test_vote_change_it_and_read_it_back_on_an_open_ballot(api, members, running):
    session = running[0]
    item = open_item(session)
    user = members[1].user
    first = api(user, "post", vote_url(item), {"choice": "yes"})
    assert first.status_code == 200, first.content
    assert (first.json()["choice"], first.json()["voted"], first.json()["receipt"]) == ("yes", True, None)
    again = api(user, "post", vote_url(item), {"choice": "yes"})
    assert again.json() == first.json()
    changed = api(user, "post", vote_url(item), {"choice": "abstain"}, HTTP_ACCEPT_LANGUAGE="en")
    assert (changed.json()["choice"], changed.json()["choice_label"]) == ("abstain", "Abstain")
    mine = api(user, "get", vote_url(item))
    assert (mine.json()["choice"], mine.json()["choice_label"]) == ("abstain", "弃权")
    assert list(Vote.objects.filter(item=item).values_list("member_id", "choice")) == [(members[1].pk, "abstain")]


def test_a_secret_vote_is_changed_and_read_only_with_its_receipt(api, members, running):
    session = running[0]
    item = open_item(session, ballot=AgendaItem.Ballot.SECRET)
    user = members[2].user
    first = api(user, "post", vote_url(item), {"choice": "yes"})
    assert first.status_code == 200, first.content
    receipt = first.json()["receipt"]
    assert receipt and first.json()["choice"] == "yes"
    # Without the receipt (another device): seen to have voted, not how; a change is refused.
    blind = api(user, "get", vote_url(item)).json()
    assert (blind["voted"], blind["choice"]) == (True, None)
    before = stored_ballots(item)
    refused = assert_problem(
        api(user, "post", vote_url(item), {"choice": "no"}, HTTP_ACCEPT_LANGUAGE="en"), 409, "council_refused"
    )
    assert "another device" in refused["message"]
    assert stored_ballots(item) == before
    # Another member's receipt is none of theirs: signed for one member.
    other = members[0].user
    assert api(other, "post", vote_url(item), {"choice": "abstain"}).status_code == 200
    assert_problem(api(other, "post", vote_url(item), {"choice": "no"}, HTTP_X_BALLOT_RECEIPT=receipt), 409, "council_refused")
    # With it: changed, and shown.
    changed = api(user, "post", vote_url(item), {"choice": "no"}, HTTP_X_BALLOT_RECEIPT=receipt)
    assert (changed.json()["choice"], changed.json()["receipt"]) == ("no", receipt)
    shown = api(user, "get", vote_url(item), HTTP_X_BALLOT_RECEIPT=receipt)
    assert shown.json()["choice"] == "no" and "X-Ballot-Receipt" in shown["Vary"]
    assert Participation.objects.filter(item=item).count() == 2 and Ballot.objects.filter(item=item).count() == 2
    assert not Vote.objects.exists()
    # Once closed, the receipt matches nothing: no choice is shown to anyone.
    voting.close_voting(item=item, actor=members[0].user)
    closed = api(user, "get", vote_url(item), HTTP_X_BALLOT_RECEIPT=receipt).json()
    assert (closed["voted"], closed["choice"], closed["item_status"]) == (True, None, "closed")


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "表决"), ("en", "Voting on this item is not open.")])
def test_a_closed_or_pending_vote_is_409_and_records_nothing(api, members, running, language, message):
    session, (item, pending) = running
    item = open_item(session)
    voting.close_voting(item=item, actor=members[0].user)
    for target in (item, pending):
        refused = assert_problem(
            api(members[1].user, "post", vote_url(target), {"choice": "yes"}, HTTP_ACCEPT_LANGUAGE=language),
            409,
            "council_refused",
        )
        assert message in refused["message"]
    assert not Vote.objects.exists()


def test_a_member_who_did_not_check_in_is_refused(api, members, running):
    item = open_item(running[0])
    refused = assert_problem(
        api(members[4].user, "post", vote_url(item), {"choice": "yes"}, HTTP_ACCEPT_LANGUAGE="en"), 409, "council_refused"
    )
    assert "Check in" in refused["message"]
    assert not Vote.objects.exists()


# --- Results ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "outcome", "needs"), [("zh-hans", "通过", "赞成"), ("en", "Passed", "more votes in favour")]
)
def test_the_result_only_after_the_vote_closed(api, members, running, language, outcome, needs):
    session, (item, pending) = running
    early = assert_problem(
        api(members[2].user, "get", result_url(pending), HTTP_ACCEPT_LANGUAGE=language), 409, "vote_not_closed"
    )
    assert ("尚未结束" if language == "zh-hans" else "has not closed yet") in early["message"]
    item = open_item(session)
    for seat, choice in zip(members[:3], ("yes", "yes", "no"), strict=True):
        voting.cast_vote(item=item, user=seat.user, choice=choice)
    assert_problem(api(members[2].user, "get", result_url(item), HTTP_ACCEPT_LANGUAGE=language), 409, "vote_not_closed")
    voting.close_voting(item=item, actor=members[0].user)
    response = api(members[2].user, "get", result_url(item), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    data = response.json()
    assert (data["yes"], data["no"], data["abstain"], data["outcome"], data["passed"]) == (2, 1, 0, "passed", True)
    assert data["outcome_label"] == outcome and needs in data["threshold"]
    assert (data["members"], data["present"], data["sequence"]) == (5, 3, 1) and len(data["digest"]) == 64
    assert api(members[2].user, "get", session_url(session)).json()["items"][0]["result"]["yes"] == 2
    assert (
        api(
            members[2].user, "get", result_url(item), HTTP_IF_NONE_MATCH=response["ETag"], HTTP_ACCEPT_LANGUAGE=language
        ).status_code
        == 304
    )


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", BAD_CHOICES, ids=repr)
def test_bad_choices_are_422_and_record_nothing(api, members, running, bad):
    item = open_item(running[0])
    data = assert_problem(api(members[1].user, "post", vote_url(item), {"choice": bad}), 422, "invalid")
    assert "choice" in data["fields"]
    assert not Vote.objects.exists()


def test_bad_bodies_are_4xx(api, members, running):
    item = open_item(running[0])
    for body in (
        "",
        "[]",
        "null",
        '{"choice": "\\u0000"}',
        '{"choice": 100000000000000000000000}',
        '{"choice": 1e400}',
        "{",
        "\x00",
    ):
        response = api(members[1].user, "post", vote_url(item), body)
        assert 400 <= response.status_code < 500, (body, response.status_code)
        assert_problem(response, response.status_code, response.json()["code"])
    assert not Vote.objects.exists()
    assert not Attendance.objects.filter(member=members[4]).exists()


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_ids_and_list_parameters_are_4xx(api, members, running, bad):
    user = members[1].user
    value = quote(bad)
    for method, path in (
        ("get", f"/api/v1/council/sessions/{value}/"),
        ("post", f"/api/v1/council/sessions/{value}/check-in/"),
        ("get", f"/api/v1/council/items/{value}/vote/"),
        ("post", f"/api/v1/council/items/{value}/vote/"),
        ("get", f"/api/v1/council/items/{value}/result/"),
        ("get", f"/api/v1/council/sessions/?limit={value}"),
        ("get", f"/api/v1/council/sessions/?cursor={value}"),
    ):
        response = api(user, method, path, {"choice": "yes"} if method == "post" else None)
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert_problem(response, response.status_code, response.json()["code"])
    assert not Vote.objects.exists()


@pytest.mark.parametrize("bad", ["", "garbage", "²", "a:b", "x" * 201, "\x7f"])
def test_a_bad_receipt_is_no_receipt(api, members, running, bad):
    item = open_item(running[0], ballot=AgendaItem.Ballot.SECRET)
    user = members[1].user
    response = api(user, "post", vote_url(item), {"choice": "yes"}, HTTP_X_BALLOT_RECEIPT=bad)
    if response.status_code == 200:  # taken as no receipt: a first vote
        assert response.json()["receipt"]
    else:
        assert 400 <= response.status_code < 500
        assert_problem(response, response.status_code, response.json()["code"])
    response = api(user, "get", vote_url(item), HTTP_X_BALLOT_RECEIPT=bad)
    assert response.status_code < 500


def test_the_schema_declares_every_operation_and_its_errors(client, site_pages):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    operations = {
        ("get", "/api/v1/council/sessions/"),
        ("get", "/api/v1/council/sessions/{session_id}/"),
        ("post", "/api/v1/council/sessions/{session_id}/check-in/"),
        ("post", "/api/v1/council/items/{item_id}/vote/"),
        ("get", "/api/v1/council/items/{item_id}/vote/"),
        ("get", "/api/v1/council/items/{item_id}/result/"),
    }
    for method, path in operations:
        responses = paths[path][method]["responses"]
        assert {"200", "401", "404", "422"} <= set(responses), (method, path)
    assert "409" in paths["/api/v1/council/items/{item_id}/vote/"]["post"]["responses"]
    assert "409" in paths["/api/v1/council/items/{item_id}/result/"]["get"]["responses"]


def test_the_session_list_pins_its_queries(api, council, members, client, django_assert_num_queries):
    token = token_for(members[0].user)
    for number in range(6):
        session, _items = running_session(council, present=members[: number % 3])
    client.get("/api/v1/council/sessions/", HTTP_X_SESSION_TOKEN=token)  # warm the site's caches
    # The token's session (whether it exists, then its data) and user, the member's seats, the page of sessions
    # and the member's attendances on it: flat however many sessions.
    with django_assert_num_queries(6):
        assert len(client.get("/api/v1/council/sessions/", HTTP_X_SESSION_TOKEN=token).json()["items"]) == 6
