"""The mailbox's rules: letters, photos, triage, topics, support, public text, deadlines, notifications."""

import datetime
import io
import uuid

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from PIL import Image

from deliberation.mailbox import notifications, services
from deliberation.mailbox.factories import LetterFactory, TopicFactory, community_with_staff, resident, staff_member, web_letter
from deliberation.mailbox.models import Letter, LetterEvent, MailboxSettings, Support, Topic, TopicChange
from deliberation.mailbox.services import photos
from home.factories import GridFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Error messages in English, as the assertions are; mail still goes out in each writer's language."""
    with translation.override("en"):
        yield


@pytest.fixture
def staff(community):
    return staff_member(community, username="staff-liuhe")


@pytest.fixture
def writer(community):
    return resident(community, display_name="王小明", user__username="wang")


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), "red")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (30.0, 15.0, 0.0), 1: "N"}  # GPS IFD: latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


# --- Letters ------------------------------------------------------------------------------


def test_a_web_letter_gets_the_next_tracking_number_of_the_year(writer, community, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = web_letter(writer=writer, community=community)
        second = web_letter(writer=writer, community=community)
    year = timezone.localdate().year
    assert first.tracking_number == f"{year}-000001"
    assert second.tracking_number == f"{year}-000002"
    assert [event.kind for event in first.events.all()] == [LetterEvent.Kind.RECEIVED]
    assert len(mail.outbox) == 2
    assert first.tracking_number in mail.outbox[0].subject
    assert mail.outbox[0].to == [writer.email]


def test_the_receipt_is_in_the_writers_language(writer, community, django_capture_on_commit_callbacks):
    writer.profile.preferred_language = "en"
    writer.profile.save()
    with django_capture_on_commit_callbacks(execute=True):
        letter = web_letter(writer=writer, community=community, language="zh-hans")
    assert mail.outbox[0].subject == f"Your letter {letter.tracking_number}: Received"
    assert "Keep your tracking number" in mail.outbox[0].body


def test_a_rolled_back_letter_gives_its_number_back(writer, community):
    with pytest.raises(RuntimeError), transaction.atomic():
        web_letter(writer=writer, community=community)
        raise RuntimeError
    assert web_letter(writer=writer, community=community).tracking_number.endswith("-000001")


def test_a_web_letter_needs_a_verified_resident_unless_anonymous_letters_are_allowed(community):
    unverified = UserFactory()
    with pytest.raises(PermissionDenied):
        web_letter(writer=unverified, community=community)
    anonymous = type("Anonymous", (), {"is_authenticated": False})()
    with pytest.raises(PermissionDenied):
        web_letter(writer=anonymous, community=community)
    settings = MailboxSettings.load()
    settings.allow_anonymous = True
    settings.save()
    letter = web_letter(writer=anonymous, community=community, contact="13812345678")
    assert letter.writer is None and letter.contact == "13812345678"


def test_subject_and_text_are_required(writer, community):
    with pytest.raises(services.MailboxError):
        web_letter(writer=writer, community=community, subject=" ", body="x")


def test_the_grid_must_belong_to_the_community(writer, community):
    elsewhere = GridFactory()
    with pytest.raises(services.MailboxError):
        web_letter(writer=writer, community=community, grid=elsewhere)


def test_one_account_sends_at_most_five_letters_a_day(writer, community):
    for _ in range(services.LETTERS_PER_ACCOUNT_PER_DAY):
        web_letter(writer=writer, community=community)
    with pytest.raises(services.RateLimited):
        web_letter(writer=writer, community=community)


def allow_anonymous_letters() -> None:
    mailbox = MailboxSettings.load()
    mailbox.allow_anonymous = True
    mailbox.save()


def test_one_address_sends_at_most_ten_anonymous_letters_an_hour(community):
    allow_anonymous_letters()
    for _ in range(services.ANONYMOUS_LETTERS_PER_ADDRESS_PER_HOUR):
        web_letter(writer=None, community=community, address="203.0.113.9")
    with pytest.raises(services.RateLimited):
        web_letter(writer=None, community=community, address="203.0.113.9")
    web_letter(writer=None, community=community, address="203.0.113.10")


def test_residents_on_one_shared_address_do_not_block_each_other(community):
    """A community centre's Wi-Fi: each resident is limited by their account, not by the address."""
    allow_anonymous_letters()
    for _ in range(services.ANONYMOUS_LETTERS_PER_ADDRESS_PER_HOUR):
        web_letter(writer=None, community=community, address="203.0.113.9")
    neighbours = [resident(community) for _ in range(services.ANONYMOUS_LETTERS_PER_ADDRESS_PER_HOUR + 2)]
    for neighbour in neighbours:
        web_letter(writer=neighbour, community=community, address="203.0.113.9")
    assert Letter.objects.filter(writer__in=neighbours).count() == len(neighbours)
    busy = neighbours[0]
    for _ in range(services.LETTERS_PER_ACCOUNT_PER_DAY - 1):
        web_letter(writer=busy, community=community, address="203.0.113.9")
    with pytest.raises(services.RateLimited):
        web_letter(writer=busy, community=community, address="198.51.100.1")


def test_staff_enter_a_letter_only_with_consent_and_only_for_their_community(community, staff):
    with pytest.raises(services.MailboxError):
        services.submit_letter(channel=Letter.Channel.STAFF, subject="电梯", body="老人上楼难", community=community, actor=staff)
    other = community_with_staff(name="其他社区", code="other")
    with pytest.raises(PermissionDenied):
        services.submit_letter(
            channel=Letter.Channel.STAFF, subject="电梯", body="老人上楼难", community=other, actor=staff, consent_recorded=True
        )
    letter = services.submit_letter(
        channel=Letter.Channel.STAFF, subject="电梯", body="老人上楼难", community=community, actor=staff, consent_recorded=True
    )
    assert letter.entered_by == staff and letter.consent_recorded


def test_photos_are_reencoded_without_exif_or_location(writer, community):
    photo = services.clean_photo(data=jpeg_with_gps(), name="a.jpg")
    with Image.open(io.BytesIO(photo.data)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert "exif" not in image.info
    letter = web_letter(writer=writer, community=community, photos=[photo])
    assert letter.photos.get().width == 64


@pytest.mark.parametrize(
    "data",
    [b"<html><script>alert(1)</script></html>", b"GIF89a" + b"\x00" * 20, b"%PDF-1.4 not a photo"],
    ids=["html-named-jpg", "broken-gif", "pdf"],
)
def test_things_that_are_not_photos_are_refused(data):
    with pytest.raises(services.PhotoError, match="not a photo"):
        services.clean_photo(data=data, name="photo.jpg")


def test_a_gif_is_refused_even_when_it_is_a_real_image():
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="GIF")
    with pytest.raises(services.PhotoError):
        services.clean_photo(data=out.getvalue(), name="a.gif")


def test_a_photo_too_large_is_refused(monkeypatch):
    monkeypatch.setattr(photos, "MAX_PHOTO_BYTES", 100)
    with pytest.raises(services.PhotoError, match="too large"):
        services.clean_photo(data=jpeg_with_gps(), name="big.jpg")


def test_at_most_three_photos(writer, community):
    photo = services.clean_photo(data=jpeg_with_gps())
    with pytest.raises(services.PhotoError):
        web_letter(writer=writer, community=community, photos=[photo] * 4)


# --- Triage -------------------------------------------------------------------------------


def test_staff_accept_reply_and_answer(writer, community, staff, django_capture_on_commit_callbacks):
    letter = web_letter(writer=writer, community=community)
    with django_capture_on_commit_callbacks(execute=True):
        services.accept_letter(letter=letter, actor=staff)
        services.reply_to_letter(letter=letter, actor=staff, message="已转物业处理。")
        services.answer_letter(letter=letter, actor=staff, message="新增车位二十个。")
    letter.refresh_from_db()
    assert letter.status == Letter.Status.ANSWERED and letter.closed_at is not None
    assert [e.kind for e in letter.events.all()] == ["received", "accepted", "replied", "answered"]
    assert len(mail.outbox) == 3
    assert "新增车位二十个。" in mail.outbox[-1].body
    with pytest.raises(services.MailboxError):
        services.accept_letter(letter=letter, actor=staff)


def test_staff_of_another_community_cannot_triage(writer, community):
    letter = web_letter(writer=writer, community=community)
    outsider = staff_member(community_with_staff(name="其他社区", code="other"))
    for action in (
        lambda: services.accept_letter(letter=letter, actor=outsider),
        lambda: services.mark_out_of_scope(letter=letter, actor=outsider, reason="x"),
        lambda: services.add_note(letter=letter, actor=outsider, text="x"),
        lambda: services.reply_to_letter(letter=letter, actor=outsider, message="x"),
    ):
        with pytest.raises(PermissionDenied):
            action()


def test_out_of_scope_needs_a_reason(writer, community, staff):
    letter = web_letter(writer=writer, community=community)
    with pytest.raises(services.MailboxError):
        services.mark_out_of_scope(letter=letter, actor=staff, reason="  ")
    services.mark_out_of_scope(letter=letter, actor=staff, reason="属于区住建局职责，已转交。")
    letter.refresh_from_db()
    assert letter.status == Letter.Status.OUT_OF_SCOPE


def test_the_database_refuses_out_of_scope_without_reason(community):
    with pytest.raises(IntegrityError), transaction.atomic():
        LetterFactory(community=community, status=Letter.Status.OUT_OF_SCOPE, out_of_scope_reason="")


def test_letters_are_assigned_only_to_the_communitys_staff(writer, community, staff):
    letter = web_letter(writer=writer, community=community)
    with pytest.raises(services.MailboxError):
        services.assign_letter(letter=letter, actor=staff, assignee=writer)
    head = staff_member(community, head=True)
    assert services.assign_letter(letter=letter, actor=staff, assignee=head).assigned_to == head


# --- Topics -------------------------------------------------------------------------------


def test_merging_links_the_letter_and_moving_and_splitting_are_audited(
    writer, community, staff, django_capture_on_commit_callbacks
):
    letter = web_letter(writer=writer, community=community)
    parking = services.create_topic(community=community, title="停车难", category="parking", actor=staff)
    lots = services.create_topic(community=community, title="新增车位", category="parking", actor=staff)
    with django_capture_on_commit_callbacks(execute=True):
        services.merge_letter(letter=letter, topic=parking, actor=staff)
    letter.refresh_from_db()
    assert letter.status == Letter.Status.MERGED and letter.topic == parking
    assert letter.body == "晚上回来总是找不到停车位，希望增加车位。"  # kept whole
    assert "停车难" in mail.outbox[-1].body
    services.merge_letter(letter=letter, topic=lots, actor=staff)
    separate = services.split_letter(letter=letter, actor=staff, title="夜间停车")
    assert [(c.action, c.from_topic, c.to_topic) for c in TopicChange.objects.all()] == [
        ("merged", None, parking),
        ("moved", parking, lots),
        ("split", lots, separate),
    ]
    with pytest.raises(services.MailboxError):
        services.merge_letter(letter=letter, topic=separate, actor=staff)


def test_a_letter_joins_only_a_topic_of_its_own_community(writer, community, staff):
    letter = web_letter(writer=writer, community=community)
    foreign = TopicFactory(community=community_with_staff(name="其他社区", code="other"))
    with pytest.raises(services.MailboxError):
        services.merge_letter(letter=letter, topic=foreign, actor=staff)


def test_a_topic_counts_distinct_residents_and_households(community, staff):
    topic = services.create_topic(community=community, title="停车难", category="parking", actor=staff)
    neighbour_a = resident(community, building_unit="3幢2单元")
    neighbour_b = resident(community, building_unit="3幢2单元")
    other = resident(community, building_unit="5幢1单元")
    for person in (neighbour_a, neighbour_a, neighbour_b, other):
        services.merge_letter(letter=web_letter(writer=person, community=community), topic=topic, actor=staff)
    assert services.raised_by(topic) == (3, 2)


def test_topic_status_follows_the_workflow_and_tells_each_writer(writer, community, staff, django_capture_on_commit_callbacks):
    topic = services.create_topic(community=community, title="停车难", category="parking", actor=staff)
    services.merge_letter(letter=web_letter(writer=writer, community=community), topic=topic, actor=staff)
    with pytest.raises(services.MailboxError):
        services.change_topic_status(topic=topic, actor=staff, status=Topic.Status.DECIDED)
    with pytest.raises(services.MailboxError):
        services.change_topic_status(topic=topic, actor=staff, status=Topic.Status.REJECTED)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.change_topic_status(topic=topic, actor=staff, status=Topic.Status.SHORTLISTED)
    assert len(mail.outbox) == 1
    with translation.override("zh-hans"):  # the writer's language
        assert mail.outbox[0].subject.endswith(str(Topic.Status.SHORTLISTED.label))


def test_each_step_is_mailed_once(writer, community, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        letter = web_letter(writer=writer, community=community)
    event = letter.events.get()
    assert notifications.notify_letter_event(event_id=event.pk) is False
    LetterEvent.objects.filter(pk=event.pk).update(notified_at=None, created_at=timezone.now() - datetime.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.send_pending_notifications() == 1
        assert notifications.send_pending_notifications() == 0
    assert len(mail.outbox) == 1  # the outbox holds one message per step: replaying the step queues no second one


def test_public_summary_refuses_names_phones_addresses_and_sensitive_words(writer, community, staff):
    topic = services.create_topic(community=community, title="停车难", category="parking", actor=staff)
    services.merge_letter(letter=web_letter(writer=writer, community=community), topic=topic, actor=staff)
    settings = MailboxSettings.load()
    settings.sensitive_words = "某敏感词\n"
    settings.save()
    for text in (
        "王小明反映停车难",
        "联系电话13812345678",
        "请致电0571-87654321",
        "写信人 wang@example.com",
        "3幢2单元门口停车难",
        "含有某敏感词的摘要",
    ):
        with pytest.raises(services.MailboxError):
            services.approve_topic_summary(topic=topic, actor=staff, summary=text)
    topic.refresh_from_db()
    assert topic.summary_approved_at is None and not topic.is_public
    services.approve_topic_summary(topic=topic, actor=staff, summary="多位居民反映晚间停车难。")
    topic.refresh_from_db()
    assert topic.is_public and topic.summary_approved_by == staff


@pytest.mark.parametrize(
    ("summary", "named"),
    [
        ("Wang Xiaoming reports cars parked on the path.", "Wang Xiaoming"),
        ("wáng xiǎomíng reports cars parked on the path.", "wáng xiǎomíng"),
        ("WangXiaoming reports cars parked on the path.", "WangXiaoming"),
        ("WANG XIAO MING reports cars parked on the path.", "WANG XIAO MING"),
        ("Xiaoming Wang reports cars parked on the path.", "Xiaoming Wang"),
        ("王小明反映停车难", "王小明"),
    ],
)
def test_public_summary_refuses_the_writers_name_in_either_script_and_says_which_words(writer, community, staff, summary, named):
    topic = services.create_topic(community=community, title="停车难", category="parking", actor=staff)
    services.merge_letter(letter=web_letter(writer=writer, community=community), topic=topic, actor=staff)
    with translation.override("en"), pytest.raises(services.MailboxError) as refused:
        services.approve_topic_summary(topic=topic, actor=staff, summary=summary)
    assert str(refused.value) == f"The summary must not name the residents who wrote: {named}"
    with translation.override("zh-hans"), pytest.raises(services.MailboxError) as refused:
        services.approve_topic_summary(topic=topic, actor=staff, summary=summary)
    assert str(refused.value) == f"摘要不得出现来信居民的姓名：{named}"
    # Words that only contain the pinyin, or other people's names, pass.
    services.approve_topic_summary(topic=topic, actor=staff, summary="Residents of Wangjiang Road report that parking is hard.")
    topic.refresh_from_db()
    assert topic.is_public


def test_public_summary_says_which_phone_number_it_refused(writer, community, staff):
    topic = services.create_topic(community=community, title="停车难", category="parking", actor=staff)
    with translation.override("zh-hans"), pytest.raises(services.MailboxError) as refused:
        services.approve_topic_summary(topic=topic, actor=staff, summary="联系电话13812345678")
    assert str(refused.value) == "摘要不得包含电话号码、邮箱地址或住址：13812345678"


def test_support_once_per_verified_resident(community, writer):
    topic = TopicFactory(community=community)
    services.support_topic(topic=topic, resident=writer)
    with pytest.raises(services.MailboxError):
        services.support_topic(topic=topic, resident=writer)
    with pytest.raises(PermissionDenied):
        services.support_topic(topic=topic, resident=UserFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        Support.objects.create(topic=topic, resident=writer)
    services.withdraw_support(topic=topic, resident=writer)
    assert not Support.objects.exists()


def test_unpublished_or_closed_topics_take_no_support(community, writer):
    draft = TopicFactory(community=community, summary_approved_at=None)
    closed = TopicFactory(community=community, status=Topic.Status.CLOSED)
    for topic in (draft, closed):
        with pytest.raises(services.MailboxError):
            services.support_topic(topic=topic, resident=writer)


def test_satisfaction_is_asked_once_of_the_writer_after_closing(writer, community, staff):
    letter = web_letter(writer=writer, community=community)
    with pytest.raises(services.MailboxError):
        services.record_satisfaction(letter=letter, writer=writer, satisfied=True)
    services.answer_letter(letter=letter, actor=staff, message="已处理")
    with pytest.raises(PermissionDenied):
        services.record_satisfaction(letter=letter, writer=resident(community), satisfied=True)
    services.record_satisfaction(letter=letter, writer=writer, satisfied=False)
    with pytest.raises(services.MailboxError):
        services.record_satisfaction(letter=letter, writer=writer, satisfied=True)
    letter.refresh_from_db()
    assert letter.satisfied is False


# --- Similarity and deadlines -------------------------------------------------------------


def test_similar_topics_and_letters_are_found_by_chinese_bigrams(community, writer):
    parking = TopicFactory(community=community, title="增加小区停车位", summary="晚间停车难")
    TopicFactory(community=community, title="加装电梯", summary="老旧小区加装电梯", category="elevator")
    letter = web_letter(writer=writer, community=community, subject="停车位不够", body="每天晚上停车都很难")
    twin = web_letter(writer=writer, community=community, subject="停车难", body="晚上停车位不够用")
    topics, letters = services.similar_to_letter(letter=letter)
    assert topics[0][0] == parking and topics[0][1] > 0.1
    assert all(topic.title != "加装电梯" for topic, _score in topics)
    assert letters[0][0] == twin


def test_a_letter_is_overdue_after_two_working_days_unaccepted(community):
    friday = timezone.make_aware(datetime.datetime(2026, 11, 20, 10))
    letter = LetterFactory(community=community, received_at=friday)
    assert not letter.is_overdue(today=datetime.date(2026, 11, 24))  # Monday, Tuesday: due Tuesday
    assert letter.is_overdue(today=datetime.date(2026, 11, 25))


def test_overdue_letters_are_escalated_to_the_heads_once(community, django_capture_on_commit_callbacks):
    head = staff_member(community, head=True, email="head@example.com")
    LetterFactory(community=community, received_at=timezone.now() - datetime.timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_overdue_letters() == 1
        assert services.escalate_overdue_letters() == 0
    assert [m.to for m in mail.outbox] == [[head.email]]


def test_letters_received_after_a_query_are_found_by_the_next(community, writer):
    first = web_letter(writer=writer, community=community, subject="电梯故障", body="电梯又坏了")
    assert services.similar_to_letter(letter=first)[1] == []
    later = web_letter(writer=writer, community=community, subject="电梯坏了", body="电梯故障好几天")
    assert [letter for letter, _score in services.similar_to_letter(letter=first)[1]] == [later]


def test_a_topic_title_longer_than_its_column_is_refused_with_a_message(community, staff):
    """Staff type titles in plain fields: PostgreSQL would fail on the long value, SQLite would keep it."""
    with pytest.raises(services.MailboxError, match="at most 120 characters"):
        services.create_topic(community=community, title="停" * 121, category="parking", actor=staff)
    topic = services.create_topic(community=community, title="停" * 120, category="parking", actor=staff)
    with pytest.raises(services.MailboxError, match="at most 120 characters"):
        services.approve_topic_summary(topic=topic, actor=staff, summary="增设车位", title="停" * 121)
    assert Topic.objects.get().title == "停" * 120


def test_a_writer_cannot_support_their_own_topic(community, writer, staff):
    topic = services.create_topic(community=community, title="停车难", category="parking", actor=staff)
    services.merge_letter(letter=web_letter(writer=writer, community=community), topic=topic, actor=staff)
    services.approve_topic_summary(topic=topic, actor=staff, summary="多位居民反映晚间停车难。")
    with translation.override("zh-hans"), pytest.raises(services.MailboxError, match="您就这个议题写过信"):
        services.support_topic(topic=topic, resident=writer)
    assert not Support.objects.exists()


def test_a_retried_letter_with_its_request_token_is_stored_once_even_past_the_daily_limit(writer, community):
    token = uuid.uuid4()
    first = web_letter(writer=writer, community=community, request_token=token)
    for _ in range(services.LETTERS_PER_ACCOUNT_PER_DAY - 1):
        web_letter(writer=writer, community=community)
    assert web_letter(writer=writer, community=community, subject="又一封", request_token=token) == first
    assert services.replayed_letter(request_token=token, writer=writer) == first
    assert services.replayed_letter(request_token=uuid.uuid4(), writer=writer) is None
    with pytest.raises(services.MailboxError, match="already used"):
        web_letter(writer=resident(community), community=community, request_token=token)
    assert Letter.objects.filter(request_token=token).count() == 1


def test_public_topics_are_filtered_by_community_category_and_status(community):
    parking = TopicFactory(community=community, category="parking")
    TopicFactory(community=community, category="elevator", status=Topic.Status.SHORTLISTED)
    TopicFactory(community=community, category="parking", summary_approved_at=None)
    elsewhere = TopicFactory(category="parking")
    assert set(services.public_topics(category="parking")) == {parking, elsewhere}
    assert list(services.public_topics(community=community, category="parking", status="open")) == [parking]
    assert list(services.public_topics(community=community.pk, status="closed")) == []
