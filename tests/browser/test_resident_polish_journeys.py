"""The done-when journeys of issue 15 on a phone, in both languages with large text on and off: book for
oneself and a child → ticket → cancel after a confirmation; exchange → pick-up code; write a letter with a
photo → follow it; staff check a resident in from the roster. Sign-up has its own tests (home, accounts)."""

import datetime
import io

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from deliberation.mailbox.factories import community_with_staff, staff_member
from deliberation.mailbox.models import Letter
from events import factories as event_factories
from events import services as event_services
from events.models import Booking
from home.factories import ResidentProfileFactory, translate
from points import services as points_services
from points.factories import RewardFactory
from points.models import Reservation

pytestmark = pytest.mark.browser

VARIANTS = [("zh-hans", "normal"), ("zh-hans", "large"), ("en", "normal"), ("en", "large")]
WORDS = {
    "zh-hans": {
        "cancel": "取消这个预约",
        "sure": "确定取消这个预约吗？",
        "yes": "确定取消",
        "exchange": "兑换毛巾",
        "exchange_question": "用 25 积分兑换毛巾？",
        "exchange_yes": "确定兑换",
        "send": "发送来信",
        "follow": "查看来信进展",
    },
    "en": {
        "cancel": "Cancel this booking",
        "sure": "Cancel this booking?",
        "yes": "Yes, cancel",
        "exchange": "Exchange for Towel",
        "exchange_question": "Exchange 25 points for Towel?",
        "exchange_yes": "Yes, exchange",
        "send": "Send letter",
        "follow": "Follow your letter",
    },
}


def cookie_for(user, base: str) -> dict:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    return {"name": cookie.key, "value": cookie.value, "url": base}


def photo(path) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


@pytest.mark.parametrize(("language", "text"), VARIANTS)
def test_the_resident_journeys_and_the_roster_check_in(portal, chromium, read_qr_codes, tmp_path, language, text):
    words = WORDS[language]
    base = portal.url
    community = community_with_staff(name="六和社区", code="liuhe")
    community.editors.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    staff = staff_member(community, username="roster-staff")
    year = timezone.localdate().year
    parent = ResidentProfileFactory(display_name="王秀英", community=community, birth_year=year - 38).user
    EmailAddress.objects.filter(user=parent).update(verified=True)
    child = event_services.add_household_member(
        resident=parent, name="小明", birth_year=year - 9, relation="child", guardian_consent=True
    )
    index = event_factories.activity_index()
    translate(index, strings={"课程活动": "Classes and activities", "activities": "activities"})
    activity = event_factories.activity(
        parent=index, title="亲子剪纸", slug="family-paper-cutting", summary="全家一起学。", community=community
    )
    english = translate(
        activity,
        strings={
            "亲子剪纸": "Family paper-cutting",
            "family-paper-cutting": "family-paper-cutting",
            "全家一起学。": "For the family.",
            "王老师": "Ms Wang",
            "六和社区文化家园": "Liuhe Culture Home",
        },
    )
    starts = timezone.now() + datetime.timedelta(minutes=40)
    session = event_factories.SessionFactory(
        activity=activity, capacity=5, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1)
    )
    points_services.award(resident=parent, rule_code="staff_award", source_key="journey", amount=40, reason="test")
    RewardFactory(name="毛巾", name_en="Towel", cost=25)

    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN" if language == "zh-hans" else "en-GB")
    context.set_default_timeout(15_000)
    context.add_cookies([cookie_for(parent, base), {"name": "linli_text", "value": text, "url": base}])
    phone = context.new_page()
    try:
        # Book for oneself, then for the child; both tickets read back from their QR codes.
        page_url = activity.url if language == "zh-hans" else english.url
        for participant in ("me", str(child.pk)):
            phone.goto(base + page_url)
            assert ("text-large" in phone.locator("body").get_attribute("class")) == (text == "large")
            # The community has no English name: English pages say so visibly instead of passing the Chinese off.
            where = phone.locator("main .meta").first.inner_text()
            assert "六和社区" in where and ("六和社区 (no English yet)" in where) == (language == "en")
            form = phone.locator(f"form[action$='/sessions/{session.pk}/book/']")
            form.locator("select[name=participant]").select_option(participant)
            form.locator("button[type=submit]").click()
            phone.wait_for_url(f"{base}/{language}/me/bookings/")
        mine, childs = Booking.objects.filter(resident=parent).order_by("pk")
        assert childs.participant_name == "小明"
        codes = {code["text"] for code in read_qr_codes(phone)}
        assert codes == {f"LINLI:{mine.code}", f"LINLI:{childs.code}"}
        # The activity page now shows the place as booked, and offers nobody else.
        phone.goto(base + page_url)
        assert phone.locator(f"form[action$='/sessions/{session.pk}/book/']").count() == 0
        # Cancel the child's place: the first tap asks (and says it counts as late, 40 minutes before).
        phone.goto(f"{base}/{language}/me/bookings/")
        ticket = phone.locator(f"#booking-{childs.code}")
        ticket.locator("summary").click()
        question = ticket.locator(".confirm-question").inner_text()
        assert question.startswith(words["sure"]) or "late cancellation" in question or "逾期取消" in question
        ticket.get_by_role("button", name=words["yes"]).click()
        phone.wait_for_url(f"{base}/{language}/me/bookings/")
        childs.refresh_from_db()
        assert childs.status == Booking.Status.CANCELLED

        # Exchange points for a towel after the question; the pick-up code's QR code reads back.
        phone.goto(f"{base}/{language}/me/points/rewards/")
        phone.locator("summary", has_text=words["exchange"]).click()
        expect(phone.get_by_text(words["exchange_question"])).to_be_visible()
        phone.get_by_role("button", name=words["exchange_yes"]).click()
        phone.wait_for_url(f"{base}/{language}/me/points/reservations/*/")
        reservation = Reservation.objects.get()
        (pickup,) = read_qr_codes(phone)
        assert pickup["shown"] and pickup["text"].endswith(f"?code={reservation.code}")

        # Write a letter with a photo, then follow it.
        phone.goto(f"{base}/{language}/mailbox/write/")
        phone.fill("input[name=subject]", "东门路灯不亮")
        phone.fill("textarea[name=body]", "东门的路灯坏了一周了。")
        phone.select_option("select[name=category]", index=1)
        phone.set_input_files("input[name=photo1]", photo(tmp_path / "lamp.jpg"))
        phone.get_by_role("button", name=words["send"]).click()
        number = phone.locator("#tracking-number").inner_text()
        letter = Letter.objects.get(tracking_number=number)
        assert (
            letter.photos.count() == 1
            and letter.answer_due().strftime("%d").lstrip("0") in phone.locator(".answer-due").inner_text()
        )
        phone.locator("main").get_by_role("link", name=words["follow"]).first.click()
        assert number in phone.locator("main").inner_text()
        # Nothing on these pages scrolls sideways.
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()

    # Staff check the resident in from the roster in one tap, and undo it.
    desk = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    desk.add_cookies([cookie_for(staff, base)])
    try:
        roster = desk.new_page()
        roster.goto(f"{base}/admin/events/sessions/{session.pk}/")
        roster.locator(f"form[action$='/bookings/{mine.pk}/check-in/'] button").click()
        roster.wait_for_load_state()
        mine.refresh_from_db()
        assert mine.status == Booking.Status.ATTENDED
        roster.locator(f"form[action$='/bookings/{mine.pk}/undo-check-in/'] button").click()
        roster.wait_for_load_state()
        mine.refresh_from_db()
        assert mine.status == Booking.Status.CONFIRMED
    finally:
        desk.close()
