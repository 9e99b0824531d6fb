"""Staff check residents in at the door on a phone: type the ticket code, see who it is; a second time is not counted."""

import datetime

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from conftest import skip_or_fail
from events import factories, services
from events.models import Booking
from home.factories import ResidentProfileFactory, UserFactory
from home.services import create_community

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


def test_staff_check_a_ticket_in_on_a_small_phone(portal, chromium, axe_scan):
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

    context = chromium.new_context(viewport=SMALL_PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    base = portal.url
    check_in_url = f"{base}/admin/events/sessions/{session.pk}/check-in/"
    page.goto(check_in_url)
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(check_in_url)

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
