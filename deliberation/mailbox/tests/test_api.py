"""The mailbox's API (/api/v1/me/letters/, /api/v1/topics/): the pages' form, queries and services as JSON; every
endpoint's success, the wrong person, bad input, photos and their limits, replays and both languages."""

from __future__ import annotations

import io
import json
import os
import threading
import uuid
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from PIL import Image

from api.testing import assert_problem, token_for
from deliberation.mailbox import services
from deliberation.mailbox.factories import LetterFactory, TopicFactory, resident, staff_member, web_letter
from deliberation.mailbox.models import Letter, LetterPhoto, Support, Topic
from home.factories import CommunityFactory, GridFactory, UserFactory

pytestmark = pytest.mark.django_db

BAD_VALUES = ["\x00", "²", str(10**23), "9999-12-31", "-1", "0", ""]
LETTERS = "/api/v1/me/letters/"


def png(size: tuple[int, int] = (10, 10), *, noise: bool = False) -> bytes:
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise else Image.new("RGB", size, "blue")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def photo(data: bytes | None = None, name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png() if data is None else data, content_type="image/png")


def letter_fields(home, **fields) -> dict:
    data = {"subject": "东门停车难", "body": "晚上回来找不到车位。", "category": "parking", "community": home.pk}
    data.update(fields)
    return data


@pytest.fixture
def writer(community):
    return resident(community, display_name="王小明")


@pytest.fixture
def phone(client, writer):
    """A phone client of the writer: every request carries their session token (and no cookie)."""
    token = token_for(writer)

    def call(method: str, path: str, body=None, **headers):
        headers.setdefault("HTTP_X_SESSION_TOKEN", token)
        if method == "post" and isinstance(body, dict) and headers.pop("multipart", False):
            return client.post(path, body, **headers)  # the test client's multipart/form-data
        if body is not None:
            body = json.dumps(body) if not isinstance(body, str) else body
            return getattr(client, method)(path, body, content_type="application/json", **headers)
        return getattr(client, method)(path, **headers)

    return call


def write(phone, home, files=(), **fields):
    data = letter_fields(home, **fields)
    if files:
        data["photos"] = list(files)
    headers = {key: data.pop(key) for key in [key for key in data if key.startswith("HTTP_")]}
    return phone("post", LETTERS, data, multipart=True, **headers)


# ---------------------------------------------------------------------------
# Writing a letter


def test_a_resident_writes_a_letter_with_photos_and_finds_it_in_my_letters(phone, writer, community):
    grid = GridFactory(community=community)
    response = write(phone, community, files=[photo(), photo(name="second.png")], grid=grid.pk, place="东门停车场")
    assert response.status_code == 201, response.content
    data = response.json()
    letter = Letter.objects.get(pk=data["id"])
    assert (letter.writer, letter.channel, letter.community, letter.grid) == (writer, "web", community, grid)
    assert data["tracking_number"] == letter.tracking_number
    assert (data["status"], data["place"], data["grid"]) == ("new", "东门停车场", grid.name)
    assert [each["width"] for each in data["photos"]] == [10, 10]
    assert LetterPhoto.objects.filter(letter=letter).count() == 2
    assert [step["kind"] for step in data["timeline"]] == ["received"]
    mine = phone("get", LETTERS).json()
    assert [each["id"] for each in mine["items"]] == [letter.pk]
    assert phone("get", f"{LETTERS}{letter.pk}/").json()["body"] == "晚上回来找不到车位。"
    image = phone("get", data["photos"][0]["url"])
    assert (image.status_code, image["Content-Type"], image["Cache-Control"]) == (200, "image/png", "private, no-store")
    assert Image.open(io.BytesIO(image.content)).size == (10, 10)


def test_a_photo_is_kept_without_its_metadata(phone, community):
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera make
    Image.new("RGB", (30, 20), "red").save(out, format="JPEG", exif=exif.tobytes())
    response = write(phone, community, files=[SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")])
    assert response.status_code == 201
    stored = LetterPhoto.objects.get(letter_id=response.json()["id"])
    assert b"SecretCam" not in bytes(stored.data)
    assert (stored.width, stored.height) == (30, 20)


def test_writing_needs_a_token(client, community):
    assert_problem(client.post(LETTERS, letter_fields(community)), 401, "not_authenticated")
    assert not Letter.objects.exists()


def test_an_unverified_resident_is_refused_with_403(client, community):
    response = client.post(LETTERS, letter_fields(community), HTTP_X_SESSION_TOKEN=token_for(UserFactory()))
    assert_problem(response, 403, "forbidden")
    assert not Letter.objects.exists()


def test_a_non_image_is_refused_as_a_photo_and_nothing_is_stored(phone, community):
    disguised = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    data = assert_problem(write(phone, community, files=[disguised], HTTP_ACCEPT_LANGUAGE="en"), 422, "invalid")
    assert "not a photo" in data["fields"]["photos"]
    empty = SimpleUploadedFile("empty.png", b"", content_type="image/png")
    assert "photos" in assert_problem(write(phone, community, files=[empty]), 422, "invalid")["fields"]
    as_text = assert_problem(
        write(phone, community, photos="data:image/png;base64,iVBOR", HTTP_ACCEPT_LANGUAGE="en"), 422, "invalid"
    )
    assert as_text["fields"] == {"photos": "Send each photo as a file."}
    assert not Letter.objects.exists()


def test_more_photos_than_the_page_takes_are_refused(phone, community):
    files = [photo() for _ in range(services.MAX_PHOTOS + 1)]
    data = assert_problem(write(phone, community, files=files, HTTP_ACCEPT_LANGUAGE="en"), 422, "invalid")
    assert "at most 3 photos" in data["fields"]["photos"]
    assert not Letter.objects.exists()


def test_a_photo_over_the_pages_size_limit_is_refused(phone, community):
    huge = photo(b"\x89PNG\r\n\x1a\n" + b"\0" * services.MAX_PHOTO_BYTES)
    data = assert_problem(write(phone, community, files=[huge]), 422, "invalid")
    assert "8 MB" in data["fields"]["photos"]
    assert not Letter.objects.exists()


def test_photos_may_pass_the_json_body_limit_but_not_the_upload_limit(phone, community):
    big = png((160, 160), noise=True)
    assert len(big) > settings.LINLI_API_MAX_BODY_BYTES
    assert settings.LINLI_API_MAX_UPLOAD_BYTES >= services.MAX_PHOTOS * services.MAX_PHOTO_BYTES
    assert write(phone, community, files=[photo(big)]).status_code == 201
    # The larger limit is this operation's alone: elsewhere the JSON limit holds.
    topic = TopicFactory(community=community)
    too_big = phone("post", f"/api/v1/topics/{topic.pk}/support/", {"padding": "x" * settings.LINLI_API_MAX_BODY_BYTES})
    assert_problem(too_big, 413, "too_large")
    with override_settings(LINLI_API_MAX_UPLOAD_BYTES=len(big) // 2):
        data = assert_problem(write(phone, community, files=[photo(big)], HTTP_ACCEPT_LANGUAGE="en"), 413, "too_large")
    assert str(len(big) // 2) in data["message"]
    assert Letter.objects.count() == 1


def test_a_grid_of_another_community_and_an_unknown_community_are_refused(phone, community):
    elsewhere = GridFactory(community=CommunityFactory(name="江南社区"))
    refused = assert_problem(write(phone, community, grid=elsewhere.pk, HTTP_ACCEPT_LANGUAGE="en"), 409, "mailbox_refused")
    assert "not in the chosen community" in refused["message"]  # the service's rule, as on the page
    assert "community" in assert_problem(write(phone, community, community=999999), 422, "invalid")["fields"]
    assert not Letter.objects.exists()


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_bad_input_in_every_letter_field_is_4xx(phone, community, bad):
    for name in ("subject", "body", "category", "community", "grid", "place", "privacy", "photos", "HTTP_IDEMPOTENCY_KEY"):
        response = write(phone, community, **{name: bad})
        if response.status_code == 201:
            # Free text (a subject "9999-12-31") or an empty optional field makes a letter; the rest must be refused.
            free_text = name in ("subject", "body", "place") and bad != "\x00"
            assert free_text or (bad == "" and name in ("place", "grid", "photos", "HTTP_IDEMPOTENCY_KEY")), (name, bad)
            continue
        assert 400 <= response.status_code < 500, (name, response.content)
        assert_problem(response, response.status_code, response.json()["code"])
    assert set(Letter.objects.values_list("category", flat=True)) <= {"parking"}


def test_nul_and_overlong_text_are_refused(phone, community):
    assert_problem(write(phone, community, subject="东门\x00"), 400, "bad_request")
    assert "subject" in assert_problem(write(phone, community, subject="长" * 121), 422, "invalid")["fields"]
    assert "body" in assert_problem(write(phone, community, body="   "), 422, "invalid")["fields"]  # the form's check
    assert not Letter.objects.exists()


def test_a_replayed_idempotency_key_returns_the_same_letter_with_200(phone, community):
    key = str(uuid.uuid4())
    first = write(phone, community, files=[photo()], HTTP_IDEMPOTENCY_KEY=key)
    again = write(phone, community, files=[photo()], HTTP_IDEMPOTENCY_KEY=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert Letter.objects.count() == 1 and LetterPhoto.objects.count() == 1
    assert write(phone, community, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())).status_code == 201
    assert Letter.objects.count() == 2


def test_a_replay_is_answered_even_after_the_daily_limit(phone, community):
    key = str(uuid.uuid4())
    first = write(phone, community, HTTP_IDEMPOTENCY_KEY=key)
    for _ in range(services.LETTERS_PER_ACCOUNT_PER_DAY - 1):
        assert write(phone, community).status_code == 201
    data = assert_problem(write(phone, community, HTTP_ACCEPT_LANGUAGE="en"), 429, "too_many_letters")
    assert "tomorrow" in data["message"]
    again = write(phone, community, HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


def test_another_residents_idempotency_key_stores_nothing(client, phone, community):
    key = str(uuid.uuid4())
    assert write(phone, community, HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    stranger = token_for(resident(community))
    response = client.post(LETTERS, letter_fields(community), HTTP_X_SESSION_TOKEN=stranger, HTTP_IDEMPOTENCY_KEY=key)
    assert_problem(response, 409, "mailbox_refused")
    assert Letter.objects.count() == 1


# ---------------------------------------------------------------------------
# Following a letter


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", {"status": "已受理", "category": "停车", "steps": ["已收到", "已受理", "社区回复"]}),
        ("en", {"status": "Accepted", "category": "Parking", "steps": ["Received", "Accepted", "Reply from the community"]}),
    ],
)
def test_the_letter_with_its_timeline_in_both_languages(phone, writer, community, language, words):
    letter = web_letter(writer=writer, community=community, category="parking")
    staff = staff_member(community)
    services.accept_letter(letter=letter, actor=staff)
    services.reply_to_letter(letter=letter, actor=staff, message="我们会去看看。")
    community.name_en = "Liuhe"
    community.save()
    data = phone("get", f"{LETTERS}{letter.pk}/", HTTP_ACCEPT_LANGUAGE=language).json()
    assert (data["status_label"], data["category_label"]) == (words["status"], words["category"])
    assert [step["label"] for step in data["timeline"]] == words["steps"]
    assert data["timeline"][-1]["message"] == "我们会去看看。"
    assert data["community"] == ("六和社区" if language == "zh-hans" else "Liuhe")
    assert data["ask_satisfaction"] is False
    listed = phone("get", LETTERS, HTTP_ACCEPT_LANGUAGE=language).json()["items"][0]
    assert listed["status_label"] == words["status"]


def test_a_merged_letter_names_its_topic_in_the_readers_language(phone, writer, community):
    staff = staff_member(community)
    letter = web_letter(writer=writer, community=community)
    topic = services.create_topic(community=community, title="东门停车难", category="parking", actor=staff)
    services.merge_letter(letter=letter, topic=topic, actor=staff)
    chinese = phone("get", f"{LETTERS}{letter.pk}/").json()
    assert chinese["topic"] == {
        "id": topic.pk,
        "title": "东门停车难",
        "status": "open",
        "status_label": "正在征集居民支持",
        "public": False,
    }
    assert chinese["timeline"][-1]["topic"] == "东门停车难"
    english = phone("get", f"{LETTERS}{letter.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["topic"]["status_label"] == "Open for support"


def test_my_letters_are_newest_first_and_page_with_a_cursor(phone, writer, community):
    letters = [LetterFactory(writer=writer, community=community) for _ in range(3)]
    LetterFactory(writer=resident(community), community=community)  # someone else's
    first = phone("get", f"{LETTERS}?limit=2").json()
    assert [each["id"] for each in first["items"]] == [letters[2].pk, letters[1].pk]
    rest = phone("get", f"{LETTERS}?limit=2&cursor={first['next']}").json()
    assert [each["id"] for each in rest["items"]] == [letters[0].pk]
    assert rest["next"] is None


def test_the_letter_answers_its_etag_with_304(phone, writer, community):
    letter = web_letter(writer=writer, community=community)
    response = phone("get", f"{LETTERS}{letter.pk}/")
    assert "private" in response["Cache-Control"]
    assert phone("get", f"{LETTERS}{letter.pk}/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


@pytest.mark.parametrize("path", [LETTERS, f"{LETTERS}1/", f"{LETTERS}1/photos/1/"])
def test_my_letters_need_a_token(client, community, path):
    assert_problem(client.get(path), 401, "not_authenticated")


def test_another_residents_letter_is_404_everywhere(client, writer, community):
    letter = web_letter(writer=writer, community=community, photos=[photo()])
    photo_id = letter.photos.get().pk
    services.answer_letter(letter=letter, actor=staff_member(community), message="已处理。")
    for visitor in (resident(community), staff_member(community)):  # even its community's staff: /me/ is the writer's
        token = token_for(visitor)
        assert_problem(client.get(f"{LETTERS}{letter.pk}/", HTTP_X_SESSION_TOKEN=token), 404, "not_found")
        answer = client.post(
            f"{LETTERS}{letter.pk}/satisfaction/",
            {"satisfied": "no"},
            content_type="application/json",
            HTTP_X_SESSION_TOKEN=token,
        )
        assert_problem(answer, 404, "not_found")
        assert client.get(LETTERS, HTTP_X_SESSION_TOKEN=token).json()["items"] == []
        assert_problem(client.get(f"{LETTERS}{letter.pk}/photos/{photo_id}/", HTTP_X_SESSION_TOKEN=token), 404, "not_found")
    letter.refresh_from_db()
    assert letter.satisfied is None


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_bad_letter_ids_and_list_parameters_are_4xx(phone, bad):
    value = quote(bad)
    for method, path, body in (
        ("get", f"{LETTERS}{value}/", None),
        ("get", f"{LETTERS}{value}/photos/1/", None),
        ("get", f"{LETTERS}1/photos/{value}/", None),
        ("post", f"{LETTERS}{value}/satisfaction/", {"satisfied": "yes"}),
        ("get", f"{LETTERS}?limit={value}", None),
        ("get", f"{LETTERS}?cursor={value}", None),
    ):
        response = phone(method, path, body)
        if bad == "" and "?" in path:
            assert response.status_code in (200, 422)
            continue
        assert 400 <= response.status_code < 500, path
        assert_problem(response, response.status_code, response.json()["code"])


# ---------------------------------------------------------------------------
# Satisfaction


def test_the_satisfaction_answer_once_the_letter_is_closed(phone, writer, community):
    letter = web_letter(writer=writer, community=community)
    url = f"{LETTERS}{letter.pk}/satisfaction/"
    data = assert_problem(phone("post", url, {"satisfied": "yes"}, HTTP_ACCEPT_LANGUAGE="en"), 409, "mailbox_refused")
    assert "once your letter is closed" in data["message"]
    services.answer_letter(letter=letter, actor=staff_member(community), message="已增设车位。")
    assert phone("get", f"{LETTERS}{letter.pk}/").json()["ask_satisfaction"] is True
    answered = phone("post", url, {"satisfied": "no"})
    assert answered.status_code == 200
    assert (answered.json()["satisfied"], answered.json()["ask_satisfaction"]) == (False, False)
    again = assert_problem(phone("post", url, {"satisfied": "yes"}), 409, "mailbox_refused")
    assert "已经" in again["message"]
    letter.refresh_from_db()
    assert letter.satisfied is False


@pytest.mark.parametrize("bad", [*BAD_VALUES, True, 1, None])
def test_a_bad_satisfaction_answer_is_422(phone, writer, community, bad):
    letter = web_letter(writer=writer, community=community)
    services.answer_letter(letter=letter, actor=staff_member(community), message="已处理。")
    response = phone("post", f"{LETTERS}{letter.pk}/satisfaction/", {"satisfied": bad})
    assert_problem(response, 422, "invalid")
    assert_problem(phone("post", f"{LETTERS}{letter.pk}/satisfaction/", "[]"), 422, "invalid")
    letter.refresh_from_db()
    assert letter.satisfied is None


def test_satisfaction_needs_a_token(client, writer, community):
    letter = web_letter(writer=writer, community=community)
    response = client.post(f"{LETTERS}{letter.pk}/satisfaction/", {"satisfied": "yes"}, content_type="application/json")
    assert_problem(response, 401, "not_authenticated")


# ---------------------------------------------------------------------------
# Topics


@pytest.mark.parametrize(
    ("language", "title", "status"),
    [("zh-hans", "东门停车难", "正在征集居民支持"), ("en", "Parking at the east gate", "Open for support")],
)
def test_the_topic_list_in_both_languages_with_filters(client, community, language, title, status):
    parking = TopicFactory(community=community, title="东门停车难", title_en="Parking at the east gate")
    TopicFactory(community=community, title="加装电梯", category="elevator")
    TopicFactory(community=community, title="未审核", summary_approved_at=None)
    other = TopicFactory(community=CommunityFactory(name="江南社区"), title="江南停车")
    data = client.get("/api/v1/topics/", HTTP_ACCEPT_LANGUAGE=language).json()
    assert len(data["items"]) == 3 and data["next"] is None  # every public topic, as on the topic list
    filtered = client.get(f"/api/v1/topics/?category=parking&community={community.pk}", HTTP_ACCEPT_LANGUAGE=language).json()
    assert [(each["id"], each["title"], each["status_label"]) for each in filtered["items"]] == [(parking.pk, title, status)]
    assert filtered["items"][0]["supported"] is False
    assert [each["id"] for each in client.get("/api/v1/topics/?status=open&category=parking").json()["items"]] == [
        other.pk,
        parking.pk,
    ]


def test_the_topic_list_says_which_topics_the_resident_supports(phone, writer, community):
    supported, other = TopicFactory(community=community), TopicFactory(community=community)
    services.support_topic(topic=supported, resident=writer)
    items = {each["id"]: each for each in phone("get", "/api/v1/topics/").json()["items"]}
    assert (items[supported.pk]["supported"], items[other.pk]["supported"]) == (True, False)
    assert items[supported.pk]["support_count"] == 1


def test_a_topic_with_its_support_and_who_raised_it(client, writer, community):
    topic = TopicFactory(community=community, title="东门停车难")
    staff = staff_member(community)
    services.merge_letter(letter=web_letter(writer=writer, community=community), topic=topic, actor=staff)
    response = client.get(f"/api/v1/topics/{topic.pk}/")
    data = response.json()
    assert (data["title"], data["raised_by_residents"], data["raised_by_households"]) == ("东门停车难", 1, 1)
    assert (data["support_count"], data["support_threshold"], data["accepts_support"]) == (0, 30, True)
    assert (data["supported"], data["wrote_about"]) == (False, False)
    # The writer sees that their letter already counts for it.
    mine = client.get(f"/api/v1/topics/{topic.pk}/", HTTP_X_SESSION_TOKEN=token_for(writer)).json()
    assert mine["wrote_about"] is True
    assert client.get(f"/api/v1/topics/{topic.pk}/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_an_unapproved_topic_is_not_found(phone, community):
    draft = TopicFactory(community=community, summary_approved_at=None)
    assert_problem(phone("get", f"/api/v1/topics/{draft.pk}/"), 404, "not_found")
    assert_problem(phone("post", f"/api/v1/topics/{draft.pk}/support/"), 404, "not_found")
    assert_problem(phone("post", f"/api/v1/topics/{draft.pk}/support/withdraw/"), 404, "not_found")
    assert not Support.objects.exists()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_support_and_withdraw(phone, writer, community, language):
    topic = TopicFactory(community=community)
    supported = phone("post", f"/api/v1/topics/{topic.pk}/support/", HTTP_ACCEPT_LANGUAGE=language)
    assert supported.status_code == 201
    assert (supported.json()["supported"], supported.json()["support_count"]) == (True, 1)
    again = assert_problem(
        phone("post", f"/api/v1/topics/{topic.pk}/support/", HTTP_ACCEPT_LANGUAGE=language), 409, "mailbox_refused"
    )
    assert ("已附议" if language == "zh-hans" else "already support") in again["message"]
    assert Support.objects.filter(topic=topic, resident=writer).count() == 1
    withdrawn = phone("post", f"/api/v1/topics/{topic.pk}/support/withdraw/")
    assert withdrawn.status_code == 200
    assert (withdrawn.json()["supported"], withdrawn.json()["support_count"]) == (False, 0)
    assert_problem(phone("post", f"/api/v1/topics/{topic.pk}/support/withdraw/"), 409, "mailbox_refused")


def test_a_closed_topic_takes_no_support_and_the_writer_cannot_support_their_own(phone, writer, community):
    closed = TopicFactory(community=community, status=Topic.Status.CLOSED)
    assert_problem(phone("post", f"/api/v1/topics/{closed.pk}/support/"), 409, "mailbox_refused")
    staff = staff_member(community)
    own = services.create_topic(community=community, title="停车难", category="parking", actor=staff)
    services.approve_topic_summary(topic=own, actor=staff, summary="晚间停车难。")
    services.merge_letter(letter=web_letter(writer=writer, community=community), topic=own, actor=staff)
    assert_problem(phone("post", f"/api/v1/topics/{own.pk}/support/"), 409, "mailbox_refused")
    assert not Support.objects.exists()


def test_support_needs_a_verified_resident(client, community):
    topic = TopicFactory(community=community)
    assert_problem(client.post(f"/api/v1/topics/{topic.pk}/support/"), 401, "not_authenticated")
    assert_problem(client.post(f"/api/v1/topics/{topic.pk}/support/withdraw/"), 401, "not_authenticated")
    unverified = token_for(UserFactory())
    assert_problem(client.post(f"/api/v1/topics/{topic.pk}/support/", HTTP_X_SESSION_TOKEN=unverified), 403, "forbidden")
    assert not Support.objects.exists()


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_bad_topic_ids_and_filters_are_4xx(phone, community, bad):
    TopicFactory(community=community)
    value = quote(bad)
    for method, path in (
        ("get", f"/api/v1/topics/{value}/"),
        ("post", f"/api/v1/topics/{value}/support/"),
        ("post", f"/api/v1/topics/{value}/support/withdraw/"),
        ("get", f"/api/v1/topics/?community={value}"),
        ("get", f"/api/v1/topics/?category={value}"),
        ("get", f"/api/v1/topics/?status={value}"),
        ("get", f"/api/v1/topics/?limit={value}"),
        ("get", f"/api/v1/topics/?cursor={value}"),
    ):
        response = phone(method, path)
        if bad == "" and "?" in path:
            assert response.status_code in (200, 422), path
            continue
        assert 400 <= response.status_code < 500, path
        assert_problem(response, response.status_code, response.json()["code"])
    assert not Support.objects.exists()


def test_the_schema_declares_the_mailboxs_operations_and_their_errors(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    upload = paths["/api/v1/me/letters/"]["post"]
    assert set(upload["responses"]) >= {"200", "201", "401", "403", "409", "413", "422", "429"}
    fields = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert {"subject", "body", "category", "community", "grid", "place", "privacy", "photos"} <= set(fields)
    for path in ("/api/v1/me/letters/{letter_id}/satisfaction/", "/api/v1/topics/{topic_id}/support/withdraw/"):
        assert "404" in paths[path]["post"]["responses"]
    photo = paths["/api/v1/me/letters/{letter_id}/photos/{photo_id}/"]["get"]["responses"]
    assert set(photo["200"]["content"]) == {"image/jpeg", "image/png"} and "404" in photo


# ---------------------------------------------------------------------------
# Concurrency (PostgreSQL)


@pytest.mark.django_db(transaction=True)
def test_one_upload_sent_several_times_at_once_stores_one_letter(postgres_only):
    from home.services import ensure_site

    ensure_site()
    community = CommunityFactory(name="六和社区", code="liuhe")
    token, key = token_for(resident(community)), str(uuid.uuid4())
    barrier, responses, lock = threading.Barrier(6), [], threading.Lock()

    def work():
        phone = Client()
        try:
            barrier.wait(timeout=60)
            response = phone.post(LETTERS, letter_fields(community), HTTP_X_SESSION_TOKEN=token, HTTP_IDEMPOTENCY_KEY=key)
            with lock:
                responses.append(response)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert sorted(response.status_code for response in responses) == [200] * 5 + [201]
    assert len({response.json()["id"] for response in responses}) == 1
    assert Letter.objects.count() == 1


def test_the_lists_query_counts_do_not_grow_with_their_items(phone, writer, community):
    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            assert phone("get", path).status_code == 200
        return len(captured)

    def add_some():
        for _ in range(3):
            topic = TopicFactory(community=community)
            services.support_topic(topic=topic, resident=writer)
            LetterFactory(writer=writer, community=community, topic=topic, status="merged")

    add_some()
    before = queries(LETTERS), queries("/api/v1/topics/")
    add_some()
    assert (queries(LETTERS), queries("/api/v1/topics/")) == before
