"""The API of a resident's points (/api/v1/me/points/, /rewards/, /me/reservations/): the pages' queries and
services, as JSON; every endpoint's success, the wrong person, bad input and replays."""

from __future__ import annotations

import datetime
import json
import uuid
from urllib.parse import quote

import pytest
from django.utils import timezone

from api.testing import assert_problem, token_for
from home.factories import CommunityFactory, UserFactory
from plumbing.qr import qr_svg
from points import services
from points.factories import RewardFactory, resident
from points.listing import pickup_url
from points.models import Account, Lot, Reservation, Reward

pytestmark = pytest.mark.usefixtures("site_pages")

BAD_VALUES = ["\x00", "²", str(10**23), "9999-12-31", "-1", "0", ""]


@pytest.fixture
def member():
    """A verified resident of a community with 60 points, 40 of them expiring in 9 days."""
    user = resident(display_name="王阿姨", community=CommunityFactory())
    services.award(resident=user, rule_code="attendance", source_key="api:1", amount=40)
    services.award(resident=user, rule_code="volunteering", source_key="api:2", hours=2)
    Lot.objects.filter(account__resident=user, amount=40).update(expires_on=timezone.localdate() + datetime.timedelta(days=9))
    return user


@pytest.fixture
def phone(client, member):
    """A phone client of the member: every request carries their session token (and no cookie)."""
    token = token_for(member)

    def call(method: str, path: str, **headers):
        return getattr(client, method)(path, HTTP_X_SESSION_TOKEN=token, **headers)

    return call


@pytest.fixture
def bag():
    return RewardFactory(
        name="环保袋", name_en="Tote bag", pickup_place="服务中心", pickup_place_en="Service centre", cost=30, stock=2
    )


def reserve_url(reward) -> str:
    return f"/api/v1/rewards/{reward.pk}/reservations/"


@pytest.fixture
def reserved(phone, bag):
    response = phone("post", reserve_url(bag))
    assert response.status_code == 201, response.content
    return response.json()


# ---------------------------------------------------------------------------
# Balance and statement


def test_my_points_balance_hours_and_what_expires(phone):
    response = phone("get", "/api/v1/me/points/")
    assert response.status_code == 200
    data = response.json()
    soon = (timezone.localdate() + datetime.timedelta(days=9)).isoformat()
    assert data["balance"] == 60 and data["volunteer_hours"] == 2 and data["honours_opt_in"] is False
    assert data["expiring_soon"] == [{"expires_on": soon, "points": 40}]
    assert [item["points"] for item in data["expiring"]] == [40, 20]  # the rest expires later, not soon
    assert "private" in response["Cache-Control"]
    assert phone("get", "/api/v1/me/points/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


@pytest.mark.parametrize(
    ("language", "labels"),
    [("zh-hans", ["志愿服务", "获得"]), ("en", ["Volunteering", "Earned"])],
)
def test_the_statement_newest_first_labelled_in_the_requests_language(phone, member, bag, language, labels):
    services.redeem(resident=member, reward=bag)
    response = phone("get", "/api/v1/me/points/statement/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(item["kind"], item["amount"], item["balance_after"]) for item in items] == [
        ("spend", -30, 30),
        ("earn", 20, 60),
        ("earn", 40, 40),
    ]
    exchanged = "Exchanged for Tote bag" if language == "en" else "兑换环保袋"
    assert exchanged in items[0]["description"]
    assert (items[1]["description"], items[1]["kind_label"]) == tuple(labels)
    assert response.json()["next"] is None


def test_the_statement_pages_by_cursor_and_new_entries_do_not_shift_the_pages(phone, member):
    for number in range(5):
        services.award(resident=member, rule_code="attendance", source_key=f"page:{number}", amount=1)
    first = phone("get", "/api/v1/me/points/statement/?limit=3").json()
    services.award(resident=member, rule_code="attendance", source_key="meanwhile", amount=1)  # a new entry on top
    second = phone("get", f"/api/v1/me/points/statement/?limit=3&cursor={first['next']}").json()
    third = phone("get", f"/api/v1/me/points/statement/?limit=3&cursor={second['next']}").json()
    ids = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert len(ids) == 7 and ids == sorted(ids, reverse=True)  # every entry once, newest first
    assert third["next"] is None


@pytest.mark.parametrize("bad", [*BAD_VALUES, "eyJwIjogMX0", "eyJiZWZvcmUiOiAwfQ", "eyJiZWZvcmUiOiB0cnVlfQ", "x" * 201])
def test_bad_statement_cursors_and_limits_are_4xx(phone, bad):
    for url in (f"/api/v1/me/points/statement/?cursor={quote(bad)}", f"/api/v1/me/points/statement/?limit={quote(bad)}"):
        response = phone("get", url)
        if bad == "":
            assert response.status_code in (200, 422)  # an empty cursor is the first page; an empty limit is not a number
            continue
        assert 400 <= response.status_code < 500, (url, response.status_code)
        assert_problem(response, response.status_code, response.json()["code"])
    if bad.startswith("eyJ"):  # well-formed base64 of JSON the API did not make
        assert_problem(phone("get", f"/api/v1/me/points/statement/?cursor={bad}"), 400, "bad_cursor")


# ---------------------------------------------------------------------------
# Rewards


@pytest.mark.parametrize(("language", "name", "place"), [("zh-hans", "环保袋", "服务中心"), ("en", "Tote bag", "Service centre")])
def test_the_rewards_the_resident_may_exchange_with_stock_and_price(phone, member, bag, language, name, place):
    RewardFactory(name="电饭煲", cost=500, stock=1)
    RewardFactory(name="别的社区", cost=5, community=CommunityFactory())  # not for this resident
    RewardFactory(name="已下架", cost=5, active=False)
    response = phone("get", "/api/v1/rewards/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(item["cost"], item["stock"], item["can_exchange"]) for item in items] == [(30, 2, True), (500, 1, False)]
    assert (items[0]["name"], items[0]["pickup_place"]) == (name, place)
    assert items[0]["reservation_url"] == reserve_url(bag)
    detail = phone("get", f"/api/v1/rewards/{bag.pk}/", HTTP_ACCEPT_LANGUAGE=language)
    assert detail.json() == items[0]
    assert (
        phone("get", f"/api/v1/rewards/{bag.pk}/", HTTP_IF_NONE_MATCH=detail["ETag"], HTTP_ACCEPT_LANGUAGE=language).status_code
        == 304
    )


def test_the_rewards_list_pages_and_says_when_the_monthly_limit_is_reached(phone, member):
    limited = RewardFactory(cost=5, monthly_limit=1)
    for _number in range(3):
        RewardFactory(cost=10)
    services.redeem(resident=member, reward=limited)
    first = phone("get", "/api/v1/rewards/?limit=2").json()
    second = phone("get", f"/api/v1/rewards/?limit=2&cursor={first['next']}").json()
    assert len(first["items"]) == 2 and len(second["items"]) == 2 and second["next"] is None
    assert (first["items"][0]["at_monthly_limit"], first["items"][0]["can_exchange"]) == (True, False)


def test_a_reward_not_for_this_resident_is_not_found(phone):
    for reward in (RewardFactory(community=CommunityFactory()), RewardFactory(active=False)):
        assert_problem(phone("get", f"/api/v1/rewards/{reward.pk}/"), 404, "not_found")
    assert_problem(phone("get", "/api/v1/rewards/999999/"), 404, "not_found")


# ---------------------------------------------------------------------------
# Reserving


def test_reserve_spends_the_points_and_counts_the_stock_down(phone, member, bag, reserved):
    assert reserved["reward"] == "环保袋" and reserved["status"] == "reserved" and reserved["cost"] == 30
    assert reserved["display_code"] == services.format_code(reserved["code"])
    assert Account.objects.get(resident=member).balance == 30
    assert Reward.objects.get(pk=bag.pk).stock == 1
    assert Reservation.objects.get(pk=reserved["id"]).resident == member


def test_a_replayed_idempotency_key_returns_the_same_reservation_with_200(phone, member, bag):
    key = str(uuid.uuid4())
    first = phone("post", reserve_url(bag), HTTP_IDEMPOTENCY_KEY=key)
    again = phone("post", reserve_url(bag), HTTP_IDEMPOTENCY_KEY=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert Reservation.objects.count() == 1 and Account.objects.get(resident=member).balance == 30
    # A new key is a new reservation.
    assert phone("post", reserve_url(bag), HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())).status_code == 201
    assert Reservation.objects.count() == 2


def test_another_residents_idempotency_key_reserves_nothing(client, phone, bag):
    key = str(uuid.uuid4())
    assert phone("post", reserve_url(bag), HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    stranger = resident(community=CommunityFactory())
    services.award(resident=stranger, rule_code="attendance", source_key="stranger", amount=90)
    other = client.post(reserve_url(bag), HTTP_X_SESSION_TOKEN=token_for(stranger), HTTP_IDEMPOTENCY_KEY=key)
    assert_problem(other, 409, "points_refused")
    assert Reservation.objects.count() == 1 and Account.objects.get(resident=stranger).balance == 90


@pytest.mark.parametrize(
    ("language", "message"), [("zh-hans", "需要 500 积分，您现有 60 积分。"), ("en", "You need 500 points but have 60.")]
)
def test_not_enough_points_is_409_with_the_services_message(phone, member, language, message):
    expensive = RewardFactory(name="电饭煲", cost=500)
    data = assert_problem(phone("post", reserve_url(expensive), HTTP_ACCEPT_LANGUAGE=language), 409, "points_refused")
    assert data["message"] == message
    assert not Reservation.objects.exists() and Account.objects.get(resident=member).balance == 60


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "已兑完"), ("en", "out of stock")])
def test_out_of_stock_is_409(phone, language, message):
    empty = RewardFactory(name="雨伞", stock=0, cost=5)
    assert (
        message
        in assert_problem(phone("post", reserve_url(empty), HTTP_ACCEPT_LANGUAGE=language), 409, "points_refused")["message"]
    )


def test_an_unverified_resident_may_not_reserve(client, bag):
    unverified = UserFactory()
    assert_problem(client.post(reserve_url(bag), HTTP_X_SESSION_TOKEN=token_for(unverified)), 403, "forbidden")
    assert not Reservation.objects.exists()


def test_reserving_a_reward_that_does_not_exist_is_404(phone):
    assert_problem(phone("post", "/api/v1/rewards/999999/reservations/"), 404, "not_found")


@pytest.mark.parametrize("bad", [*BAD_VALUES, "not-a-uuid", str(uuid.uuid4())[:-1]])
def test_bad_reward_ids_and_idempotency_keys_are_4xx(phone, bag, bad):
    attempts = [
        phone("get", f"/api/v1/rewards/{quote(bad)}/"),
        phone("post", f"/api/v1/rewards/{quote(bad)}/reservations/"),
        phone("get", f"/api/v1/rewards/?cursor={quote(bad)}"),
    ]
    if bad.isascii():  # a header is ASCII
        attempts.append(phone("post", reserve_url(bag), HTTP_IDEMPOTENCY_KEY=bad))
    for response in attempts:
        if response.status_code in (200, 201) and bad in ("", "0"):
            continue  # an empty cursor is the first page; an empty key is no key
        assert 400 <= response.status_code < 500, (bad, response.status_code, response.content)
        assert_problem(response, response.status_code, response.json()["code"])
    assert Reservation.objects.count() <= 1


def test_a_malformed_idempotency_key_is_422_and_reserves_nothing(phone, bag):
    data = assert_problem(phone("post", reserve_url(bag), HTTP_IDEMPOTENCY_KEY="123"), 422, "invalid")
    assert "Idempotency-Key" in data["fields"]
    assert not Reservation.objects.exists()


# ---------------------------------------------------------------------------
# My reservations: list, one, cancel, pick-up code


def test_my_reservations_and_one_of_them(phone, bag, reserved):
    response = phone("get", "/api/v1/me/reservations/")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [reserved["id"]]
    assert phone("get", "/api/v1/me/reservations/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    one = phone("get", f"/api/v1/me/reservations/{reserved['id']}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert (one["reward"], one["status_label"], one["pickup_place"]) == ("Tote bag", "Waiting for pickup", "Service centre")


def test_cancel_gives_the_points_back_and_a_second_cancel_is_409(phone, member, bag, reserved):
    response = phone("post", f"/api/v1/me/reservations/{reserved['id']}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert Account.objects.get(resident=member).balance == 60 and Reward.objects.get(pk=bag.pk).stock == 2
    again = phone("post", f"/api/v1/me/reservations/{reserved['id']}/cancel/", HTTP_ACCEPT_LANGUAGE="en")
    assert assert_problem(again, 409, "points_refused")["message"] == "Only a reservation waiting for pickup can be cancelled."
    # The list leaves cancelled reservations out, as the overview page does; the reservation itself is still there.
    assert phone("get", "/api/v1/me/reservations/").json()["items"] == []
    assert phone("get", f"/api/v1/me/reservations/{reserved['id']}/").json()["status"] == "cancelled"


def test_the_pick_up_code_and_its_qr_as_svg(phone, reserved):
    response = phone("get", f"/api/v1/me/reservations/{reserved['id']}/pickup/")
    assert response.status_code == 200
    data = response.json()
    assert (data["code"], data["display_code"]) == (reserved["code"], reserved["display_code"])
    # The reservation page's QR code: it opens the staff's hand-over form with the code filled in.
    assert data["qr_svg"] == qr_svg(pickup_url(reserved["code"]), title=reserved["display_code"])
    assert data["qr_svg"].startswith("<svg") and 'class="qr"' in data["qr_svg"]
    assert (
        phone("get", f"/api/v1/me/reservations/{reserved['id']}/pickup/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    )


@pytest.mark.parametrize(
    ("language", "message"), [("zh-hans", "只有待领取的预约才有领取码。"), ("en", "Only a reservation waiting")]
)
def test_a_cancelled_reservation_has_no_pick_up_code(phone, reserved, language, message):
    phone("post", f"/api/v1/me/reservations/{reserved['id']}/cancel/")
    data = assert_problem(
        phone("get", f"/api/v1/me/reservations/{reserved['id']}/pickup/", HTTP_ACCEPT_LANGUAGE=language), 409, "not_reserved"
    )
    assert message in data["message"]


def test_another_residents_reservation_is_404_everywhere(client, member, reserved):
    """404, not 403: reservation ids are sequential, and a 403 would tell a stranger which ids are reservations."""
    stranger = token_for(resident())
    for method, path in (
        ("get", f"/api/v1/me/reservations/{reserved['id']}/"),
        ("get", f"/api/v1/me/reservations/{reserved['id']}/pickup/"),
        ("post", f"/api/v1/me/reservations/{reserved['id']}/cancel/"),
    ):
        assert_problem(getattr(client, method)(path, HTTP_X_SESSION_TOKEN=stranger), 404, "not_found")
    assert Reservation.objects.get(pk=reserved["id"]).status == "reserved"
    assert client.get("/api/v1/me/reservations/", HTTP_X_SESSION_TOKEN=stranger).json()["items"] == []
    assert_problem(client.get("/api/v1/me/reservations/999999/", HTTP_X_SESSION_TOKEN=stranger), 404, "not_found")


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_bad_reservation_ids_and_list_parameters_are_4xx(phone, reserved, bad):
    for method, path in (
        ("get", f"/api/v1/me/reservations/{quote(bad)}/"),
        ("get", f"/api/v1/me/reservations/{quote(bad)}/pickup/"),
        ("post", f"/api/v1/me/reservations/{quote(bad)}/cancel/"),
        ("get", f"/api/v1/me/reservations/?cursor={quote(bad)}&limit=5"),
        ("get", f"/api/v1/me/reservations/?limit={quote(bad)}"),
    ):
        response = phone(method, path)
        if bad == "" and "?" in path:
            continue
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert_problem(response, response.status_code, response.json()["code"])
    assert Reservation.objects.get(pk=reserved["id"]).status == "reserved"


ENDPOINTS = [
    ("get", "/api/v1/me/points/"),
    ("get", "/api/v1/me/points/statement/"),
    ("get", "/api/v1/rewards/"),
    ("get", "/api/v1/rewards/1/"),
    ("post", "/api/v1/rewards/1/reservations/"),
    ("get", "/api/v1/me/reservations/"),
    ("get", "/api/v1/me/reservations/1/"),
    ("post", "/api/v1/me/reservations/1/cancel/"),
    ("get", "/api/v1/me/reservations/1/pickup/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_token(client, method, path):
    assert_problem(getattr(client, method)(path), 401, "not_authenticated")
    assert_problem(getattr(client, method)(path, HTTP_X_SESSION_TOKEN="not-a-session"), 401, "not_authenticated")


def test_the_schema_declares_every_operation_and_its_errors(client):
    schema = client.get("/api/v1/openapi.json").json()
    for method, path in ENDPOINTS:
        template = path.replace("/1/", "/{reward_id}/" if "rewards" in path else "/{reservation_id}/")
        responses = schema["paths"][template][method]["responses"]
        assert {"401", "422", "429"} <= set(responses), template
    assert {"200", "201", "403", "404", "409"} <= set(
        schema["paths"]["/api/v1/rewards/{reward_id}/reservations/"]["post"]["responses"]
    )


def test_the_statement_query_count_is_flat(client, member, django_assert_num_queries):
    reward = RewardFactory(cost=1, stock=50)
    for _number in range(6):
        services.redeem(resident=member, reward=reward)
    token = token_for(member)
    client.get("/api/v1/me/points/statement/", HTTP_X_SESSION_TOKEN=token)
    # The token's session (two) and user, the account, the page of entries, rule names, reward names.
    with django_assert_num_queries(7):
        response = client.get("/api/v1/me/points/statement/", HTTP_X_SESSION_TOKEN=token)
    assert len(response.json()["items"]) == 8


def test_json_bodies_are_ignored_where_none_is_expected(phone, bag):
    """Reserving takes no body: a client that sends one (even with a NUL) reserves all the same, once."""
    response = phone("post", reserve_url(bag), data=json.dumps({"x": "\x00"}), content_type="application/json")
    assert response.status_code == 201, response.content
    assert Reservation.objects.count() == 1
