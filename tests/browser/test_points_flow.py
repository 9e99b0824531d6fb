"""Points in a real browser: earn at a check-in → reserve → hand over with the code; a bulk sheet twice; axe scans."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from events import factories as event_factories
from events import services as event_services
from home import factories
from home.services import create_community
from points import services
from points.factories import RewardFactory
from points.models import Account, Reservation

from .test_accessibility import report

pytestmark = pytest.mark.browser

PASSWORD = "lantern-festival-2026"


def log_in(page, base: str, email: str, next_path: str) -> None:
    page.goto(f"{base}/zh-hans/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{base}{next_path}")


@pytest.fixture
def people(portal):
    community = create_community(name="六和社区", code="liuhe", name_en="Liuhe")
    resident = factories.ResidentProfileFactory(
        user__email="wang@example.com", user__password=PASSWORD, display_name="王秀英", mobile="13905710101", community=community
    ).user
    staff = factories.VerifiedUserFactory(email="desk@example.com", username="desk", password=PASSWORD)
    staff.groups.add(community.editors)
    return resident, staff, community


def test_resident_earns_reserves_and_staff_hand_over_the_gift(portal, chromium, people, scan, tmp_path):
    resident, staff, community = people
    base = portal.url
    reward = RewardFactory(name="环保购物袋", cost=30, stock=5)
    # An activity worth 40 points starting within the hour; the resident has booked it.
    starts = timezone.now() + datetime.timedelta(minutes=30)
    activity = event_factories.activity(title="太极拳", slug="taiji", community=community, points=40)
    session = event_factories.SessionFactory(activity=activity, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1))
    (ticket,) = event_services.book_session(session=session, resident=resident, actor=resident)

    # Staff check the ticket in at the door, in the browser: that is what earns the points.
    desk = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    check_in = f"/admin/events/sessions/{session.pk}/check-in/"
    log_in(desk, base, "desk@example.com", check_in)
    desk.fill("input[name=code]", ticket.display_code)
    desk.locator("[data-checkin-form] button[type=submit]").click()
    assert desk.locator("[data-outcome]").get_attribute("data-outcome") == "checked_in"
    assert Account.objects.get(resident=resident).balance == 40

    found = {}
    phone = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    log_in(phone, base, "wang@example.com", "/zh-hans/me/")
    phone.get_by_role("link", name="我的积分").click()
    phone.wait_for_url(f"{base}/zh-hans/me/points/")
    assert "40" in phone.locator(".points-balance").inner_text()
    found["/zh-hans/me/points/"] = scan(phone)
    phone.locator("summary", has_text="兑换环保购物袋").click()  # asks first, saying what it costs
    expect(phone.get_by_text("用 30 积分兑换环保购物袋？")).to_be_visible()
    phone.get_by_role("button", name="确定兑换").click()
    phone.wait_for_url(f"{base}/zh-hans/me/points/reservations/*/")
    code = phone.locator(".pickup-code").inner_text().strip()
    expect(phone.locator("img.qr")).to_be_visible()
    found["/zh-hans/me/points/reservations/N/"] = scan(phone)
    assert Account.objects.get(resident=resident).balance == 10
    for path in (
        "/en/me/points/",
        "/zh-hans/me/points/statement/",
        "/en/me/points/statement/",
        "/zh-hans/me/points/rewards/",
        "/en/me/points/rewards/",
        "/zh-hans/points/honours/",
        "/en/points/honours/",
    ):
        phone.goto(base + path)
        found[path] = scan(phone)

    desk.goto(f"{base}/admin/points/hand-over/")
    desk.fill("input[name=code]", code)
    desk.get_by_role("button", name="查询").click()
    assert "环保购物袋" in desk.locator("main").inner_text()
    desk.get_by_role("button", name="确认发放").click()
    desk.wait_for_url(f"{base}/admin/points/hand-over/")
    assert Reservation.objects.get().status == Reservation.Status.COLLECTED

    phone.goto(f"{base}/zh-hans/me/points/reservations/{Reservation.objects.get().pk}/")
    assert "已领取" in phone.locator("main").inner_text()

    # A grid's garbage-sorting sheet, uploaded twice: awarded once.
    sheet = tmp_path / "garbage.csv"
    sheet.write_text(f"手机号,规则,日期\n13905710101,garbage_sorting,{timezone.localdate().isoformat()}\n", encoding="utf-8")
    for _round in range(2):
        desk.goto(f"{base}/admin/points/bulk/")
        desk.set_input_files("input[name=file]", str(sheet))
        desk.get_by_role("button", name="预览").click()
        desk.wait_for_load_state()
        if _round == 0:
            desk.get_by_role("button", name="发放 1 行").click()
            desk.wait_for_load_state()
        else:
            assert "已发放过" in desk.locator("main").inner_text()
    assert Account.objects.get(resident=resident).balance == 12

    # A correction by hand, then taken back from the audit log; the staff pages pass axe on the way.
    for path in ("/admin/points/", "/admin/points/award/?q=王", f"/admin/points/award/{resident.pk}/", "/admin/points/bulk/"):
        desk.goto(base + path)
        found[path] = scan(desk)
    desk.goto(f"{base}/admin/points/hand-over/")
    found["/admin/points/hand-over/"] = scan(desk)
    desk.goto(f"{base}/admin/points/adjust/?q=王")
    found["/admin/points/adjust/?q=王"] = scan(desk)
    desk.get_by_role("link", name="调整").click()
    desk.wait_for_url(f"{base}/admin/points/adjust/{resident.pk}/")
    found["/admin/points/adjust/N/"] = scan(desk)
    desk.fill("input[name=amount]", "5")
    desk.get_by_role("button", name="调整").click()  # no reason: refused, nothing changed
    desk.wait_for_load_state()
    expect(desk.locator("input[name=reason][aria-invalid=true]")).to_be_visible()
    found["/admin/points/adjust/N/ (error)"] = scan(desk)
    desk.fill("input[name=reason]", "漏记一次值守")
    desk.get_by_role("button", name="调整").click()
    desk.wait_for_url(f"{base}/admin/points/audit/")
    assert Account.objects.get(resident=resident).balance == 17
    found["/admin/points/audit/"] = scan(desk)
    desk.locator("tbody tr").first.get_by_role("link", name="冲正").click()
    desk.wait_for_url(f"{base}/admin/points/audit/*/reverse/")
    found["/admin/points/audit/N/reverse/"] = scan(desk)
    desk.fill("input[name=reason]", "重复记录")
    desk.get_by_role("button", name="冲正此记录").click()
    desk.wait_for_url(f"{base}/admin/points/audit/")
    assert Account.objects.get(resident=resident).balance == 12
    assert "漏记一次值守" in desk.locator("main").inner_text()

    assert services.audit() == []
    reward.refresh_from_db()
    assert reward.stock == 4

    assert not report(found), "axe-core found serious or critical violations:\n" + report(found)
