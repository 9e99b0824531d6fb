"""Every QR code the portal shows (ticket, reward pick-up, council door) loads and reads back to its code in
the browser, in both languages: an <img> whose SVG lacked its xmlns showed as a broken image."""

import datetime

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deliberation.council.factories import CouncilSessionFactory, council_with_members
from deliberation.mailbox.factories import community_with_staff, staff_member
from events import factories as event_factories
from events import services as event_services
from home.factories import ResidentProfileFactory
from points import services as points_services
from points.factories import RewardFactory

pytestmark = pytest.mark.browser


def log_in(page, user, base: str) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base}])


def test_every_qr_code_loads_and_reads_back_to_its_code(portal, phone, read_qr_codes):
    base = portal.url
    resident = ResidentProfileFactory(user__email="qr@example.com", birth_year=1980).user
    session = event_factories.SessionFactory(activity=event_factories.activity(title="太极拳", slug="taiji"))
    (booking,) = event_services.book_session(session=session, resident=resident, actor=resident)
    points_services.award(resident=resident, rule_code="staff_award", source_key="qr-test", amount=50, reason="test")
    reservation = points_services.redeem(resident=resident, reward=RewardFactory(name="毛巾", cost=25))
    log_in(phone, resident, base)
    pickup = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("points_admin:hand_over") + f"?code={reservation.code}"
    for language in ("zh-hans", "en"):
        phone.goto(f"{base}/{language}/me/bookings/")
        assert read_qr_codes(phone) == [{"tag": "svg", "visible": True, "shown": True, "text": f"LINLI:{booking.code}"}]
        phone.goto(f"{base}/{language}/me/points/reservations/{reservation.pk}/")
        assert read_qr_codes(phone) == [{"tag": "img", "visible": True, "shown": True, "text": pickup}]

    community = community_with_staff(name="六和社区", code="liuhe")
    staff = staff_member(community, username="door-staff")
    community.editors.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    council = council_with_members(members=3, community=community)
    door = CouncilSessionFactory(council=council, starts_at=timezone.now() + datetime.timedelta(days=3))
    log_in(phone, staff, base)
    phone.goto(f"{base}{reverse('council_admin:door_qr', args=[door.pk])}")
    (code,) = read_qr_codes(phone)
    assert code["visible"] and code["text"].endswith(f"/zh-hans/me/council/door/{door.pk}/{door.door_key}/")


def test_a_broken_qr_image_is_caught(portal, phone, read_qr_codes):
    """Guards the reader: an SVG without its xmlns (what the pick-up page used to show) does not load."""
    phone.goto(f"{portal.url}/zh-hans/")
    phone.evaluate(
        """() => {
            const image = document.querySelector("main").appendChild(document.createElement("img"));
            image.className = "qr";
            image.alt = "QR";
            image.src = "data:image/svg+xml;base64," + btoa('<svg viewBox="0 0 10 10"><path d="M0 0h5v5H0z"/></svg>');
        }"""
    )
    assert read_qr_codes(phone) == [{"tag": "img", "visible": True, "shown": False, "text": None}]
