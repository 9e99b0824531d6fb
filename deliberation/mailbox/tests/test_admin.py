"""Staff triage in the Wagtail admin: scoped to their community; each view GET and POST."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook

from deliberation.mailbox import services
from deliberation.mailbox.factories import LetterFactory, TopicFactory, community_with_staff, resident, staff_member, web_letter
from deliberation.mailbox.models import HotlineColumnMapping, HotlineUpload, Letter, Topic
from home.factories import GridFactory
from home.scope import NotStaff

pytestmark = pytest.mark.django_db


def admin_staff(community, **fields):
    user = staff_member(community, **fields)
    for group in (community.editors, community.heads):
        group.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    return user


@pytest.fixture
def other(site_pages):
    return community_with_staff(name="其他社区", code="other")


@pytest.fixture
def staff(community):
    return admin_staff(community, username="staff-liuhe")


@pytest.fixture
def letter(community):
    writer = resident(community, display_name="王小明")
    return web_letter(
        writer=writer, community=community, subject="东门停车难", body="东门停车场晚上没有车位。", contact="13812345678"
    )


def test_the_inbox_lists_only_the_staffs_community(client, staff, letter, other):
    foreign = LetterFactory(community=other, subject="别处的来信")
    client.force_login(staff)
    response = client.get(reverse("mailbox_admin:inbox"))
    assert response.status_code == 200
    assert list(response.context["page_obj"]) == [letter]
    assert foreign.subject not in response.content.decode()


def test_inbox_filters(client, staff, community, letter):
    grid = GridFactory(community=community)
    noise = LetterFactory(community=community, category="noise", grid=grid, channel="hotline")
    client.force_login(staff)
    response = client.get(reverse("mailbox_admin:inbox"), {"category": "noise", "grid": grid.pk, "channel": "hotline"})
    assert list(response.context["page_obj"]) == [noise]
    response = client.get(reverse("mailbox_admin:inbox"), {"status": "answered"})
    assert list(response.context["page_obj"]) == []
    response = client.get(reverse("mailbox_admin:inbox"), {"older_than": 3})
    assert list(response.context["page_obj"]) == []


def test_residents_and_staff_of_another_community_are_kept_out(client, letter, other, community):
    outsider = admin_staff(other)
    client.force_login(outsider)
    # An admin 404 is redirected by LocaleMiddleware to the language-prefixed path, which is a 404 too.
    response = client.get(reverse("mailbox_admin:letter", args=[letter.pk]), follow=True)
    assert response.status_code == 404 and "东门停车场" not in response.content.decode()
    response = client.post(reverse("mailbox_admin:letter", args=[letter.pk]), {"action": "accept"})
    assert response.status_code in (302, 404) and response.get("Location", "") != reverse(
        "mailbox_admin:letter", args=[letter.pk]
    )
    photo = letter.photos.create(content_type="image/png", data=b"x", width=1, height=1)
    response = client.get(reverse("mailbox_admin:letter_photo", args=[letter.pk, photo.pk]), follow=True)
    assert response.status_code == 404
    letter.refresh_from_db()
    assert letter.status == Letter.Status.NEW
    client.force_login(resident(community))
    assert client.get(reverse("mailbox_admin:letter", args=[letter.pk])).status_code in (302, 403)


def test_the_triage_page_shows_the_letter_and_similar_topics(client, staff, community, letter):
    topic = TopicFactory(community=community, title="东门停车位不足", summary="晚间停车难")
    client.force_login(staff)
    response = client.get(reverse("mailbox_admin:letter", args=[letter.pk]))
    body = response.content.decode()
    assert "东门停车场晚上没有车位。" in body and "13812345678" in body
    assert response.context["similar_topics"][0][0] == topic


def test_staff_accept_merge_note_and_reply_through_the_admin(client, staff, community, letter):
    topic = TopicFactory(community=community)
    client.force_login(staff)
    path = reverse("mailbox_admin:letter", args=[letter.pk])
    for data in (
        {"action": "accept"},
        {"action": "note", "text": "先电话联系"},
        {"action": "reply", "message": "已收到，正在协调。"},
        {"action": "merge", "topic": topic.pk},
        {"action": "assign", "assignee": staff.pk},
    ):
        assert client.post(path, data).status_code == 302
    letter.refresh_from_db()
    assert letter.status == Letter.Status.MERGED and letter.topic == topic and letter.assigned_to == staff
    assert letter.notes.get().text == "先电话联系"


def test_an_error_is_shown_not_raised(client, staff, letter):
    client.force_login(staff)
    response = client.post(
        reverse("mailbox_admin:letter", args=[letter.pk]), {"action": "out_of_scope", "reason": "", "confirm": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert any("reason" in str(message).lower() or "理由" in str(message) for message in response.context["messages"])


def test_a_new_topic_from_a_letter_then_the_topic_page(client, staff, letter):
    client.force_login(staff)
    client.post(reverse("mailbox_admin:letter", args=[letter.pk]), {"action": "new_topic", "title": "东门停车"})
    topic = Topic.objects.get()
    page = client.get(reverse("mailbox_admin:topic", args=[topic.pk]))
    assert page.status_code == 200 and letter.tracking_number in page.content.decode()
    client.post(
        reverse("mailbox_admin:topic", args=[topic.pk]),
        {"action": "approve", "title": "东门停车", "summary": "王小明说停车难"},
    )
    topic.refresh_from_db()
    assert not topic.is_public  # the writer's name is refused
    refused = client.post(
        reverse("mailbox_admin:topic", args=[topic.pk]),
        {"action": "approve", "title": "East gate parking", "summary": "Wang Xiaoming says parking is hard"},
        follow=True,
    )
    assert [str(message) for message in refused.context["messages"]][-1] == "摘要不得出现来信居民的姓名：Wang Xiaoming"
    client.post(
        reverse("mailbox_admin:topic", args=[topic.pk]), {"action": "approve", "title": "东门停车", "summary": "晚间停车难"}
    )
    client.post(reverse("mailbox_admin:topic", args=[topic.pk]), {"action": "status", "status": "shortlisted"})
    topic.refresh_from_db()
    assert topic.is_public and topic.status == Topic.Status.SHORTLISTED
    assert client.get(reverse("mailbox_admin:topics")).status_code == 200


def test_the_dashboard_and_its_export(client, staff, community, letter):
    grid = GridFactory(community=community, name="第一网格")
    LetterFactory(community=community, grid=grid, category="noise")
    client.force_login(staff)
    response = client.get(reverse("mailbox_admin:dashboard"))
    assert response.status_code == 200
    assert "<svg" in response.content.decode()
    export = client.get(reverse("mailbox_admin:dashboard"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[1][0] == "第一网格" and rows[1][-1] == "1"


def hotline_csv() -> bytes:
    text = "工单号,来电时间,诉求内容,分类,联系人\nA-1,2026-11-01 09:00,东门停车难,停车,李女士\nA-2,2026-11-02,,噪音,张先生\nA-3,bad date,夜间施工噪音,噪音,\n"
    return text.encode("gb18030")


def test_hotline_import_maps_previews_and_is_idempotent(client, staff, community):
    client.force_login(staff)
    response = client.post(
        reverse("mailbox_admin:hotline_upload"),
        {"community": community.pk, "file": SimpleUploadedFile("12345.csv", hotline_csv(), content_type="text/csv")},
    )
    upload = HotlineUpload.objects.get()
    assert response.status_code == 302 and upload.headers[0] == "工单号"
    path = reverse("mailbox_admin:hotline_preview", args=[upload.pk])
    mapping = {
        "map_external_id": "工单号",
        "map_received_at": "来电时间",
        "map_body": "诉求内容",
        "map_category": "分类",
        "map_contact_name": "联系人",
    }
    preview = client.post(path, {**mapping, "action": "preview"})
    rows = preview.context["rows"]
    assert [bool(row.errors) for row in rows] == [False, True, True]
    client.post(path, {**mapping, "action": "import"})
    letter = Letter.objects.get()
    assert (letter.external_id, letter.category, letter.channel, letter.contact_name) == ("A-1", "parking", "hotline", "李女士")
    assert HotlineColumnMapping.objects.get(community=community).mapping["external_id"] == "工单号"
    client.post(path, {**mapping, "action": "import"})
    assert Letter.objects.count() == 1
    again = client.get(path)  # the saved mapping is used
    assert [row.duplicate for row in again.context["rows"]] == [True, False, False]


def test_hotline_xlsx_is_read(staff, community):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["编号", "内容"])
    sheet.append(["X-9", "楼道堆物"])
    out = io.BytesIO()
    workbook.save(out)
    headers, rows = services.read_table(data=out.getvalue(), filename="petitions.xlsx")
    assert headers == ["编号", "内容"] and rows == [["X-9", "楼道堆物"]]
    with pytest.raises(services.MailboxError):
        services.read_table(data=b"not a workbook", filename="x.xlsx")
    with pytest.raises(services.MailboxError):
        services.read_table(data=b"a,b", filename="x.pdf")


def test_hotline_import_needs_staff_of_the_community(staff, other):
    upload = HotlineUpload.objects.create(community=other, filename="x.csv", headers=["id", "text"], rows=[["1", "x"]])
    with pytest.raises(NotStaff):
        services.import_hotline(upload=upload, mapping={"external_id": "id", "body": "text"}, actor=staff)


def test_staff_enter_a_letter_for_a_resident_with_consent(client, staff, community):
    writer = resident(community, user__email="granny@example.com")
    client.force_login(staff)
    path = reverse("mailbox_admin:staff_entry")
    assert client.get(path).status_code == 200
    data = {
        "community": community.pk,
        "category": "elderly",
        "subject": "周末助餐",
        "body": "周末食堂不开门。",
        "privacy": "staff_only",
    }
    response = client.post(path, {**data, "resident_email": "granny@example.com"})
    assert response.status_code == 200 and not Letter.objects.exists()  # no consent recorded
    response = client.post(path, {**data, "resident_email": "nobody@example.com", "consent": "on"})
    assert "resident_email" in response.context["form"].errors
    response = client.post(path, {**data, "resident_email": "granny@example.com", "consent": "on"})
    letter = Letter.objects.get()
    assert response.status_code == 302
    assert (letter.channel, letter.writer, letter.entered_by, letter.consent_recorded) == ("staff", writer, staff, True)


def test_quarantined_mail_is_for_street_managers_only(client, staff, community):
    from deliberation.mailbox.models import IncomingMail

    incoming = IncomingMail.objects.create(
        folder="INBOX", uidvalidity=1, uid=1, outcome="quarantined", raw=b"Subject: x\r\n\r\nbody", error="no sender address"
    )
    client.force_login(staff)
    refused = client.get(reverse("mailbox_admin:quarantine"))  # Wagtail turns the refusal into a redirect home
    assert refused.status_code == 302 and refused["Location"] == "/admin/"
    assert client.get(reverse("mailbox_admin:quarantine"), {"raw": incoming.pk}).status_code == 302
    manager = admin_staff(community, is_superuser=True)
    client.force_login(manager)
    page = client.get(reverse("mailbox_admin:quarantine"))
    assert "no sender address" in page.content.decode()
    raw = client.get(reverse("mailbox_admin:quarantine"), {"raw": incoming.pk})
    assert raw.content == b"Subject: x\r\n\r\nbody" and raw["Content-Type"] == "message/rfc822"


def test_approving_a_topic_empties_the_anonymous_page_cache(client, staff, community, django_capture_on_commit_callbacks):
    from home.models import PortalSettings

    PortalSettings.load()  # its creation on first use would empty the cache by itself
    topic = TopicFactory(community=community, summary_approved_at=None, title="草稿议题", summary="")
    path = reverse("mailbox:topic_list")
    assert "草稿议题" not in client.get(path).content.decode()
    assert client.get(path)["X-Page-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_topic_summary(topic=topic, actor=staff, summary="晚间停车难")
    assert "草稿议题" in client.get(path).content.decode()


def test_the_inbox_and_topic_list_pin_their_queries(client, staff, community, django_assert_num_queries):
    grid = GridFactory(community=community)
    topic = TopicFactory(community=community)
    LetterFactory(community=community, grid=grid, assigned_to=staff)
    client.force_login(staff)
    client.get(reverse("mailbox_admin:inbox"))  # warm caches (settings, site)
    with CaptureQueriesContext(connection) as inbox:
        client.get(reverse("mailbox_admin:inbox"))
    with CaptureQueriesContext(connection) as topics:
        client.get(reverse("mailbox_admin:topics"))
    # Bounded (the admin menu of every app checks who may see its items), and flat below.
    assert len(inbox) < 40 and len(topics) < 40
    for _ in range(6):
        LetterFactory(community=community, grid=GridFactory(community=community), topic=topic, status="merged", assigned_to=staff)
        TopicFactory(community=community)
    with django_assert_num_queries(len(inbox)):
        client.get(reverse("mailbox_admin:inbox"), {"status": "all"})
    with django_assert_num_queries(len(topics)):
        client.get(reverse("mailbox_admin:topics"))


def test_the_dashboard_export_defuses_spreadsheet_formulas(client, staff, community):
    names = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(1)", "\tx", "\rx"]
    for name in names:
        LetterFactory(community=community, grid=GridFactory(community=community, name=name), category="noise")
    client.force_login(staff)
    export = client.get(reverse("mailbox_admin:dashboard"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"), newline="")))
    assert {row[0] for row in rows[1:]} == {"'" + name for name in names}
    assert {row[-1] for row in rows[1:]} == {"1"}


@pytest.mark.parametrize(("language", "said"), [("zh-hans", "来信 {number} 已受理。"), ("en", "Letter {number} accepted.")])
def test_letter_actions_say_what_was_done(client, staff, community, letter, language, said):
    from wagtail.users.models import UserProfile

    admin_profile = UserProfile.get_for_user(staff)
    admin_profile.preferred_language = language  # the admin's language (Wagtail's own setting)
    admin_profile.save()
    topic = TopicFactory(community=community, title="东门停车位不足")
    client.force_login(staff)
    path = reverse("mailbox_admin:letter", args=[letter.pk])

    accepted = client.post(path, {"action": "accept"}, follow=True)
    merged = client.post(path, {"action": "merge", "topic": topic.pk}, follow=True)

    messages = [str(message) for response in (accepted, merged) for message in response.context["messages"]]
    assert messages[0] == said.format(number=letter.tracking_number)
    assert "东门停车位不足" in messages[1] and letter.tracking_number in messages[1]
    assert "Done." not in messages and "已完成。" not in messages


def test_the_letter_page_masks_the_writer_s_phone_until_asked(client, staff, letter):
    client.force_login(staff)

    body = client.get(reverse("mailbox_admin:letter", args=[letter.pk])).content.decode()

    assert "<summary>138****5678 · " in body  # on screen: masked
    assert '<a href="tel:13812345678">13812345678</a></details>' in body  # one tap away, inside <details>


def test_the_inbox_grid_filter_offers_each_grid_once_not_once_per_language(client, staff, community):
    grid = GridFactory(community=community, name="第1网格", name_en="Grid 1")  # one row, named in both languages
    client.force_login(staff)

    form = client.get(reverse("mailbox_admin:inbox")).context["form"]

    assert [choice.pk for choice in form.fields["grid"].queryset] == [grid.pk]


CLOSING_WORDS = {
    "zh-hans": {
        "answer": "“答复并办结”后无法撤回：来信人将收到这条答复，来信随即办结。",
        "answer_box": "我确认以此答复办结来信",
        "answer_refused": "未发送：请勾选确认以此答复办结来信。",
        "out_of_scope": "此操作无法撤回：来信将被办结，系统会告知来信人该事项不属于社区受理范围，并附上这条原因。",
        "out_of_scope_box": "我确认以“不属于受理范围”办结来信",
        "out_of_scope_refused": "未作更改：请勾选确认以“不属于受理范围”办结来信。",
    },
    "en": {
        "answer": "“Answer and close” cannot be undone: the writer is told that the letter is answered, with this message,",
        "answer_box": "I confirm that this answer closes the letter",
        "answer_refused": "Nothing was sent: tick the box to confirm that this answer closes the letter.",
        "out_of_scope": "This cannot be undone: the letter is closed and the writer is told it is outside the community",
        "out_of_scope_box": "I confirm that the letter is closed as out of scope",
        "out_of_scope_refused": "Nothing was changed: tick the box to confirm that the letter is closed as out of scope.",
    },
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    ("action", "data"), [("answer", {"message": "已安排夜间车位。"}), ("out_of_scope", {"reason": "属于物业职责。"})]
)
@pytest.mark.parametrize("confirm", [None, "", "no", "²", "on"])
def test_closing_a_letter_needs_the_box_ticked_and_says_why_when_not(
    client, staff, letter, language, action, data, confirm, django_capture_on_commit_callbacks
):
    from wagtail.users.models import UserProfile

    admin_profile = UserProfile.get_for_user(staff)
    admin_profile.preferred_language = language
    admin_profile.save()
    words = CLOSING_WORDS[language]
    client.force_login(staff)
    path = reverse("mailbox_admin:letter", args=[letter.pk])
    page = client.get(path).content.decode()
    assert words[action] in page and words[f"{action}_box"] in page
    events_before = letter.events.count()
    posted = {"action": action, **data} | ({} if confirm is None else {"confirm": confirm})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, posted, follow=True)
    assert response.status_code == 200
    assert words[f"{action}_refused"] in [str(message) for message in response.context["messages"]]
    letter.refresh_from_db()
    assert letter.status == Letter.Status.NEW and letter.closed_at is None and not letter.out_of_scope_reason
    assert letter.events.count() == events_before  # nothing on the writer's timeline, nobody told

    with django_capture_on_commit_callbacks(execute=True):
        client.post(path, {"action": action, "confirm": "yes", **data})
    letter.refresh_from_db()
    expected = Letter.Status.ANSWERED if action == "answer" else Letter.Status.OUT_OF_SCOPE
    assert letter.status == expected and letter.closed_at is not None


def test_sending_a_reply_needs_no_box(client, staff, letter):
    """Only closing is irreversible: a reply that keeps the letter open goes out without the box."""
    client.force_login(staff)
    client.post(reverse("mailbox_admin:letter", args=[letter.pk]), {"action": "reply", "message": "已收到，正在协调。"})
    letter.refresh_from_db()
    assert letter.status != Letter.Status.ANSWERED and letter.events.filter(message="已收到，正在协调。").exists()


@pytest.mark.parametrize(
    ("language", "said", "refusal"),
    [
        (
            "zh-hans",
            "该议题所有来信的来信人都会收到新状态的电子邮件通知。议题一经标为“已办结”或“未采纳”便无法撤回。",
            "未作更改：议题标为“已办结”或“未采纳”后无法撤回，请勾选确认。",
        ),
        (
            "en",
            "Every writer of the topic's letters is told of the new status by e-mail.",
            "Nothing was changed: closing or rejecting a topic cannot be undone, tick the box to confirm it.",
        ),
    ],
)
def test_rejecting_a_topic_needs_the_box_ticked_and_a_reversible_step_does_not(
    client, staff, community, letter, language, said, refusal
):
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = language
    profile.save()
    topic = TopicFactory(community=community, title="东门停车位不足")
    client.force_login(staff)
    path = reverse("mailbox_admin:topic", args=[topic.pk])
    assert said in client.get(path).content.decode()
    response = client.post(path, {"action": "status", "status": "rejected", "reason": "不属于社区职责。"}, follow=True)
    assert refusal in [str(message) for message in response.context["messages"]]
    topic.refresh_from_db()
    assert topic.status == Topic.Status.OPEN
    client.post(path, {"action": "status", "status": "shortlisted"})  # can go back to open: no box needed
    topic.refresh_from_db()
    assert topic.status == Topic.Status.SHORTLISTED
    client.post(path, {"action": "status", "status": "rejected", "reason": "不属于社区职责。", "confirm": "yes"})
    topic.refresh_from_db()
    assert topic.status == Topic.Status.REJECTED
