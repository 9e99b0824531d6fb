"""The reward hand-over desk reads the resident's pick-up QR code with the camera, as check-in reads tickets."""

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.urls import reverse

from home.factories import ResidentProfileFactory, UserFactory
from home.services import create_community
from points import services
from points.factories import RewardFactory
from points.models import Reservation
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

from .test_events_checkin import PASSWORD, SMALL_PHONE, log_in_at, ticket_video

pytestmark = pytest.mark.browser


def test_the_camera_reads_the_pickup_code_and_staff_hand_the_gift_over(portal, chromium, tmp_path):
    community = create_community(name="六和社区", code="liuhe", name_en="Liuhe")
    staff = UserFactory(username="desk", email="desk@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    staff.groups.add(community.editors)
    resident = ResidentProfileFactory(display_name="陈阿姨", community=community).user
    EmailAddress.objects.filter(user=resident).update(verified=True)
    services.award(resident=resident, rule_code="staff_award", source_key="handover-test", amount=30, reason="test")
    reservation = services.redeem(resident=resident, reward=RewardFactory(name="毛巾", cost=25))
    # The camera shows what the resident's phone shows: the pick-up QR code (the hand-over address with the code).
    url = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("points_admin:hand_over") + f"?code={reservation.code}"
    video = tmp_path / "pickup.y4m"
    ticket_video(video, url)
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
        log_in_at(page, f"{portal.url}/admin/points/hand-over/", staff)
        page.locator("[data-checkin-scan]").click()
        page.get_by_text("毛巾").wait_for()
        assert page.locator("#id_code").input_value() == reservation.code  # the code, not the whole address
        page.get_by_role("button", name="确认发放").click()
        page.wait_for_load_state()
        assert Reservation.objects.get().status == Reservation.Status.COLLECTED
    finally:
        camera.close()
