"""A newcomer signs up, verifies, logs in, reads a notice in English and turns on large text."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect
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
    h1 = phone.get_by_role("heading", level=1)

    # The Chinese home page shows the notice.
    phone.goto(f"{base}/zh-hans/")
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    assert h1.inner_text() == "邻里"
    expect(phone.get_by_role("link", name="社区义诊：周六上午在六和社区卫生站")).to_be_visible()

    # Sign up with the privacy consent; the consent label links to the Chinese privacy notice.
    phone.locator("header").get_by_role("link", name="注册").click()
    phone.wait_for_url(f"{base}/zh-hans/accounts/signup/")
    assert h1.inner_text() == "注册"
    expect(phone.locator("label[for=id_privacy_consent]").get_by_role("link", name="隐私告知书")).to_be_visible()
    phone.fill("input[name=email]", "newcomer@example.com")
    phone.fill("input[name=password1]", PASSWORD)
    phone.fill("input[name=password2]", PASSWORD)
    phone.check("input[name=privacy_consent]")
    phone.locator("main button[type=submit]").click()
    phone.wait_for_url(f"{base}/zh-hans/accounts/confirm-email/")
    assert h1.inner_text() == "请查收邮件"

    # The live server runs in a thread of this process, so its mail is in the same locmem outbox.
    assert [message.to for message in mail.outbox] == [["newcomer@example.com"]]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    assert link.startswith(f"{base}/zh-hans/")  # the link opens the portal in the language of the sign-up

    # Open the link: verified and logged in at once, without a second tap.
    phone.goto(link)
    phone.wait_for_url(f"{base}/zh-hans/me/")
    assert h1.inner_text() == "我的"

    # Log out, then log in with the password.
    phone.locator("main form[action*=logout] button").click()
    phone.wait_for_load_state()
    assert phone.locator("header").get_by_role("link", name="我的", exact=True).count() == 0
    phone.locator("header").get_by_role("link", name="登录").click()
    assert h1.inner_text() == "登录"
    phone.fill("input[name=login]", "newcomer@example.com")
    phone.fill("input[name=password]", PASSWORD)
    phone.locator("main button[type=submit]").click()
    phone.wait_for_url(f"{base}/zh-hans/me/")
    assert h1.inner_text() == "我的"
    assert "newcomer@example.com" in phone.locator("main").inner_text()
    expect(phone.locator("header").get_by_role("link", name="我的", exact=True)).to_be_visible()

    # Switch to English: the same page in English, and the profile remembers it.
    phone.goto(f"{base}/zh-hans/")
    phone.locator("header").get_by_role("link", name="English").click()
    phone.wait_for_url(f"{base}/en/")
    assert phone.locator("html").get_attribute("lang") == "en"
    assert h1.inner_text() == "Linli"
    expect(phone.get_by_role("heading", level=2, name="Latest notices")).to_be_visible()

    # Open the notice in English.
    english_notice = notice.get_translation(Locale.objects.get(language_code="en"))
    phone.get_by_role("link", name="Free health check on Saturday morning").click()
    phone.wait_for_url(base + english_notice.url)
    assert h1.inner_text() == "Free health check on Saturday morning"
    assert "Free check-ups for residents over 65." in phone.locator("main").inner_text()

    # Large text, kept on the next page too.
    normal_size = phone.evaluate("getComputedStyle(document.body).fontSize")
    phone.locator("header").get_by_role("button", name="Large text").click()
    phone.wait_for_load_state()
    assert "text-large" in phone.locator("body").get_attribute("class")
    assert phone.evaluate("getComputedStyle(document.body).fontSize") != normal_size
    assert phone.url == base + english_notice.url  # back on the page it was turned on from
    assert h1.inner_text() == "Free health check on Saturday morning"
    expect(phone.locator("header").get_by_role("button", name="Normal text")).to_be_visible()

    # The profile page, in English and large text: large text is saved; the switch changed only this
    # device's language, not the language of the resident's mail (that is the profile's own field).
    phone.locator("header").get_by_role("link", name="My page").click()
    phone.wait_for_url(f"{base}/en/me/")
    assert h1.inner_text() == "My page"
    assert "text-large" in phone.locator("body").get_attribute("class")
    assert phone.locator("input[name=large_text]").is_checked()
    assert phone.locator("select[name=preferred_language]").input_value() == "zh-hans"

    phone.screenshot(path=str(tmp_path / "journey.png"), full_page=True)
    assert (tmp_path / "journey.png").stat().st_size > 10_000
