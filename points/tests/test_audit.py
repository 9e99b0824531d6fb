"""Every change staff make to a resident's points is in Wagtail's audit log once, with its author, and staff
read it on the resident's points page in the admin."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from wagtail.models import ModelLogEntry

from home.factories import CommunityFactory, UserFactory
from home.scope import NotStaff
from points import audit, services
from points.factories import RewardFactory, resident
from points.models import Account

pytestmark = pytest.mark.usefixtures("site_pages")


@pytest.fixture
def community():
    community = CommunityFactory()
    community.editors = Group.objects.create(name=f"{community.code} staff")
    community.editors.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    community.save()
    return community


@pytest.fixture
def staff(community):
    user = UserFactory(username="desk", email="desk@example.com")
    user.groups.add(community.editors)
    return user


@pytest.fixture
def neighbour(community):
    return resident(display_name="李大爷", mobile="13812345678", community=community)


def logged(neighbour) -> list[tuple[str, object, dict]]:
    account = Account.objects.get(resident=neighbour)
    return [(entry.action, entry.user, entry.data) for entry in audit.history(account)]


def test_an_award_by_hand_an_adjustment_and_a_reversal_each_leave_one_entry_with_their_author(staff, neighbour):
    entry = services.award_by_staff(actor=staff, resident=neighbour, rule_code="staff_award", amount=15, reason="帮忙")
    assert logged(neighbour) == [
        (
            "points.award",
            staff,
            {"entry": entry.pk, "points": 15, "rule": "staff_award", "day": timezone.localdate().isoformat(), "reason": "帮忙"},
        )
    ]
    same = services.award_by_staff(
        actor=staff, resident=neighbour, rule_code="staff_award", amount=15, reason="帮忙", source_key=entry.source_key
    )
    assert same is None and len(logged(neighbour)) == 1  # nothing awarded, nothing logged
    adjustment = services.adjust(actor=staff, resident=neighbour, amount=-5, reason="多发了")
    assert logged(neighbour)[0] == ("points.adjust", staff, {"entry": adjustment.pk, "points": -5, "reason": "多发了"})
    reversal = services.reverse_by_staff(actor=staff, entry=entry, reason="发错人了")
    assert logged(neighbour)[0] == ("points.reverse", staff, {"entry": entry.pk, "points": reversal.amount, "reason": "发错人了"})
    assert [action for action, _user, _data in logged(neighbour)] == ["points.reverse", "points.adjust", "points.award"]


def test_refused_changes_leave_no_entry(staff, neighbour):
    outsider = UserFactory()  # staff of no community
    services.award_by_staff(actor=staff, resident=neighbour, rule_code="staff_award", amount=15, reason="帮忙")
    with pytest.raises(NotStaff):
        services.adjust(actor=outsider, resident=neighbour, amount=5, reason="x")
    with pytest.raises(services.PointsError):
        services.adjust(actor=staff, resident=neighbour, amount=-500, reason="x")  # more than the balance
    with pytest.raises(services.NotAllowed):
        services.award_by_staff(actor=staff, resident=neighbour, rule_code="attendance")
    assert [action for action, _user, _data in logged(neighbour)] == ["points.award"]


def test_handing_over_and_cancelling_for_a_resident_are_logged_and_the_residents_own_cancelling_is_not(staff, neighbour):
    services.award(resident=neighbour, rule_code="attendance", source_key="a", amount=60)
    reward = RewardFactory(cost=10, stock=5)
    collected, cancelled, own = (services.redeem(resident=neighbour, reward=reward) for _index in range(3))
    assert logged(neighbour) == []  # the portal's own award and the resident's reservations are not staff actions
    services.hand_over(code=collected.code, actor=staff)
    code = services.format_code(collected.code)
    assert logged(neighbour) == [
        ("points.reward.hand_over", staff, {"reservation": collected.pk, "reward": reward.pk, "code": code})
    ]
    services.cancel_reservation(reservation=cancelled, actor=staff)
    assert logged(neighbour)[0] == (
        "points.reservation.cancel",
        staff,
        {"reservation": cancelled.pk, "reward": reward.pk, "points": 10},
    )
    services.cancel_reservation(reservation=own, actor=neighbour)
    assert len(logged(neighbour)) == 2


def test_a_sheet_logs_each_awarded_row_once_and_its_preview_nothing(client, staff, neighbour):
    client.force_login(staff)
    other = resident(user__email="wang@example.com", community=neighbour.profile.community)
    today = timezone.localdate().isoformat()
    sheet = f"resident,rule,date,points,reason\n13812345678,garbage_sorting,{today},,\nwang@example.com,staff_award,{today},5,清理楼道\n"
    preview = client.post("/admin/points/bulk/", {"file": SimpleUploadedFile("sheet.csv", sheet.encode())})
    assert not ModelLogEntry.objects.filter(action__startswith="points.").exists()
    assert [row.status for row in preview.context["results"]] == ["awarded", "awarded"], preview.context["results"]
    client.post("/admin/points/bulk/", {"rows": preview.context["rows"]})
    client.post("/admin/points/bulk/", {"rows": preview.context["rows"]})  # again: nothing new
    for person, points in ((neighbour, 2), (other, 5)):
        ((action, user, data),) = logged(person)
        assert (action, user, data["points"]) == ("points.award.sheet", staff, points)


def test_the_history_on_the_residents_points_page_in_both_languages(client, staff, neighbour, django_assert_num_queries):
    from wagtail.users.models import UserProfile

    client.force_login(staff)
    services.award_by_staff(actor=staff, resident=neighbour, rule_code="staff_award", amount=15, reason="帮忙")
    services.adjust(actor=staff, resident=neighbour, amount=-5, reason="多发了")
    page = client.get(f"/admin/points/award/{neighbour.pk}/").content.decode()
    assert "工作人员对此账户的操作" in page and "调整了余额" in page and "手动发放了积分" in page
    assert page.index("多发了") < page.index("帮忙")  # newest first
    assert "desk@example.com" in page and "-5" in page
    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = "en"
    profile.save()
    page = client.get(f"/admin/points/adjust/{neighbour.pk}/").content.decode()
    assert "What staff did on this account" in page and "Adjusted the balance" in page and "Awarded points by hand" in page
    other = resident(community=neighbour.profile.community)
    assert "No staff actions on this account yet." in client.get(f"/admin/points/award/{other.pk}/").content.decode()


def test_the_history_costs_the_same_queries_however_long_it_is(client, staff, neighbour):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(staff)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/admin/points/award/{neighbour.pk}/").status_code == 200
        return len(queries)

    services.adjust(actor=staff, resident=neighbour, amount=5, reason="一")
    count()  # the first admin page makes the person's sidebar (home/admin_sidebar.py); the next ones reuse it
    few = count()
    for number in range(5):
        services.adjust(actor=UserFactory(is_superuser=True), resident=neighbour, amount=5, reason=str(number))
    assert count() == few
