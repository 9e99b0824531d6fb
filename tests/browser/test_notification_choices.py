"""A resident chooses how Linli tells her things, on a phone, in a real browser; axe scans the page."""

import pytest

from home import factories
from home.services import create_community
from outbox import services

pytestmark = pytest.mark.browser

PASSWORD = "lantern-festival-2026"


def test_a_resident_moves_booking_confirmations_to_sms(portal, phone, scan, tmp_path):
    community = create_community(name="六和社区", code="liuhe", name_en="Liuhe")
    resident = factories.ResidentProfileFactory(
        user__email="wang.xiuying.yunhewan@example.com",  # long: must wrap on the smallest phone
        user__password=PASSWORD,
        display_name="王秀英",
        mobile="13905710101",
        mobile_verified=True,
        community=community,
    ).user
    base = portal.url
    phone.goto(f"{base}/zh-hans/accounts/login/?next=/zh-hans/me/")
    phone.fill("input[name=login]", "wang.xiuying.yunhewan@example.com")
    phone.fill("input[name=password]", PASSWORD)
    phone.locator("main button[type=submit]").click()
    phone.wait_for_url(f"{base}/zh-hans/me/")
    phone.set_viewport_size({"width": 320, "height": 700})  # "Logged in as" a long address: it must wrap
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 320
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.get_by_role("link", name="通知方式（电子邮件、短信、微信）").click()
    phone.wait_for_url(f"{base}/zh-hans/me/notifications/")
    assert phone.locator("#id_reminders_1").is_checked()  # SMS for tomorrow's reminder by default
    assert not phone.locator("#id_bookings_1").is_checked()
    assert scan(phone) == []
    phone.set_viewport_size({"width": 320, "height": 700})
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 320  # nothing wider than the phone
    phone.screenshot(path=str(tmp_path / "notifications.png"), full_page=True)
    phone.get_by_role("group", name="预约确认").get_by_label("电子邮箱").uncheck()
    phone.get_by_role("group", name="预约确认").get_by_label("短信").check()
    phone.get_by_role("button", name="保存").click()
    phone.wait_for_url(f"{base}/zh-hans/me/notifications/")
    assert "您的选择已保存" in phone.content()
    assert services.channels_for(resident, "events.booking_made") == ["sms"]
    # Nothing ticked for a kind: a clear error on the page, nothing saved.
    phone.get_by_role("group", name="预约确认").get_by_label("短信").uncheck()
    phone.get_by_role("button", name="保存").click()
    assert "请至少选择一种通知方式" in phone.content()
    assert services.channels_for(resident, "events.booking_made") == ["sms"]
