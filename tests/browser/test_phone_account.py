"""A resident with only a mobile number, on a phone: signs up with the SMS code, logs in by code, books a class.

The codes are read from the test SMS outbox (outbox.sms.sent: the worker delivered them right after the
request committed). The English pages render too, and nothing is wider than the phone.
"""

import re
import time
import types

import pytest
from django.contrib.auth import get_user_model

from events import factories as event_factories
from events.models import Booking
from home.models import ResidentProfile
from outbox import sms

pytestmark = pytest.mark.browser

PASSWORD = "lantern-osmanthus-47"


def code_texted_to(number: str) -> str:
    codes = [
        message["params"]["code"] for message in sms.sent if message["to"] == number and message["kind"] == "account.phone_code"
    ]
    assert codes, f"no code texted to {number}: {sms.sent}"
    return codes[-1]


def fits_the_screen(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_sign_up_by_number_log_in_by_code_and_book_a_class(portal, phone, tmp_path, monkeypatch):
    base = portal.url
    session = event_factories.SessionFactory(starts_at=event_factories.in_days(4, hour=10))
    activity = session.activity

    # Sign up with the number as people write it, and the code from the SMS.
    phone.goto(f"{base}/zh-hans/accounts/login/")
    assert fits_the_screen(phone)
    phone.get_by_role("link", name="用手机号注册").click()
    phone.fill("input[name=phone]", "+86 139-0571-0101")
    phone.fill("input[name=password1]", PASSWORD)
    phone.fill("input[name=password2]", PASSWORD)
    phone.check("input[name=privacy_consent]")
    phone.locator("main button[type=submit]").click()
    phone.wait_for_url(re.compile(r".*/accounts/phone/verify/$"))
    assert "13905710101" in phone.locator("main").inner_text()
    assert fits_the_screen(phone)
    phone.screenshot(path=tmp_path / "verify.png")
    phone.fill("input[name=code]", code_texted_to("13905710101"))
    phone.get_by_role("button", name="确认").click()
    phone.wait_for_url(re.compile(r".*/me/$"))
    profile = ResidentProfile.objects.get(mobile="13905710101")
    assert profile.mobile_verified and not profile.user.email

    # Log out, then back in with a code, a minute later (one code a minute per number).
    from allauth.core.internal import ratelimit

    real_time = time.time
    monkeypatch.setattr(
        ratelimit, "time", types.SimpleNamespace(time=lambda: real_time() + 61, monotonic=time.monotonic, sleep=time.sleep)
    )
    phone.locator("form[action$='/accounts/logout/'] button").first.click()
    phone.goto(f"{base}/zh-hans/accounts/login/")
    phone.get_by_role("link", name="用手机验证码登录").click()
    phone.fill("input[name=phone]", "139 0571 0101")
    phone.get_by_role("button", name="获取验证码").click()
    phone.wait_for_url(re.compile(r".*/accounts/login/code/confirm/$"))
    phone.fill("input[name=code]", code_texted_to("13905710101"))
    phone.get_by_role("button", name="确认").click()
    phone.wait_for_url(re.compile(r".*/me/$"))

    # Book the class: a resident with a proven number is a verified resident.
    phone.goto(f"{base}{activity.url}")
    phone.locator(f"form[action$='/sessions/{session.pk}/book/'] button[type=submit]").click()
    phone.wait_for_url(f"{base}/zh-hans/me/bookings/")
    booking = Booking.objects.get()
    assert booking.resident == profile.user and booking.status == Booking.Status.CONFIRMED
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize(
    "path", ["/en/accounts/login/", "/en/accounts/login/code/", "/en/accounts/signup/", "/en/accounts/password/reset/"]
)
def test_the_english_pages_render_on_a_phone(portal, phone, path):
    phone.goto(f"{portal.url}{path}")

    text = phone.locator("main").inner_text()
    assert "Mobile number" in text or "mobile number" in text or "SMS" in text
    assert fits_the_screen(phone)
    for button in phone.locator("main button[type=submit], main a.button").all():
        box = button.bounding_box()
        assert box is None or box["height"] >= 44  # a thumb hits it
