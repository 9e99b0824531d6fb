"""The resident's points pages and the honours roll, in both languages."""

import datetime

import pytest
from django.utils import timezone

from home.factories import CommunityFactory, UserFactory
from points import services
from points.factories import RewardFactory, resident
from points.models import Account, Lot, Reservation

pytestmark = pytest.mark.usefixtures("site_pages")

LANGUAGES = ["zh-hans", "en"]


@pytest.fixture
def member(client):
    user = resident(display_name="王阿姨", community=CommunityFactory())
    services.award(resident=user, rule_code="attendance", source_key="v:1", amount=40)
    services.award(resident=user, rule_code="volunteering", source_key="v:2", hours=2)
    client.force_login(user)
    return user


def test_pages_need_login(client):
    response = client.get("/zh-hans/me/points/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_overview_shows_balance_hours_expiry_and_affordable_rewards(client, member, language):
    RewardFactory(name="环保袋", name_en="Tote bag", cost=30)
    RewardFactory(name="电饭煲", cost=500)
    Lot.objects.filter(account__resident=member, amount=40).update(expires_on=timezone.localdate() + datetime.timedelta(days=9))
    response = client.get(f"/{language}/me/points/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>60</strong>" in html
    expiry = (timezone.localdate() + datetime.timedelta(days=9)).isoformat()
    if language == "en":
        assert "My points" in html and "Tote bag" in html and "Volunteer hours: 2" in html
        assert f"40 points expire on {expiry}." in html
    else:
        assert "我的积分" in html and "环保袋" in html and "志愿服务时长：2" in html
        assert f"40 积分将于 {expiry} 过期。" in html
    assert "电饭煲" not in html  # not affordable


def test_profile_page_links_to_my_points(client, member):
    assert "/zh-hans/me/points/" in client.get("/zh-hans/me/").content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_statement_pages_with_keyset_navigation(client, member, language, django_assert_num_queries):
    for number in range(30):
        services.award(resident=member, rule_code="attendance", source_key=f"s:{number}", amount=1)
    client.get(f"/{language}/me/points/statement/")  # the portal settings row is made on first use
    with django_assert_num_queries(10):
        response = client.get(f"/{language}/me/points/statement/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="amount') == 25
    older = response.context["older"]
    response = client.get(f"/{language}/me/points/statement/?before={older}")
    assert response.content.decode().count('class="amount') == 7
    assert response.context["older"] is None


def test_statement_query_count_does_not_grow_with_the_ledger(client, member, django_assert_num_queries):
    reward = RewardFactory(cost=5, stock=50)
    for _number in range(8):
        services.redeem(resident=member, reward=reward)
    services.cancel_reservation(reservation=Reservation.objects.first(), actor=member)
    client.get("/en/me/points/statement/")
    with django_assert_num_queries(11):  # + the reward names of exchanged entries
        client.get("/en/me/points/statement/")


def test_statement_csv(client, member):
    response = client.get("/en/me/points/statement.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Date,Kind,Points,Balance,Description"
    assert len(lines) == 3 and ",Earned,20,60,Volunteering" in lines[1]


def test_rewards_page_and_redeem_post(client, member):
    reward = RewardFactory(name="雨伞", cost=25, stock=1)
    response = client.get("/zh-hans/me/points/rewards/")
    assert "雨伞" in response.content.decode()
    response = client.post(f"/zh-hans/me/points/rewards/{reward.pk}/redeem/")
    reservation = Reservation.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/me/points/reservations/{reservation.pk}/")
    page = client.get(response["Location"]).content.decode()
    assert services.format_code(reservation.code) in page and "data:image/svg+xml;charset=utf-8,%3Csvg%20xmlns%3D" in page
    # Out of stock now: a clear message, nothing changes.
    response = client.post(f"/zh-hans/me/points/rewards/{reward.pk}/redeem/", follow=True)
    assert "已兑完" in response.content.decode()
    assert Account.objects.get(resident=member).balance == 35


def test_cancel_post_and_someone_elses_reservation(client, member):
    reservation = services.redeem(resident=member, reward=RewardFactory(cost=10))
    other = resident()
    client.force_login(other)
    assert client.get(f"/en/me/points/reservations/{reservation.pk}/").status_code == 404
    assert client.post(f"/en/me/points/reservations/{reservation.pk}/cancel/").status_code == 404
    client.force_login(member)
    response = client.post(f"/en/me/points/reservations/{reservation.pk}/cancel/", follow=True)
    assert "your points are back" in response.content.decode()
    reservation.refresh_from_db()
    assert reservation.status == "cancelled"


def test_honours_roll_lists_only_residents_who_opted_in(client, member):
    community = member.profile.community
    shy = resident(display_name="不愿上榜", community=community)
    services.award(resident=shy, rule_code="attendance", source_key="shy", amount=90)
    response = client.post("/zh-hans/me/points/honours/", {"opt_in": "1"})
    assert response.status_code == 302 and Account.objects.get(resident=member).honours_opt_in
    client.logout()
    for language in LANGUAGES:
        html = client.get(f"/{language}/points/honours/?community={community.code}&period=year").content.decode()
        assert "王阿姨" in html and "不愿上榜" not in html
        assert "<td>60</td>" in html
    client.post("/en/me/points/honours/", {"opt_in": "0"})  # logged out: refused
    assert Account.objects.get(resident=member).honours_opt_in
    client.force_login(member)
    client.post("/en/me/points/honours/", {"opt_in": "0"})
    client.logout()  # the anonymous visitor's cached copy is gone too
    assert "王阿姨" not in client.get(f"/en/points/honours/?community={community.code}&period=year").content.decode()


def test_read_only_pages_refuse_post_and_actions_refuse_get(client, member):
    assert client.post("/en/me/points/").status_code == 405
    assert client.get("/en/me/points/honours/").status_code == 405
    assert client.get("/en/me/points/rewards/1/redeem/").status_code == 405


def test_unverified_resident_is_told_to_verify(client):
    user = UserFactory()
    services.award(resident=user, rule_code="attendance", source_key="u", amount=40)
    client.force_login(user)
    reward = RewardFactory(cost=10)
    response = client.post(f"/en/me/points/rewards/{reward.pk}/redeem/", follow=True)
    assert "verify your mobile number or e-mail" in response.content.decode()
    assert not Reservation.objects.exists()


def test_overview_query_count_is_flat(client, member, django_assert_num_queries):
    rewards = [RewardFactory(cost=5, stock=50) for _index in range(8)]
    client.get("/en/me/points/")
    services.redeem(resident=member, reward=rewards[0])
    for _warm in range(2):  # the shared parts and the session settle in two requests
        client.get("/en/me/points/")
    with django_assert_num_queries(8):
        client.get("/en/me/points/")
    for reward in rewards[1:]:
        services.redeem(resident=member, reward=reward)
    for _warm in range(2):
        client.get("/en/me/points/")
    with django_assert_num_queries(8):
        response = client.get("/en/me/points/")
    assert len(response.context["reservations"]) == 8


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(1)", "\tx", "\rx"])
def test_statement_csv_defuses_spreadsheet_formulas(client, member, name):
    import csv
    import io

    from points.factories import EarningRuleFactory

    rule = EarningRuleFactory(name=name)
    services.award(resident=member, rule_code=rule.code, source_key="f", amount=5)
    rows = list(csv.reader(io.StringIO(client.get("/zh-hans/me/points/statement.csv").content.decode("utf-8-sig"), newline="")))
    assert rows[1][4] == "'" + name and rows[1][2] == "5"


@pytest.mark.parametrize(
    ("language", "rewards", "classes"),
    [("zh-hans", "看看可兑换的奖品", "浏览课程活动"), ("en", "See the rewards", "Browse classes and activities")],
)
def test_empty_points_pages_say_what_to_do_next(client, language, rewards, classes):
    client.force_login(resident())
    overview = client.get(f"/{language}/me/points/").content.decode()
    assert f'<a href="/{language}/me/points/rewards/">{rewards}</a>' in overview
    assert f'<a href="/{language}/classes/">{classes}</a>' in overview
    assert f'href="/{language}/classes/"' in client.get(f"/{language}/me/points/statement/").content.decode()


@pytest.mark.parametrize(
    ("language", "question"), [("zh-hans", "用 25 积分兑换毛巾？"), ("en", "Exchange 25 points for 毛巾 (no English yet)?")]
)
def test_exchanging_asks_first_with_the_points_it_spends(client, member, language, question):
    RewardFactory(name="毛巾", cost=25)
    html = client.get(f"/{language}/me/points/rewards/").content.decode()
    assert '<details class="confirm">' in html and question in html


def test_a_reward_at_its_monthly_limit_says_why_instead_of_offering_it(client, member):
    towel = RewardFactory(name="毛巾", cost=10, monthly_limit=1)
    services.redeem(resident=member, reward=towel)
    html = client.get("/zh-hans/me/points/rewards/").content.decode()
    assert "本月您已兑换 1 次，已达每月上限，下个月可再兑换。" in html
    assert f"/me/points/rewards/{towel.pk}/redeem/" not in html
    english = client.get("/en/me/points/rewards/").content.decode()
    assert "You have exchanged this once this month, the most allowed: you can again next month." in english


def test_statement_lines_name_the_activity_its_day_and_the_rule(client, member, django_assert_num_queries):
    from events import factories as event_factories
    from events.models import Booking
    from events.services import attendance_source_key

    session = event_factories.SessionFactory(activity=event_factories.activity(title="太极拳", slug="taiji"))
    booking = Booking.objects.create(
        session=session, resident=member, participant_key=f"u{member.pk}", participant_name="王阿姨", status="attended"
    )
    services.award(resident=member, rule_code="attendance", source_key=attendance_source_key(booking), amount=10)
    day = f"{timezone.localtime(session.starts_at):%Y-%m-%d}"
    html = client.get("/zh-hans/me/points/statement/").content.decode()
    assert f"参加活动：太极拳，{day}" in html
    assert 'data-label="积分"' in html  # the cells carry their labels for the narrow-screen cards
    assert "志愿服务时长：2 小时" in client.get("/zh-hans/me/points/").content.decode()


def test_the_pick_up_qr_code_opens_the_hand_over_form_at_the_portal_s_public_address(settings):
    from django.urls import reverse

    from plumbing.qr import qr_data_uri
    from points.views import pickup_qr

    settings.PORTAL_BASE_URL = "https://linli.example.cn:8443"
    url = "https://linli.example.cn:8443" + reverse("points_admin:hand_over") + "?code=ABC123"

    assert pickup_qr("ABC123") == qr_data_uri(url)


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [
        (
            "en",
            ["<strong>1</strong> point", "Balance: 1 point.", "You have 1 point.", "Exchange 1 point for 毛巾 (no English yet)?"],
            "25 points",
        ),
        ("zh-hans", ["<strong>1</strong> 积分", "余额：1 积分。", "您现有 1 积分。", "用 1 积分兑换毛巾？"], "25 积分"),
    ],
)
def test_point_counts_read_in_the_singular_and_the_plural(client, language, one, many):
    user = resident(display_name="李阿姨", community=CommunityFactory())
    services.award(resident=user, rule_code="attendance", source_key="v:one", amount=1)
    client.force_login(user)
    RewardFactory(name="毛巾", cost=1)
    RewardFactory(name="电饭煲", cost=25)
    pages = "".join(client.get(f"/{language}/me/points/{path}").content.decode() for path in ("", "statement/", "rewards/"))
    for text in one:
        assert text in pages
    assert many in pages
    if language == "en":
        assert "1 points" not in pages and "25 point<" not in pages


@pytest.mark.parametrize(
    ("points", "english", "chinese"),
    [
        (1, "your 1 point comes back.", "1 积分将退回您的账户。"),
        (25, "your 25 points come back.", "25 积分将退回您的账户。"),
    ],
)
def test_point_counts_in_mail_read_in_the_singular_and_the_plural(points, english, chinese):
    from django.template.loader import render_to_string
    from django.utils import translation

    context = {"name": "李阿姨", "reward": "毛巾", "code": "1234", "collect_by": timezone.now(), "points": points, "url": "x"}
    with translation.override("en"):
        assert english in render_to_string("points/mail/reward_reserved.txt", context)
        expired = render_to_string("points/mail/reservation_expired.txt", context)
        warning = render_to_string("points/mail/expiry_warning.txt", {**context, "date": timezone.localdate()})
    assert (f"your {points} point is back" if points == 1 else f"your {points} points are back") in expired
    assert (f"{points} of your points expires on" if points == 1 else f"{points} of your points expire on") in warning
    with translation.override("zh-hans"):
        assert chinese in render_to_string("points/mail/reward_reserved.txt", context)
        assert f"{points} 积分已退回您的账户" in render_to_string("points/mail/reservation_expired.txt", context)
