"""Residents' mailbox pages: writing, following, topics, support; and who may see a letter."""

import io
import re
import struct
import tracemalloc
import zlib

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from PIL import Image

from deliberation.mailbox import services
from deliberation.mailbox.factories import LetterFactory, TopicFactory, community_with_staff, resident, staff_member, web_letter
from deliberation.mailbox.models import Letter, MailboxSettings, Support
from deliberation.mailbox.services import letters
from home.factories import CommunityFactory, GridFactory, UserFactory

pytestmark = pytest.mark.django_db


def url(name, *args, language="zh-hans"):
    with translation.override(language):
        return reverse(name, args=args)


@pytest.fixture
def writer(community):
    return resident(community, display_name="王小明")


@pytest.fixture
def letter(writer, community):
    grid = GridFactory(community=community)
    return LetterFactory(
        writer=writer,
        community=community,
        grid=grid,
        contact_name="王小明",
        contact="13812345678",
        body="东门停车场晚上没有车位。",
    )


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), "blue").save(out, format="PNG")
    return out.getvalue()


# --- Writing ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_form_renders_in_both_languages_with_the_profiles_community(client, writer, community, language):
    client.force_login(writer)
    response = client.get(url("mailbox:write_letter", language=language))
    assert response.status_code == 200
    assert response.context["form"].initial["community"] == community.pk
    assert ("写信给社区" if language == "zh-hans" else "Write to the community") in response.content.decode()


@pytest.mark.parametrize(("language", "place", "choose"), [("zh-hans", "地点", "请选择"), ("en", "Place", "Please choose")])
def test_the_form_says_place_and_starts_without_a_category(client, writer, language, place, choose):
    client.force_login(writer)
    html = client.get(url("mailbox:write_letter", language=language)).content.decode()
    assert f'<label for="id_place">{place}' in html
    assert re.search(r'<select name="category"[^>]*>\s*<option value="" selected>' + choose, html)


@pytest.mark.parametrize(
    ("language", "words"), [("zh-hans", "您选择的 1 张照片没有保留"), ("en", "The photo you chose was not kept")]
)
def test_checking_first_says_the_photo_must_be_chosen_again(client, writer, community, language, words):
    client.force_login(writer)
    data = {
        "subject": "东门停车难",
        "body": "晚上停车位不够",
        "category": "parking",
        "community": community.pk,
        "privacy": "summary",
        "action": "check",
        "photo1": SimpleUploadedFile("car.png", png(), content_type="image/png"),
    }
    assert words in client.post(url("mailbox:write_letter", language=language), data).content.decode()


def test_anonymous_visitors_are_sent_to_log_in_unless_anonymous_letters_are_allowed(client, community):
    response = client.get(url("mailbox:write_letter"))
    assert response.status_code == 302 and "login" in response["Location"]
    settings = MailboxSettings.load()
    settings.allow_anonymous = True
    settings.save()
    response = client.get(url("mailbox:write_letter"))
    assert response.status_code == 200 and "contact" in response.context["form"].fields


def test_a_resident_sends_a_letter_with_a_photo_and_sees_the_tracking_number(
    client, writer, community, django_capture_on_commit_callbacks
):
    client.force_login(writer)
    data = {
        "subject": "东门停车难",
        "body": "晚上回来找不到车位。",
        "category": "parking",
        "community": community.pk,
        "privacy": "summary",
        "action": "send",
        "photo1": SimpleUploadedFile("car.png", png(), content_type="image/png"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("mailbox:write_letter"), data)
    assert response.status_code == 200
    letter = Letter.objects.get()
    assert letter.writer == writer and letter.photos.count() == 1 and letter.language == "zh-hans"
    assert letter.tracking_number in response.content.decode()
    assert letter.tracking_number in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("language", "words"), [("zh-hans", "我们会在 10 个工作日内答复，最迟 "), ("en", "We answer within 10 working days, by ")]
)
def test_the_receipt_names_the_answer_deadline(client, writer, community, language, words):
    client.force_login(writer)
    data = {"subject": "东门停车难", "body": "晚上回来找不到车位。", "category": "parking", "community": community.pk}
    html = client.post(
        url("mailbox:write_letter", language=language), {**data, "privacy": "summary", "action": "send"}
    ).content.decode()
    letter = Letter.objects.get()
    with translation.override(language):
        due = date_format(letter.answer_due(), "DATE_FORMAT")
    assert f"{words}{due}" in html


def test_a_disguised_photo_is_refused_with_a_clear_message(client, writer, community):
    client.force_login(writer)
    data = {
        "subject": "停车",
        "body": "停车难",
        "category": "parking",
        "community": community.pk,
        "privacy": "summary",
        "action": "send",
        "photo1": SimpleUploadedFile("car.jpg", b"<?php echo 1; ?>", content_type="image/jpeg"),
    }
    response = client.post(url("mailbox:write_letter", language="en"), data)
    assert response.status_code == 200
    assert "car.jpg is not a photo" in response.content.decode()
    assert not Letter.objects.exists()


def test_checking_first_suggests_similar_public_topics(client, writer, community):
    topic = TopicFactory(community=community, title="东门停车位不足", summary="晚间停车难")
    TopicFactory(community=community, title="东门停车位规划", summary="草稿", summary_approved_at=None)
    client.force_login(writer)
    data = {
        "subject": "东门停车难",
        "body": "晚上停车位不够",
        "category": "parking",
        "community": community.pk,
        "privacy": "summary",
        "action": "check",
    }
    response = client.post(url("mailbox:write_letter"), data)
    assert [t for t, _score in response.context["suggestions"]] == [topic]
    assert not Letter.objects.exists()


def test_the_rate_limit_answers_429(client, writer, community, monkeypatch):
    monkeypatch.setattr(letters, "LETTERS_PER_ACCOUNT_PER_DAY", 0)
    client.force_login(writer)
    data = {
        "subject": "停车",
        "body": "停车难",
        "category": "parking",
        "community": community.pk,
        "privacy": "summary",
        "action": "send",
    }
    response = client.post(url("mailbox:write_letter"), data)
    assert response.status_code == 429
    assert not Letter.objects.exists()


def letter_data(community, **fields):
    return {
        "subject": "停车",
        "body": "停车难",
        "category": "parking",
        "community": community.pk,
        "privacy": "summary",
        "action": "send",
    } | fields


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_one_busy_client_blocks_neither_residents_nor_other_clients(client, community):
    """All requests come from the proxy's address; the limits follow the client, and residents their account."""
    mailbox = MailboxSettings.load()
    mailbox.allow_anonymous = True
    mailbox.save()
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    shared = {**proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    for _ in range(services.ANONYMOUS_LETTERS_PER_ADDRESS_PER_HOUR):
        assert client.post(url("mailbox:write_letter"), letter_data(community), **shared).status_code == 200
    refused = client.post(url("mailbox:write_letter"), letter_data(community), **shared)
    assert refused.status_code == 429
    assert "请登录或注册后再发送" in refused.content.decode()  # what to do, not only "too many"
    english = client.post(url("mailbox:write_letter", language="en"), letter_data(community), **shared).content.decode()
    assert "Log in or sign up to send yours now" in english
    other_client = {**proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.8"}
    assert client.post(url("mailbox:write_letter"), letter_data(community), **other_client).status_code == 200
    neighbours = [resident(community) for _ in range(services.ANONYMOUS_LETTERS_PER_ADDRESS_PER_HOUR + 2)]
    for neighbour in neighbours:  # residents on the busy client's own address
        client.force_login(neighbour)
        assert client.post(url("mailbox:write_letter"), letter_data(community), **shared).status_code == 200
    assert Letter.objects.filter(writer__in=neighbours).count() == len(neighbours)
    for _ in range(services.LETTERS_PER_ACCOUNT_PER_DAY - 1):
        assert client.post(url("mailbox:write_letter"), letter_data(community), **other_client).status_code == 200
    assert client.post(url("mailbox:write_letter"), letter_data(community), **other_client).status_code == 429
    assert Letter.objects.filter(writer=neighbours[-1]).count() == services.LETTERS_PER_ACCOUNT_PER_DAY


def test_a_refused_letter_decodes_no_photo(client, writer, community):
    """The daily limit answers first: the photos of a letter over the limit are never read."""
    for _ in range(services.LETTERS_PER_ACCOUNT_PER_DAY):
        web_letter(writer=writer, community=community)
    client.force_login(writer)
    disguised = SimpleUploadedFile("car.jpg", b"<?php echo 1; ?>", content_type="image/jpeg")
    response = client.post(url("mailbox:write_letter", language="en"), letter_data(community, photo1=disguised))
    assert response.status_code == 429
    assert "not a photo" not in response.content.decode()


def test_a_large_upload_is_refused_by_its_size_without_being_read(writer, community):
    """9 MB of upload: streamed to a temporary file, refused by its size, never read into memory."""
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from deliberation.mailbox import views

    huge = SimpleUploadedFile("huge.jpg", b"\xff\xd8\xff" + bytes(9 * 1024 * 1024), content_type="image/jpeg")
    with translation.override("en"):
        request = RequestFactory().post(url("mailbox:write_letter", language="en"), letter_data(community, photo1=huge))
        request.user, request.session = writer, SessionStore()
        request._messages = FallbackStorage(request)
        tracemalloc.start()
        try:
            response = views.write_letter(request)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            request.close()  # the handler would: removes the temporary upload file
    assert response.status_code == 200 and "huge.jpg is too large" in response.content.decode()
    assert peak < 4 * 1024 * 1024
    assert not Letter.objects.exists()


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width × height pixels (a decompression bomb's header), with no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [7000, 10_000, 20_000], ids=["49-mpx", "100-mpx", "400-mpx"])
def test_a_photo_with_too_many_pixels_is_refused_with_a_clear_translated_message(client, writer, community, side):
    client.force_login(writer)
    bomb = SimpleUploadedFile("bomb.png", png_header(side, side), content_type="image/png")
    response = client.post(url("mailbox:write_letter"), letter_data(community, photo1=bomb))
    assert response.status_code == 200
    assert "bomb.png 像素过多：每张照片最多 40 百万像素" in response.content.decode()
    assert not Letter.objects.exists()


# --- Following ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_my_letters_and_the_timeline_in_both_languages(client, writer, community, language):
    letter = web_letter(writer=writer, community=community)
    staff = staff_member(community)
    topic = services.create_topic(community=community, title="停车难", category="parking", actor=staff)
    services.merge_letter(letter=letter, topic=topic, actor=staff)
    client.force_login(writer)
    listing = client.get(url("mailbox:my_letters", language=language))
    assert letter.tracking_number in listing.content.decode()
    detail = client.get(url("mailbox:letter_detail", letter.tracking_number, language=language)).content.decode()
    assert ("已与同类来信一并办理" if language == "zh-hans" else "Merged into a topic") in detail
    assert "停车难" in detail


@pytest.mark.parametrize(("language", "words"), [("zh-hans", "写信"), ("en", "Write a letter")])
def test_no_letters_yet_offers_to_write_one(client, writer, language, words):
    client.force_login(writer)
    page = client.get(url("mailbox:my_letters", language=language)).content.decode()
    assert f'<a class="button" href="{url("mailbox:write_letter", language=language)}">{words}</a>' in page


def test_my_letters_query_count_does_not_grow_with_letters(client, writer, community, django_assert_num_queries):
    client.force_login(writer)
    for _ in range(3):
        LetterFactory(writer=writer, community=community)
    for _warm in range(2):  # caches (settings, site, the shared parts) settle in two requests
        client.get(url("mailbox:my_letters"))
    with django_assert_num_queries(4):
        client.get(url("mailbox:my_letters"))
    for _ in range(5):
        LetterFactory(writer=writer, community=community, topic=TopicFactory(community=community), status="merged")
    for _warm in range(2):
        client.get(url("mailbox:my_letters"))
    with django_assert_num_queries(4):
        client.get(url("mailbox:my_letters"))


def test_the_satisfaction_question_after_closing(client, writer, community):
    letter = web_letter(writer=writer, community=community)
    client.force_login(writer)
    assert not client.get(url("mailbox:letter_detail", letter.tracking_number)).context["ask_satisfaction"]
    services.answer_letter(letter=letter, actor=staff_member(community), message="已增设车位。")
    assert client.get(url("mailbox:letter_detail", letter.tracking_number)).context["ask_satisfaction"]
    response = client.post(url("mailbox:letter_satisfaction", letter.tracking_number), {"satisfied": "yes"})
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.satisfied is True
    assert not client.get(url("mailbox:letter_detail", letter.tracking_number)).context["ask_satisfaction"]


# --- Privacy: every view of a letter, for every kind of visitor ------------------------------


def letter_views(letter):
    photo = letter.photos.create(content_type="image/png", data=png(), width=10, height=10)
    return [
        ("get", url("mailbox:letter_detail", letter.tracking_number)),
        ("get", url("mailbox:letter_detail", letter.tracking_number, language="en")),
        ("get", url("mailbox:letter_photo", letter.tracking_number, photo.pk)),
        ("post", url("mailbox:letter_satisfaction", letter.tracking_number)),
    ]


@pytest.mark.parametrize("visitor", ["anonymous", "other resident", "staff of another community"])
def test_nobody_else_sees_a_letter(client, letter, community, visitor):
    if visitor == "other resident":
        client.force_login(resident(community))
    elif visitor == "staff of another community":
        client.force_login(staff_member(community_with_staff(name="其他社区", code="other")))
    for method, path in letter_views(letter):
        response = getattr(client, method)(path, {"satisfied": "yes"} if method == "post" else None)
        if visitor == "anonymous":
            assert response.status_code == 302 and "login" in response["Location"], path
        else:
            assert response.status_code == 404, path
        body = response.content.decode()
        assert "东门停车场" not in body and "13812345678" not in body and "王小明" not in body
    letter.refresh_from_db()
    assert letter.satisfied is None


@pytest.mark.parametrize("visitor", ["writer", "staff of its community"])
def test_the_writer_and_the_communitys_staff_see_the_letter(client, letter, community, visitor):
    client.force_login(letter.writer if visitor == "writer" else staff_member(community))
    for method, path in letter_views(letter)[:3]:
        response = getattr(client, method)(path)
        assert response.status_code == 200, path
        assert response["Cache-Control"].startswith(("max-age=0", "private")), path
    body = client.get(url("mailbox:letter_detail", letter.tracking_number)).content.decode()
    assert "东门停车场" in body and "13812345678" in body


def test_public_topic_pages_never_show_letters_names_or_contacts(client, letter, community):
    topic = TopicFactory(community=community)
    letter.topic, letter.status = topic, "merged"
    letter.save()
    for path in (url("mailbox:topic_list"), url("mailbox:topic_detail", topic.pk), url("mailbox:topic_list", language="en")):
        body = client.get(path).content.decode()
        assert topic.title in body
        assert (
            "东门停车场" not in body and "13812345678" not in body and "王小明" not in body and letter.tracking_number not in body
        )


# --- Topics and support -------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_topic_list_filters_and_pins_its_queries(client, community, language, django_assert_num_queries):
    parking = TopicFactory(community=community, title="停车难")
    TopicFactory(community=community, title="加装电梯", category="elevator")
    TopicFactory(community=community, title="未审核", summary_approved_at=None)
    response = client.get(url("mailbox:topic_list", language=language))
    assert response.status_code == 200
    assert [t.title for t in response.context["page_obj"]] == ["加装电梯", "停车难"]
    response = client.get(url("mailbox:topic_list", language=language), {"category": "parking", "community": community.pk})
    assert list(response.context["page_obj"]) == [parking]
    client.force_login(resident(community))  # not from the page cache; with the support flags
    for _warm in range(2):  # the shared parts and the session settle in two requests
        client.get(url("mailbox:topic_list", language=language), {"status": "open"})
    with django_assert_num_queries(7):
        client.get(url("mailbox:topic_list", language=language), {"status": "open"})
    for index in range(5):
        TopicFactory(community=community, title=f"议题{index}")
    for _warm in range(2):
        client.get(url("mailbox:topic_list", language=language), {"status": "open"})
    with django_assert_num_queries(7):
        client.get(url("mailbox:topic_list", language=language), {"status": "open"})


def test_an_unapproved_topic_is_not_found(client, community):
    draft = TopicFactory(community=community, summary_approved_at=None)
    assert client.get(url("mailbox:topic_detail", draft.pk)).status_code == 404


def test_a_resident_supports_and_withdraws(client, writer, community):
    topic = TopicFactory(community=community)
    client.force_login(writer)
    page = client.get(url("mailbox:topic_detail", topic.pk, language="en")).content.decode()
    assert "Support this topic" in page
    assert client.post(url("mailbox:support_topic", topic.pk)).status_code == 302
    assert client.post(url("mailbox:support_topic", topic.pk)).status_code == 302  # the second is refused, politely
    assert Support.objects.filter(topic=topic).count() == 1
    client.post(url("mailbox:support_topic", topic.pk), {"withdraw": "1"})
    assert not Support.objects.exists()


def test_an_unverified_resident_cannot_support(client, community):
    topic = TopicFactory(community=community)
    client.force_login(UserFactory())
    client.post(url("mailbox:support_topic", topic.pk))
    assert not Support.objects.exists()


def test_support_requires_login(client, community):
    topic = TopicFactory(community=community)
    response = client.post(url("mailbox:support_topic", topic.pk))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_writer_without_an_account_follows_the_letter_by_its_secret_link(client, community, django_capture_on_commit_callbacks):
    settings = MailboxSettings.load()
    settings.allow_anonymous = True
    settings.save()
    data = {
        "subject": "路灯坏了",
        "body": "南门路灯坏了",
        "category": "safety",
        "community": community.pk,
        "privacy": "staff_only",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("mailbox:write_letter"), {**data, "action": "send", "contact": "visitor@example.com"})
    letter = Letter.objects.get()
    link = url("mailbox:track_letter", letter.tracking_number, letter.access_key)
    assert letter.writer is None and len(letter.access_key) >= 20
    assert link in response.content.decode() and link in mail.outbox[0].body
    page = client.get(link)
    assert page.status_code == 200 and "南门路灯坏了" in page.content.decode() and page["Cache-Control"].startswith("max-age=0")
    for wrong in (
        url("mailbox:track_letter", letter.tracking_number, "x" * 22),
        url("mailbox:track_letter", "2026-000999", letter.access_key),
    ):
        response = client.get(wrong)
        assert response.status_code == 404 and "南门路灯坏了" not in response.content.decode()


def test_letters_of_residents_have_no_secret_link(client, writer, community):
    letter = web_letter(writer=writer, community=community)
    assert letter.access_key == ""
    assert client.get(url("mailbox:track_letter", letter.tracking_number, "anything")).status_code == 404


def test_grids_are_offered_with_their_community_in_the_readers_language(client, writer, community):
    grid = GridFactory(community=community, name="第一网格", name_en="Grid 1")
    community.name_en = "Liuhe"
    community.save()
    other = GridFactory(community=CommunityFactory(name="江南社区"), name="第一网格")  # a look-alike elsewhere
    client.force_login(writer)
    writer.profile.community, writer.profile.grid = None, None
    writer.profile.save()
    zh = client.get(url("mailbox:write_letter")).content.decode()
    en = client.get(url("mailbox:write_letter", language="en")).content.decode()
    # Grouped under their community (no JavaScript needed), in the reader's language.
    assert grid_groups(zh) == {"六和社区": [(str(grid.pk), "第一网格")], "江南社区": [(str(other.pk), "第一网格")]}
    assert grid_groups(en)["Liuhe"] == [(str(grid.pk), "Grid 1")]


def grid_groups(html: str) -> dict:
    from bs4 import BeautifulSoup

    select = BeautifulSoup(html, "html.parser").select_one("select[name=grid]")
    return {group["label"]: [(o["value"], o.get_text()) for o in group.select("option")] for group in select.select("optgroup")}


@pytest.mark.parametrize(
    ("title_en", "summary_en", "shown"),
    [
        ("Evening parking at the east gate", "Cars block the fire lane after 7 pm.", "Evening parking at the east gate"),
        ("", "", "东门晚间停车难 (no English yet)"),
    ],
)
def test_english_topic_pages_show_the_english_title_or_say_there_is_none_yet(client, community, title_en, summary_en, shown):
    topic = TopicFactory(community=community, title="东门晚间停车难", title_en=title_en, summary_en=summary_en)

    english = client.get(url("mailbox:topic_detail", topic.pk, language="en")).content.decode()
    listed = client.get(url("mailbox:topic_list", language="en")).content.decode()
    chinese = client.get(url("mailbox:topic_detail", topic.pk)).content.decode()

    assert f"<h1>{shown}</h1>" in english and shown in listed
    assert (summary_en or "(no English yet)") in english
    assert "<h1>东门晚间停车难</h1>" in chinese and "no English" not in chinese


def test_the_english_summary_is_checked_for_phone_numbers_too(community):
    staff = staff_member(community)
    topic = TopicFactory(community=community, summary_approved_at=None)

    with pytest.raises(services.MailboxError):
        services.approve_topic_summary(
            topic=topic, actor=staff, summary="晚间停车难。", title_en="Parking", summary_en="Call 13812345678 about it."
        )


@pytest.mark.parametrize(("language", "words"), [("zh-hans", "您就这个议题写过信"), ("en", "You wrote about this topic")])
def test_the_writer_is_not_offered_to_support_their_own_topic(client, writer, community, language, words):
    staff = staff_member(community)
    topic = services.create_topic(community=community, title="停车难", category="parking", actor=staff)
    services.merge_letter(letter=web_letter(writer=writer, community=community), topic=topic, actor=staff)
    services.approve_topic_summary(topic=topic, actor=staff, summary="多位居民反映晚间停车难。")
    client.force_login(writer)
    html = client.get(url("mailbox:topic_detail", topic.pk, language=language)).content.decode()
    assert words in html and url("mailbox:support_topic", topic.pk, language=language) not in html


LETTER_WORDS = {
    "zh-hans": {"new": "已收到", "merged": "已与同类来信一并办理", "out_of_scope": "不属于受理范围", "answered": "已答复"},
    "en": {"new": "Received", "merged": "Merged into a topic", "out_of_scope": "Out of scope", "answered": "Answered"},
}
TOPIC_WORDS = {
    "zh-hans": {"open": "正在征集居民支持", "shortlisted": "已列入议事会候选"},
    "en": {"open": "Open for support", "shortlisted": "Shortlisted"},
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_residents_read_the_plain_status_words_in_both_languages(client, writer, community, language):
    """The words residents read for where their letter and a topic stand (issue 15, item 19): plain Chinese, not
    the staff's shorthand ("已并入议题", "征集附议", "不予受理"), and their English."""
    staff = staff_member(community)
    received = web_letter(writer=writer, community=community, subject="东门路灯不亮")
    merged = web_letter(writer=writer, community=community, subject="晚上停车难")
    services.merge_letter(letter=merged, topic=TopicFactory(community=community, title="停车难"), actor=staff)
    outside = web_letter(writer=writer, community=community, subject="邻居家装修")
    services.mark_out_of_scope(letter=outside, actor=staff, reason="请联系物业。")
    answered = web_letter(writer=writer, community=community, subject="垃圾桶太少")
    services.answer_letter(letter=answered, actor=staff, message="已增加两个垃圾桶。")
    TopicFactory(community=community, title="增加充电桩", status="shortlisted")
    client.force_login(writer)
    words = LETTER_WORDS[language]
    listing = client.get(url("mailbox:my_letters", language=language)).content.decode()
    for letter, status in ((received, "new"), (merged, "merged"), (outside, "out_of_scope"), (answered, "answered")):
        assert words[status] in listing
        detail = client.get(url("mailbox:letter_detail", letter.tracking_number, language=language)).content.decode()
        assert words[status] in detail
    topics = client.get(url("mailbox:topic_list", language=language)).content.decode()
    assert TOPIC_WORDS[language]["open"] in topics and TOPIC_WORDS[language]["shortlisted"] in topics
    for old in ("已并入议题", "征集附议", "不予受理"):
        assert old not in listing + topics
