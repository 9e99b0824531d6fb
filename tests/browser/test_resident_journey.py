"""A newcomer signs up, verifies, logs in, reads a notice in English and turns on large text."""

import re

import pytest
from django.core import mail
from wagtail.models import Locale

from home import factories

pytestmark = pytest.mark.browser

PASSWORD = "canal-bridge-lantern-42"


def test_resident_signs_up_verifies_logs_in_and_reads_in_large_english_text(portal, phone, tmp_path):
    notice = factories.notice(title="社区义诊：周六上午在六和社区卫生站", summary="65岁以上老人免费体检。")
    factories.translate(
        notice,
        strings={
            "社区义诊：周六上午在六和社区卫生站": "Free health check on Saturday morning",
            notice.slug: notice.slug,
            "65岁以上老人免费体检。": "Free check-ups for residents over 65.",
            "欢迎居民报名参加。": "Residents are welcome to sign up.",
        },
    )
    base = portal.url

    # The Chinese home page shows the notice.
    phone.goto(f"{base}/zh-hans/")
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    assert phone.get_by_role("link", name="社区义诊：周六上午在六和社区卫生站").is_visible()

    # Sign up with the privacy consent.
    phone.locator("header").get_by_role("link", name="注册").click()
    phone.fill("input[name=email]", "newcomer@example.com")
    phone.fill("input[name=password1]", PASSWORD)
    phone.fill("input[name=password2]", PASSWORD)
    phone.check("input[name=privacy_consent]")
    phone.locator("main button[type=submit]").click()
    phone.wait_for_load_state()
    assert "/accounts/confirm-email/" in phone.url

    # Open the verification link from the mail, confirm.
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    phone.goto(link)
    phone.locator("main button[type=submit]").click()
    phone.wait_for_load_state()
    assert "/me/" in phone.url  # verified and logged in at once

    # Log out and in again with the password.
    phone.locator("main form[action*=logout] button").click()
    phone.wait_for_load_state()
    phone.locator("header").get_by_role("link", name="登录").click()
    phone.fill("input[name=login]", "newcomer@example.com")
    phone.fill("input[name=password]", PASSWORD)
    phone.locator("main button[type=submit]").click()
    phone.wait_for_load_state()
    assert phone.get_by_role("heading", name="我的", exact=True).is_visible()
    assert "newcomer@example.com" in phone.locator("main").inner_text()

    # Switch to English: the same page in English, and the profile remembers it.
    phone.goto(f"{base}/zh-hans/")
    phone.locator("header").get_by_role("link", name="English").click()
    phone.wait_for_load_state()
    assert phone.url.endswith("/en/")
    assert phone.locator("html").get_attribute("lang") == "en"

    # Open the notice in English.
    phone.get_by_role("link", name="Free health check on Saturday morning").click()
    phone.wait_for_load_state()
    assert phone.get_by_role("heading", level=1).inner_text() == "Free health check on Saturday morning"
    assert "Free check-ups for residents over 65." in phone.locator("main").inner_text()

    # Large text, kept on the next page too.
    normal_size = phone.evaluate("getComputedStyle(document.body).fontSize")
    phone.locator("header").get_by_role("button", name="Large text").click()
    phone.wait_for_load_state()
    assert "text-large" in phone.locator("body").get_attribute("class")
    assert phone.evaluate("getComputedStyle(document.body).fontSize") != normal_size
    assert phone.url.endswith(notice.get_translation(Locale.objects.get(language_code="en")).url)
    phone.goto(f"{base}/en/me/")
    assert "text-large" in phone.locator("body").get_attribute("class")
    assert phone.locator("input[name=large_text]").is_checked()
    assert phone.locator("select[name=preferred_language]").input_value() == "en"

    phone.screenshot(path=str(tmp_path / "journey.png"), full_page=True)
    assert (tmp_path / "journey.png").stat().st_size > 10_000
