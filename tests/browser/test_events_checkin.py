"""Staff check residents in at the door on a phone: type the ticket code, see who it is; a second time is not counted."""

import datetime
import io

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from conftest import skip_or_fail
from events import factories, services
from events.models import Booking
from home.factories import ResidentProfileFactory, UserFactory
from home.services import create_community
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

PASSWORD = "door-keeper-password-2026"
SMALL_PHONE = {"width": 360, "height": 740}


@pytest.fixture
def axe_scan():
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        skip_or_fail("the axe-playwright-python package is not installed (requirements-dev.txt)")
    axe = Axe()

    def serious_violations(page) -> list[str]:
        return [
            f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
            for violation in axe.run(page).response["violations"]
            if violation["impact"] in {"serious", "critical"}
        ]

    return serious_violations


@pytest.fixture
def door(portal):
    """A session starting in half an hour, its community's staff member and a resident's ticket."""
    community = create_community(name="六和社区", code="liuhe", name_en="Liuhe")
    staff = UserFactory(username="door", email="door@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    staff.groups.add(community.editors)
    resident = ResidentProfileFactory(display_name="陈阿姨", community=community, birth_year=1960).user
    EmailAddress.objects.filter(user=resident).update(verified=True)
    starts = timezone.now() + datetime.timedelta(minutes=30)
    activity = factories.activity(title="太极拳", slug="taiji", community=community)
    session = factories.SessionFactory(activity=activity, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1))
    (ticket,) = services.book_session(session=session, resident=resident, actor=resident)
    return {
        "staff": staff,
        "session": session,
        "ticket": ticket,
        "check_in_url": f"{portal.url}/admin/events/sessions/{session.pk}/check-in/",
    }


def log_in_at(page, url: str, staff) -> None:
    page.goto(url)
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(url)
    # Once more without the "signed in" banner: axe may catch it mid-animation (Wagtail's, not ours).
    page.goto(url)


def test_staff_check_a_ticket_in_on_a_small_phone(door, chromium, axe_scan):
    session, ticket = door["session"], door["ticket"]
    context = chromium.new_context(viewport=SMALL_PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    log_in_at(page, door["check_in_url"], door["staff"])

    # The page fits the screen: nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert axe_scan(page) == []

    # Typed as a resident reads it aloud: lower case, with the dash.
    page.fill("input[name=code]", ticket.display_code.lower())
    page.locator("[data-checkin-form] button[type=submit]").click()
    result = page.locator("[data-outcome]")
    assert result.get_attribute("data-outcome") == "checked_in"
    assert "陈阿姨" in result.inner_text()
    ticket.refresh_from_db()
    assert ticket.status == Booking.Status.ATTENDED
    assert axe_scan(page) == []

    # The same ticket again: recognised, not counted twice.
    page.fill("input[name=code]", ticket.code)
    page.locator("[data-checkin-form] button[type=submit]").click()
    result = page.locator("[data-outcome]")
    assert result.get_attribute("data-outcome") == "repeated"
    assert "陈阿姨" in result.inner_text()
    assert Booking.objects.filter(session=session, status=Booking.Status.ATTENDED).count() == 1

    # A code nobody holds is refused clearly.
    page.fill("input[name=code]", "ZZZZ-ZZZZ")
    page.locator("[data-checkin-form] button[type=submit]").click()
    assert page.locator("[data-outcome]").get_attribute("data-outcome") == "refused"
    context.close()


def ticket_video(path, text: str) -> None:
    """A few seconds of camera picture showing the ticket's QR code (Y4M, greyscale), for Chromium's fake camera."""
    import segno
    from PIL import Image

    width, height = 640, 480
    buffer = io.BytesIO()
    # A regular QR code: jsQR, like most phone scanners, cannot read Micro QR.
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=8, border=4)
    code = Image.open(buffer).convert("L")
    frame = Image.new("L", (width, height), 255)
    frame.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (width // 2 * height // 2)
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _frame in range(20):
            video.write(b"FRAME\n" + luma + chroma + chroma)


def test_the_camera_reads_the_ticket_and_checks_it_in(door, chromium, tmp_path):
    """Chromium's fake camera shows the QR code from My bookings; the page decodes it with jsQR and submits it."""
    ticket = door["ticket"]
    video = tmp_path / "ticket.y4m"
    ticket_video(video, f"LINLI:{ticket.code}")
    camera = chromium.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = camera.new_context(viewport=SMALL_PHONE, locale="zh-CN")
        context.set_default_timeout(20_000)
        context.grant_permissions(["camera"])
        page = context.new_page()
        log_in_at(page, door["check_in_url"], door["staff"])
        page.locator("[data-checkin-scan]").click()
        result = page.locator("[data-outcome]")
        result.wait_for()
        assert result.get_attribute("data-outcome") == "checked_in"
        assert "陈阿姨" in result.inner_text()
        ticket.refresh_from_db()
        assert ticket.status == Booking.Status.ATTENDED
        # The camera comes back on for the next ticket, and does not send the one still in view again.
        page.locator("[data-checkin-video]").wait_for()
        page.wait_for_timeout(2000)
        assert page.locator("[data-outcome]").get_attribute("data-outcome") == "checked_in"
        assert Booking.objects.filter(status=Booking.Status.ATTENDED).count() == 1
    finally:
        camera.close()


def test_the_staff_pages_have_no_serious_violations(door, chromium, axe_scan, portal):
    """The sessions list, roster, forms, the series preview and the dashboard panel, in Chinese and English."""
    from wagtail.users.models import UserProfile

    session, staff = door["session"], door["staff"]
    services.book_walk_in(session=session, actor=staff, name="刘奶奶", phone="13812345678")
    base = portal.url
    pages = [
        "/admin/",
        "/admin/events/sessions/",
        f"/admin/events/sessions/{session.pk}/",
        f"/admin/events/sessions/{session.pk}/book/?q=陈",
        f"/admin/events/sessions/{session.pk}/cancel/",
        f"/admin/events/sessions/{session.pk}/email/",
        "/admin/events/activities/",
        f"/admin/events/activities/{session.activity.pk}/sessions/add/",
    ]
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    log_in_at(page, f"{base}/admin/", staff)
    found = {}
    for language in ("zh-hans", "en"):
        profile = UserProfile.get_for_user(staff)
        profile.preferred_language = language
        profile.save()
        for path in pages:
            page.goto(f"{base}{path}")
            found[f"{language} {path}"] = axe_scan(page)
        # The series preview, with its holiday flags.
        page.fill("input[name=first_day]", "2026-09-20")
        page.fill("input[name=last_day]", "2026-10-10")
        page.check("input[name=weekdays][value='3']")
        page.fill("input[name=start]", "09:00")
        page.fill("input[name=end]", "10:00")
        page.fill("input[name=capacity]", "10")
        page.locator("button[name=preview]").click()
        page.wait_for_selector("#preview-heading")
        found[f"{language} preview"] = axe_scan(page)
    context.close()
    problems = {path: violations for path, violations in found.items() if violations}
    assert problems == {}, "\n".join(f"{path}: {v}" for path, violations in problems.items() for v in violations)
