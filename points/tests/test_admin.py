"""Staff pages in the Wagtail admin: award, bulk award, hand-over, audit log, dashboard."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from home.factories import CommunityFactory, UserFactory
from points import services
from points.factories import RewardFactory, resident
from points.models import Account, LedgerEntry, Reservation

pytestmark = pytest.mark.usefixtures("site_pages")


def staff_group(community):
    group = Group.objects.create(name=f"{community.code} staff")
    group.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    community.editors = group
    community.save()
    return group


@pytest.fixture
def community():
    return CommunityFactory()


@pytest.fixture
def staff(client, community):
    user = UserFactory(username="desk")
    user.groups.add(staff_group(community))
    client.force_login(user)
    return user


@pytest.fixture
def neighbour(community):
    return resident(display_name="李大爷", mobile="13812345678", community=community)


def sheet_csv(*rows, header="resident,rule,date,points,reason"):
    return SimpleUploadedFile("sheet.csv", ("\n".join([header, *rows]) + "\n").encode("utf-8"), content_type="text/csv")


def test_pages_refuse_residents_without_staff_rights(client):
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    client.force_login(user)
    for url in (
        "/admin/points/",
        "/admin/points/award/",
        "/admin/points/bulk/",
        "/admin/points/hand-over/",
        "/admin/points/audit/",
    ):
        response = client.get(url)  # Wagtail sends refused admin users to the dashboard with a message
        assert (response.status_code, response["Location"]) == (302, "/admin/"), url


def test_find_and_award_with_a_reason(client, staff, neighbour):
    other = resident(display_name="李四", community=CommunityFactory())
    response = client.get("/admin/points/award/", {"q": "李"})
    assert response.status_code == 200
    assert list(response.context["results"]) == [neighbour]  # not the other community's 李四
    assert other.pk
    assert client.get("/admin/points/award/", {"q": "13812345678"}).context["results"] == [neighbour]
    page = client.get(f"/admin/points/award/{neighbour.pk}/")
    token = page.context["form"]["token"].value()
    rule = services.get_rule("staff_award")
    data = {"rule": rule.pk, "amount": "15", "reason": "帮助独居老人", "token": token}
    response = client.post(f"/admin/points/award/{neighbour.pk}/", data)
    assert response.status_code == 302 and response["Location"] == f"/admin/points/award/{neighbour.pk}/"  # back to them
    # The same form submitted twice awards once.
    client.post(f"/admin/points/award/{neighbour.pk}/", data)
    assert Account.objects.get(resident=neighbour).balance == 15
    log = client.get("/admin/points/audit/").content.decode()
    assert "帮助独居老人" in log and "desk@example.com" in log


def test_find_a_resident_by_the_start_of_their_email_name_or_mobile(client, staff, community):
    li = resident(display_name="李大爷", mobile="13812345678", community=community, user__email="li.daye@example.cn")
    resident(display_name="王阿姨", mobile="13900000000", community=community, user__email="wang@example.cn")
    for start in ("li.da", "LI.DAYE@", "李", "李大", "138", "138 1234"):
        assert client.get("/admin/points/award/", {"q": start}).context["results"] == [li], start


def test_award_errors_are_shown_and_change_nothing(client, staff, neighbour):
    rule = services.get_rule("staff_award")
    response = client.post(
        f"/admin/points/award/{neighbour.pk}/", {"rule": rule.pk, "amount": "500", "reason": "x", "token": "t1"}
    )
    assert response.status_code == 200
    assert "单次最多 50 积分" in response.content.decode()
    response = client.post(f"/admin/points/award/{neighbour.pk}/", {"rule": rule.pk, "amount": "5", "token": "t2"})
    assert "请填写发放原因" in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_staff_cannot_open_residents_of_other_communities(client, staff):
    stranger = resident(community=CommunityFactory())
    assert client.get(f"/admin/points/award/{stranger.pk}/", follow=True).status_code == 404


def test_bulk_award_previews_then_awards_and_a_second_upload_awards_nothing(client, staff, neighbour):
    today = timezone.localdate().isoformat()
    rows = [
        f"13812345678,garbage_sorting,{today},,",
        f"{neighbour.email},staff_award,{today},5,清理楼道",
        f"13800000000,garbage_sorting,{today},,",
        "13812345678,garbage_sorting,yesterday,,",
        f"13812345678,attendance,{today},5,",
    ]
    response = client.post("/admin/points/bulk/", {"file": sheet_csv(*rows)})
    assert response.status_code == 200
    results = response.context["results"]
    assert [row.status for row in results] == ["awarded", "awarded", "error", "error", "error"]
    assert "13800000000" in results[2].message and "2026-11-23" in results[3].message
    assert not LedgerEntry.objects.exists()  # a dry run
    signed = response.context["rows"]
    response = client.post("/admin/points/bulk/", {"rows": signed})
    assert response.context["summary"] == {"awarded": 2, "repeat": 0, "error": 3}
    assert Account.objects.get(resident=neighbour).balance == 7
    # The same file again: nothing new, in the preview and for real.
    response = client.post("/admin/points/bulk/", {"file": sheet_csv(*rows)})
    assert response.context["summary"] == {"awarded": 0, "repeat": 2, "error": 3}
    client.post("/admin/points/bulk/", {"rows": response.context["rows"]})
    assert Account.objects.get(resident=neighbour).balance == 7


def test_bulk_award_reads_xlsx_with_chinese_headers(client, staff, neighbour):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["手机号", "规则", "日期"])
    workbook.active.append([13812345678, "garbage_sorting", datetime.datetime.combine(timezone.localdate(), datetime.time())])
    out = io.BytesIO()
    workbook.save(out)
    upload = SimpleUploadedFile("sheet.xlsx", out.getvalue())
    response = client.post("/admin/points/bulk/", {"file": upload})
    assert [row.status for row in response.context["results"]] == ["awarded"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("sheet.txt", b"resident,rule,date\n", "CSV 或 XLSX"),
        ("sheet.csv", b"", "空文件"),  # Django's own check
        ("sheet.csv", b"\n,,\n", "文件是空的"),
        ("sheet.csv", b"who,what\n1,2\n", "resident, rule, date"),
        ("sheet.xlsx", b"not a zip", "XLSX"),
        ("sheet.csv", b"\xff\xfe\x00resident", "resident"),
    ],
)
def test_malformed_sheets_get_a_clear_message(client, staff, name, content, message):
    response = client.post("/admin/points/bulk/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_a_tampered_preview_is_refused(client, staff):
    response = client.post("/admin/points/bulk/", {"rows": "forged"})
    assert response.status_code == 302
    assert not LedgerEntry.objects.exists()


def test_hand_over_by_code(client, staff, neighbour):
    services.award(resident=neighbour, rule_code="attendance", source_key="h", amount=50)
    reservation = services.redeem(resident=neighbour, reward=RewardFactory(name="毛巾", cost=20))
    code = services.format_code(reservation.code)
    response = client.get("/admin/points/hand-over/", {"code": code.lower()})
    assert "毛巾" in response.content.decode() and response.context["reservation"] == reservation
    response = client.post("/admin/points/hand-over/", {"code": reservation.code})
    assert response.status_code == 302
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.COLLECTED and reservation.handed_over_by == staff
    response = client.post("/admin/points/hand-over/", {"code": reservation.code})
    assert "已于" in response.content.decode()
    assert "没有此兑换码" in client.get("/admin/points/hand-over/", {"code": "ZZZZ-ZZZZ"}).content.decode()


def test_hand_over_refuses_another_communitys_code(client, staff):
    stranger = resident(community=CommunityFactory())
    services.award(resident=stranger, rule_code="attendance", source_key="s", amount=50)
    reservation = services.redeem(resident=stranger, reward=RewardFactory(cost=20))
    response = client.post("/admin/points/hand-over/", {"code": reservation.code})
    assert response.status_code == 200 and "本社区" in response.content.decode()
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.RESERVED


def test_dashboard_with_chart_and_exports(client, staff, neighbour):
    services.award(resident=neighbour, rule_code="attendance", source_key="d1", amount=40)
    services.redeem(resident=neighbour, reward=RewardFactory(name="肥皂", cost=10, stock=2))
    response = client.get("/admin/points/")
    html = response.content.decode()
    assert response.status_code == 200 and "<svg" in html and "肥皂" in html and "参加活动" in html
    csv_text = client.get("/admin/points/?export=csv").content.decode("utf-8-sig")
    assert "参加活动" in csv_text and "肥皂,1,10" in csv_text
    xlsx = client.get("/admin/points/?export=xlsx")
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert len(workbook.sheetnames) == 4


def test_dashboard_draws_a_chart_by_rule_by_reward_and_by_earner(client, staff, neighbour):
    services.award(resident=neighbour, rule_code="attendance", source_key="d1", amount=40)
    services.redeem(resident=neighbour, reward=RewardFactory(name="肥皂", cost=10, stock=2))
    html = client.get("/admin/points/").content.decode()
    for key in ("chart-issued", "chart-spent", "chart-top"):
        assert f'aria-labelledby="{key}-title {key}-desc"' in html
        assert f'<desc id="{key}-desc">' in html
    assert "<title>参加活动: 40</title>" in html
    assert "<title>肥皂: 10</title>" in html
    assert f"<title>{neighbour.profile.display_name}: 40</title>" in html


def test_dashboard_draws_no_empty_charts(client, staff):
    html = client.get("/admin/points/").content.decode()
    assert "chart-issued" not in html and "chart-top" not in html
    assert "<table" in html  # the tables stay, as the text alternative


def test_menu_shows_points_to_staff(client, staff):
    html = client.get("/admin/").content.decode()
    assert "/admin/points/hand-over/" in html


def adjust_data(amount, reason="登记错误更正", token="a1"):
    return {"amount": str(amount), "reason": reason, "token": token}


def test_find_a_resident_and_adjust_their_balance_up_and_down(client, staff, neighbour):
    response = client.get("/admin/points/adjust/", {"q": "李"})
    assert response.status_code == 200 and response.context["results"] == [neighbour]
    assert f"/admin/points/adjust/{neighbour.pk}/" in response.content.decode()
    assert client.get(f"/admin/points/adjust/{neighbour.pk}/").status_code == 200
    response = client.post(f"/admin/points/adjust/{neighbour.pk}/", adjust_data(20))
    assert (response.status_code, response["Location"]) == (302, "/admin/points/audit/")
    response = client.post(f"/admin/points/adjust/{neighbour.pk}/", adjust_data(20))  # the same form again
    assert response.status_code == 200 and "此调整已做过" in response.content.decode()
    client.post(f"/admin/points/adjust/{neighbour.pk}/", adjust_data(-5, token="a2"))
    assert Account.objects.get(resident=neighbour).balance == 15
    entries = LedgerEntry.objects.filter(kind="adjust").order_by("pk")
    assert [(entry.amount, entry.actor, entry.reason) for entry in entries] == [
        (20, staff, "登记错误更正"),
        (-5, staff, "登记错误更正"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (adjust_data(10, reason=""), "必需字段"),
        (adjust_data(0), "调整不能为零。"),
        (adjust_data(1001), "1000"),
        (adjust_data(-30), "需要 30 积分，您现有 10 积分。"),
    ],
)
def test_adjustment_errors_are_shown_and_change_nothing(client, staff, neighbour, data, message):
    services.award(resident=neighbour, rule_code="attendance", source_key="a", amount=10)
    response = client.post(f"/admin/points/adjust/{neighbour.pk}/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert Account.objects.get(resident=neighbour).balance == 10
    assert not LedgerEntry.objects.filter(kind="adjust").exists()


def test_staff_cannot_adjust_or_reverse_for_another_community(client, staff):
    stranger = resident(community=CommunityFactory())
    entry = services.adjust(actor=UserFactory(is_superuser=True), resident=stranger, amount=30, reason="初始")
    assert client.get(f"/admin/points/adjust/{stranger.pk}/", follow=True).status_code == 404
    assert client.post(f"/admin/points/adjust/{stranger.pk}/", adjust_data(10), follow=True).status_code == 404
    assert client.get("/admin/points/adjust/", {"q": stranger.email}).context["results"] == []
    assert client.get(f"/admin/points/audit/{entry.pk}/reverse/", follow=True).status_code == 404
    assert client.post(f"/admin/points/audit/{entry.pk}/reverse/", {"reason": "x"}, follow=True).status_code == 404
    assert Account.objects.get(resident=stranger).balance == 30
    assert LedgerEntry.objects.count() == 1


def test_residents_cannot_adjust_or_reverse(client, neighbour):
    entry = services.adjust(actor=UserFactory(is_superuser=True), resident=neighbour, amount=30, reason="初始")
    plain = resident(community=neighbour.profile.community)
    client.force_login(plain)
    for url in ("/admin/points/adjust/", f"/admin/points/adjust/{neighbour.pk}/", f"/admin/points/audit/{entry.pk}/reverse/"):
        assert "/login/" in client.get(url)["Location"], url
        assert "/login/" in client.post(url, {**adjust_data(10), "reason": "x"})["Location"], url
    plain.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for url in ("/admin/points/adjust/", f"/admin/points/adjust/{neighbour.pk}/", f"/admin/points/audit/{entry.pk}/reverse/"):
        assert client.post(url, {**adjust_data(10), "reason": "x"})["Location"] == "/admin/", url
    assert Account.objects.get(resident=neighbour).balance == 30
    assert LedgerEntry.objects.count() == 1


def test_reverse_a_manual_award_from_the_audit_log(client, staff, neighbour):
    entry = services.award_by_staff(actor=staff, resident=neighbour, rule_code="staff_award", amount=15, reason="帮忙")
    url = f"/admin/points/audit/{entry.pk}/reverse/"
    assert url in client.get("/admin/points/audit/").content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "帮忙" in page.content.decode()
    response = client.post(url, {"reason": ""})  # a reason is required
    assert response.status_code == 200 and "必需字段" in response.content.decode()
    assert Account.objects.get(resident=neighbour).balance == 15
    response = client.post(url, {"reason": "发错人了"})
    assert (response.status_code, response["Location"]) == (302, "/admin/points/audit/")
    assert Account.objects.get(resident=neighbour).balance == 0
    correction = LedgerEntry.objects.get(reverses=entry)
    assert (correction.amount, correction.actor, correction.reason) == (-15, staff, "发错人了")
    assert url not in client.get("/admin/points/audit/").content.decode()
    response = client.post(url, {"reason": "再来一次"})
    assert response.status_code == 200 and "此记录已冲正过。" in response.content.decode()
    assert LedgerEntry.objects.filter(kind="reverse").count() == 1
    # A reversal itself, and what the portal awarded by itself, are not reversed here.
    assert client.get(f"/admin/points/audit/{correction.pk}/reverse/", follow=True).status_code == 404
    automatic = services.award(resident=neighbour, rule_code="attendance", source_key="events.attendance:9", amount=5)
    assert client.post(f"/admin/points/audit/{automatic.pk}/reverse/", {"reason": "x"}, follow=True).status_code == 404
    assert Account.objects.get(resident=neighbour).balance == 5


def test_audit_log_query_count_does_not_grow(client, staff, neighbour):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/admin/points/audit/").status_code == 200
        return len(queries)

    services.adjust(actor=staff, resident=neighbour, amount=5, reason="一")
    count()  # the first admin page makes the person's sidebar (home/admin_sidebar.py); the next ones reuse it
    few = count()
    for number in range(5):
        services.adjust(actor=staff, resident=resident(community=neighbour.profile.community), amount=5, reason=str(number))
    assert count() == few


def test_adjust_and_reverse_pages_in_english(client, staff, neighbour):
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = "en"
    profile.save()
    entry = services.award_by_staff(actor=staff, resident=neighbour, rule_code="staff_award", amount=15, reason="帮忙")
    assert "Positive to add, negative to take away" in client.get(f"/admin/points/adjust/{neighbour.pk}/").content.decode()
    assert "Reverse this entry" in client.get(f"/admin/points/audit/{entry.pk}/reverse/").content.decode()
    assert "Points issued by rule" in client.get("/admin/points/").content.decode()
    # The same pages in Chinese, the admin's default.
    profile.preferred_language = "zh-hans"
    profile.save()
    assert "正数为增加" in client.get(f"/admin/points/adjust/{neighbour.pk}/").content.decode()
    assert "冲正此记录" in client.get(f"/admin/points/audit/{entry.pk}/reverse/").content.decode()
    assert "按规则发放的积分" in client.get("/admin/points/").content.decode()


def test_dashboard_query_count_does_not_grow(client, staff, neighbour):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/admin/points/").status_code == 200
        return len(queries)

    services.award(resident=neighbour, rule_code="attendance", source_key="q0", amount=40)
    services.redeem(resident=neighbour, reward=RewardFactory(cost=10, stock=2))
    count()  # the first admin page makes the person's sidebar (home/admin_sidebar.py); the next ones reuse it
    few = count()
    for number in range(5):
        someone = resident(community=neighbour.profile.community)
        services.award(resident=someone, rule_code="attendance", source_key=f"q{number + 1}", amount=40)
        services.redeem(resident=someone, reward=RewardFactory(cost=10, stock=2))
    assert count() == few


FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(1)", "\tx", "\rx"]


def test_dashboard_exports_defuse_spreadsheet_formulas(client, staff, community):
    from openpyxl import load_workbook

    for number, name in enumerate(FORMULAS):
        services.award(
            resident=resident(display_name=name, community=community), rule_code="attendance", source_key=f"f{number}", amount=10
        )
    quoted = {"'" + name for name in FORMULAS}
    lines = client.get("/admin/points/?export=csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(lines, newline="")))
    assert quoted <= {row[0] for row in rows if len(row) == 2 and row[1] == "10"}
    workbook = load_workbook(io.BytesIO(client.get("/admin/points/?export=xlsx").content))
    top = workbook.worksheets[2]
    cells = [row[0] for row in top.iter_rows(min_row=2)]
    assert {cell.value.replace("\n", "\r") for cell in cells} == quoted
    assert all(cell.data_type == "s" for cell in cells)
