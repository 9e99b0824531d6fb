"""The sample phone client (clients/phone_walk.py) walks a council member's day on the demo street through the API:
phone-code log-in, activities, a booking and its ticket, a reward, a letter with a photo, a vote."""

from __future__ import annotations

import datetime
import importlib.util
import re
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from deliberation.council import services as council
from deliberation.council.models import AgendaItem, CouncilMember, CouncilSession, Vote
from deliberation.mailbox.models import Letter
from events.models import Booking
from points.models import Reservation

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "phone_walk.py"


def load_client():
    spec = importlib.util.spec_from_file_location("phone_walk", CLIENT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass reads its own module
    spec.loader.exec_module(module)
    return module


def through(client: Client, capture):
    """The client's requests through Django's test client, their after-commit work (the SMS) run as on a server."""

    def send(method: str, url: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        path = url.removeprefix("http://testserver")
        extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items() if name != "Content-Type"}
        with capture(execute=True):
            response = client.generic(method, path, data or b"", content_type=headers.get("Content-Type", ""), **extra)
        return response.status_code, response.content

    return send


@pytest.mark.django_db
def test_the_sample_client_walks_a_council_members_day(demo_street, tmp_path, django_capture_on_commit_callbacks):
    from outbox import sms

    seat = (
        CouncilMember.objects.select_related("council", "user__profile")
        .filter(user__profile__mobile_verified=True, user__profile__community__isnull=False)
        .order_by("pk")
        .first()
    )
    member, council_ = seat.user, seat.council
    staff = council_.community.editors.user_set.first()
    chair = CouncilMember.objects.filter(council=council_, role=CouncilMember.Role.CHAIR).first().user
    now = timezone.now()
    session = council.create_session(
        council=council_,
        actor=staff,
        title="临时议事会",
        title_en="Extra session",
        starts_at=now - datetime.timedelta(minutes=10),
        ends_at=now + datetime.timedelta(hours=2),
        mode=CouncilSession.Mode.ONLINE,
        now=now - datetime.timedelta(days=8),
    )
    item = council.add_item(
        session=session,
        actor=staff,
        title="楼道灯改造",
        motion="同意更换全部楼道灯。",
        rule=AgendaItem.Rule.SIMPLE,
        ballot=AgendaItem.Ballot.OPEN,
    )
    council.announce_session(session=session, actor=staff, now=now - datetime.timedelta(days=8))
    council.start_session(session=session, actor=chair, now=now - datetime.timedelta(minutes=5))
    others = CouncilMember.objects.filter(council=council_).exclude(pk=seat.pk).order_by("pk")
    for other in others[:4]:  # a quorum in the room; the walking member checks in from the phone
        council.check_in(session=session, user=other.user, method="secretary", actor=staff)
    council.open_voting(item=item, actor=chair, now=now - datetime.timedelta(minutes=1))

    def code_for(number: str) -> str:
        (message,) = [each for each in sms.sent if each["to"].endswith(number[-11:])]
        return re.search(r"\b(\d{6})\b", message["text"]).group(1)

    walk = load_client()
    phone = walk.Phone(base="http://testserver", send=through(Client(), django_capture_on_commit_callbacks))
    walk.log_in_by_phone(phone, member.profile.mobile, code_for)
    booking = walk.book_next_session(phone, tmp_path)
    reservation = walk.reserve_a_reward(phone)
    letter = walk.write_a_letter(phone, "楼道灯坏了", "3号楼2单元的楼道灯坏了一周，晚上很暗。", "safety")
    vote = walk.vote_where_open(phone)

    assert Booking.objects.filter(pk=booking["id"], resident=member).exists()
    if booking["status"] == "confirmed":
        assert list(tmp_path.glob("ticket-*.svg"))
    assert Reservation.objects.filter(pk=reservation["id"], resident=member).exists()
    stored = Letter.objects.get(pk=letter["id"])
    assert stored.writer == member and stored.photos.count() == 1
    assert vote["choice"] == "yes" and Vote.objects.filter(item=item, member__user=member).count() == 1
    assert phone.log[0].startswith("logged in")
