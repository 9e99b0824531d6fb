"""A newcomer on an English phone signs up, opens the verification link and books a class from the menu: the
English half of the sign-up journey (the Chinese one is test_resident_journey.py), with the ticket at the end."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from events import factories as event_factories
from events.models import Booking
from home.factories import translate

pytestmark = pytest.mark.browser

PASSWORD = "willow-harbour-kettle-17"


def test_a_newcomer_signs_up_in_english_verifies_and_books(portal, chromium, read_qr_codes):
    index = event_factories.activity_index()
    translate(index, strings={"课程活动": "Classes and activities", "activities": "activities"})
    activity = event_factories.activity(parent=index, title="亲子剪纸", slug="family-paper-cutting", summary="全家一起学。")
    translate(
        activity,
        strings={
            "亲子剪纸": "Family paper-cutting",
            "family-paper-cutting": "family-paper-cutting",
            "全家一起学。": "For the family.",
            "王老师": "Ms Wang",
            "六和社区文化家园": "Liuhe Culture Home",
        },
    )
    session = event_factories.SessionFactory(activity=activity, capacity=5, starts_at=event_factories.in_days(3, hour=15))
    base = portal.url
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    context.set_default_timeout(15_000)
    phone = context.new_page()
    h1 = phone.get_by_role("heading", level=1)
    try:
        phone.goto(f"{base}/en/")
        phone.locator("header").get_by_role("link", name="Sign up").click()
        phone.wait_for_url(f"{base}/en/accounts/signup/")
        phone.fill("input[name=email]", "newcomer@example.com")
        phone.fill("input[name=password1]", PASSWORD)
        phone.fill("input[name=password2]", PASSWORD)
        phone.check("input[name=privacy_consent]")
        phone.locator("main button[type=submit]").click()
        phone.wait_for_url(f"{base}/en/accounts/confirm-email/")

        # The mail is in English (the language of the sign-up) and its link opens the English portal.
        (message,) = mail.outbox
        assert message.to == ["newcomer@example.com"] and message.subject.endswith("Confirm your e-mail address")
        link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)
        assert link.startswith(f"{base}/en/")
        phone.goto(link)
        phone.wait_for_url(f"{base}/en/me/")
        assert h1.inner_text() == "My page"

        # From the menu to the class, and one tap to book it for oneself.
        phone.locator("header").get_by_role("link", name="Classes", exact=True).click()
        phone.get_by_role("link", name="Family paper-cutting").first.click()
        expect(h1).to_have_text("Family paper-cutting")
        phone.locator(f"form[action$='/sessions/{session.pk}/book/'] button[type=submit]").click()
        phone.wait_for_url(f"{base}/en/me/bookings/")
        booking = Booking.objects.get()
        assert booking.resident.email == "newcomer@example.com" and booking.status == Booking.Status.CONFIRMED
        assert "Family paper-cutting" in phone.locator("main").inner_text()
        assert [code["text"] for code in read_qr_codes(phone)] == [f"LINLI:{booking.code}"]
    finally:
        context.close()
