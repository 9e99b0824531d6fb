"""A grid's page (`/grids/<id>/`), its contacts and notices, the sections apps add to it; joining a grid by its QR
code (sign-up, log-in, moving) and the staff's QR posters and code rotation."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone
from wagtail import hooks
from wagtail.models import ModelLogEntry, Page

from conftest import fresh_copies, on_the_site_with
from home import factories, services
from home.factories import GridFactory, ResidentProfileFactory, UserFactory
from home.grids import PENDING_JOIN
from home.models import Grid, GridContact, GridJoinCode, NoticeIndexPage, ResidentProfile
from home.scope import NotStaff
from home.sections import GRID_SECTIONS, GridSection
from home.tests.test_accounts import PASSWORD, log_in, sign_up
from outbox.models import Message

pytestmark = pytest.mark.django_db

PLACES = on_the_site_with("_grid_places")


@pytest.fixture(scope="session")
def _grid_places(shared_site, django_db_blocker):
    """Two communities, three grids with contacts and notices, made once for this module's tests."""
    yield make_places() if PLACES.open(django_db_blocker) else None
    PLACES.close()


@pytest.fixture
def places(_grid_places, site_pages):
    return fresh_copies(_grid_places) if PLACES.running else make_places()


def make_places() -> dict:
    liuhe = services.create_community(name="六和社区", code="liuhe", name_en="Liuhe Community")
    jiangnan = services.create_community(name="江南社区", code="jiangnan", name_en="Jiangnan Community")
    services.share_section_with_translations(community=liuhe)
    one = GridFactory(community=liuhe, number=1, name="第1网格 · 六和苑", name_en="Grid 1 · Liuhe Garden")
    two = GridFactory(community=liuhe, number=2, name="第2网格 · 桂花里", name_en="Grid 2 · Osmanthus Lane")
    river = GridFactory(community=jiangnan, number=1, name="第1网格 · 江南春晓", name_en="Grid 1 · Jiangnan Spring")
    GridContact.objects.create(grid=one, role="worker", name="蒋文静", phone="138-0000-1101", hours="工作日", hours_en="Weekdays")
    GridContact.objects.create(
        grid=one, role="building_leader", building="2幢", building_en="Building 2", name="邵阿姨", phone="138-0000-1111"
    )
    GridContact.objects.create(grid=two, role="worker", name="施晓峰", phone="138-0000-1201")
    GridContact.objects.create(grid=river, role="worker", name="方雨桐", phone="138-0000-2101")
    liuhe_notices = NoticeIndexPage.objects.child_of(Page.objects.get(pk=liuhe.root_page_id)).get()
    factories.notice(liuhe_notices, title="六和社区停水通知", slug="water", community=liuhe)
    factories.notice(liuhe_notices, title="六和苑电梯检修", slug="lift", community=liuhe, grid=one)
    factories.notice(liuhe_notices, title="桂花里楼道清理", slug="stairs", community=liuhe, grid=two)
    factories.notice(
        liuhe_notices,
        title="过期的通知",
        slug="old",
        community=liuhe,
        grid=one,
        expires_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    factories.notice(title="全街道防汛通知", slug="flood")  # the street's: not on a grid's page
    return {
        "liuhe": liuhe,
        "jiangnan": jiangnan,
        "one": one,
        "two": two,
        "river": river,
        "resident": ResidentProfileFactory(community=liuhe, grid=one, display_name="王秀英").user,
        "neighbour": ResidentProfileFactory(community=liuhe, grid=two, display_name="李建国").user,
        "staff": staff_of(liuhe),
        "other_staff": staff_of(jiangnan),
    }


def staff_of(community):
    user = UserFactory()
    user.groups.add(community.editors)
    return user


def grid_url(grid, language="zh-hans") -> str:
    return f"/{language}/grids/{grid.pk}/"


def join_url(code, language="zh-hans") -> str:
    return f"/{language}/grids/join/{code.token}/"


def entries(grid, action):
    content_type = ContentType.objects.get_for_model(Grid)
    return ModelLogEntry.objects.filter(content_type=content_type, object_id=str(grid.pk), action=action)


@pytest.fixture
def no_sections(monkeypatch):
    """The grid page with no app's section (the neighbour-help app registers some): home's own queries only."""
    hooks.search_for_hooks()
    monkeypatch.setitem(hooks._hooks, GRID_SECTIONS, [])


# --- The grid page --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("zh-hans", ["第1网格 · 六和苑", "六和社区", "网格员", "楼栋长", "2幢", "工作日"]),
        ("en", ["Grid 1 · Liuhe Garden", "Liuhe Community", "Grid worker", "Building leader", "Building 2", "Weekdays"]),
    ],
)
def test_a_resident_of_the_grid_sees_who_looks_after_it_and_how_to_reach_them(client, places, language, texts):
    client.force_login(places["resident"])

    response = client.get(grid_url(places["one"], language))

    assert response.status_code == 200
    html = response.content.decode()
    for text in texts:
        assert text in html
    assert "蒋文静" in html and 'href="tel:13800001101"' in html and "邵阿姨" in html
    assert "施晓峰" not in html  # the other grid's worker
    assert response["Cache-Control"].startswith("private")


def test_the_grid_page_lists_this_grids_notices_first_then_its_communitys(client, places):
    client.force_login(places["resident"])

    notices = client.get(grid_url(places["one"])).context["notices"]

    assert [notice.title for notice in notices] == [
        "六和苑电梯检修",
        "六和社区停水通知",
    ]  # not another grid's, expired or street's


def test_staff_of_the_grids_community_see_its_page(client, places):
    client.force_login(places["staff"])
    assert client.get(grid_url(places["one"])).status_code == 200
    assert client.get(grid_url(places["two"], "en")).status_code == 200


@pytest.mark.parametrize("who", ["neighbour", "other_staff", "no_grid"])
def test_anybody_else_finds_no_such_grid(client, places, who):
    user = ResidentProfileFactory(community=places["liuhe"]).user if who == "no_grid" else places[who]
    client.force_login(user)

    for language in ("zh-hans", "en"):
        response = client.get(grid_url(places["one"], language))
        assert response.status_code == 404
        assert "蒋文静" not in response.content.decode()
    assert client.get(f"/zh-hans/grids/{places['river'].pk + 1000}/").status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, places):
    response = client.get(grid_url(places["one"]))
    assert response.status_code == 302
    assert response["Location"].startswith(f"/zh-hans/accounts/login/?next=/zh-hans/grids/{places['one'].pk}/")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_grid_page_costs_the_same_queries_however_many_contacts_and_notices(
    client, places, django_assert_num_queries, no_sections, language
):
    client.force_login(places["resident"])
    url = grid_url(places["one"], language)
    client.get(url)  # the session's and site's first reads out of the way
    # Session, user, the grid with its community, the profile, contacts, the locale, notices (with their
    # communities), the base template's permissions (2), portal settings and footer pages; the Chinese notices'
    # links read the site's root paths once (the English page has no English notices to link).
    expected = 12 if language == "zh-hans" else 11
    with django_assert_num_queries(expected):
        assert client.get(url).status_code == 200
    for number in range(5):
        GridContact.objects.create(grid=places["one"], role="building_leader", building=f"{number}幢", name=f"楼栋长{number}")
    index = NoticeIndexPage.objects.child_of(Page.objects.get(pk=places["liuhe"].root_page_id)).get()
    for number in range(3):
        factories.notice(index, title=f"网格通知{number}", slug=f"grid-{number}", community=places["liuhe"], grid=places["one"])
    with django_assert_num_queries(expected):
        assert client.get(url).status_code == 200


def test_apps_add_sections_through_the_hook_with_the_grid_and_the_viewer(client, places):
    seen = []

    def context(grid, viewer):
        seen.append((grid.pk, viewer.pk))
        return {"label": "插件的按钮", "question": f"来自插件：{grid.name}", "yes": "好"}

    def section() -> GridSection:  # any template does: this one shows its "question"
        return GridSection(template="includes/confirm.html", context=context)

    def empty() -> GridSection:
        return GridSection(template="home/tests/does_not_exist.html", context=lambda grid, viewer: {})

    client.force_login(places["resident"])
    with hooks.register_temporarily(GRID_SECTIONS, section), hooks.register_temporarily(GRID_SECTIONS, empty):
        html = client.get(grid_url(places["one"])).content.decode()

    assert '<p class="confirm-question" role="alert">来自插件：第1网格 · 六和苑</p>' in html
    assert seen == [(places["one"].pk, places["resident"].pk)]


def test_my_page_links_to_my_grid_when_i_have_one(client, places):
    client.force_login(places["resident"])
    assert f'href="/en/grids/{places["one"].pk}/"' in client.get("/en/me/").content.decode()
    client.force_login(ResidentProfileFactory().user)
    assert "/grids/" not in client.get("/en/me/").content.decode()


def test_a_notice_for_a_grid_is_for_that_grids_community(places):
    index = NoticeIndexPage.objects.child_of(Page.objects.get(pk=places["liuhe"].root_page_id)).get()
    notice = factories.notice(index, title="通知", slug="n", grid=places["one"], publish=False)
    notice.full_clean()
    assert notice.community_id == places["liuhe"].pk  # filled in from the grid
    notice.grid = places["river"]
    with pytest.raises(ValidationError, match="not in the community"):
        notice.full_clean()


# --- Joining by the QR code -------------------------------------------------------------------------------------


def test_a_visitor_who_scans_sees_the_grid_and_can_sign_up_or_log_in(client, places):
    code = services.current_join_code(grid=places["one"])

    for language, texts in (("zh-hans", ["第1网格 · 六和苑", "六和社区"]), ("en", ["Grid 1 · Liuhe Garden", "Liuhe Community"])):
        response = client.get(join_url(code, language))
        assert response.status_code == 200
        html = response.content.decode()
        assert all(text in html for text in texts)
        assert f'href="/{language}/accounts/signup/?next=%2F{language}%2Fgrids%2Fjoin%2F{code.token}%2F"' in html
        assert f'href="/{language}/accounts/login/?next=%2F{language}%2Fgrids%2Fjoin%2F{code.token}%2F"' in html
    assert client.session[PENDING_JOIN] == code.token
    assert "蒋文静" not in html  # contacts are for residents of the grid


def test_signing_up_after_the_scan_puts_the_new_resident_in_the_grid(client, places):
    code = services.current_join_code(grid=places["one"])
    client.get(join_url(code))

    form = client.get("/zh-hans/accounts/signup/")
    assert "您正在注册为六和社区第1网格 · 六和苑的居民。" in form.content.decode()
    assert 'name="privacy_consent"' in form.content.decode()
    response = sign_up(client, email="new.neighbour@example.com")

    assert response.status_code == 302
    profile = ResidentProfile.objects.get(user__email="new.neighbour@example.com")
    assert (profile.community_id, profile.grid_id) == (places["liuhe"].pk, places["one"].pk)
    assert profile.privacy_consented_at is not None
    assert PENDING_JOIN not in client.session
    assert entries(places["one"], "home.grid.join").get().user_id == profile.user_id


def test_signing_up_with_a_mobile_number_after_the_scan_too(client, places):
    code = services.current_join_code(grid=places["two"])
    client.get(join_url(code, "en"))

    data = {"phone": "13800009999", "password1": PASSWORD, "password2": PASSWORD, "privacy_consent": "on"}
    response = client.post(f"/en/accounts/signup/?next=/en/grids/join/{code.token}/", data)
    assert response.status_code == 302 and response["Location"].endswith("/accounts/phone/verify/")
    sms = Message.objects.filter(address="13800009999").latest("pk")
    verified = client.post("/en/accounts/phone/verify/", {"code": sms.template_params["code"]})

    profile = ResidentProfile.objects.get(mobile="13800009999")
    assert profile.mobile_verified and profile.grid_id == places["two"].pk and profile.community_id == places["liuhe"].pk
    assert verified["Location"] == f"/en/grids/join/{code.token}/"
    assert "You are already a resident of this grid" in client.get(verified["Location"]).content.decode()


def test_the_consent_box_stays_when_signing_up_through_a_code(client, places):
    client.get(join_url(services.current_join_code(grid=places["one"])))
    response = sign_up(client, email="no.consent@example.com", consent=False)
    assert response.status_code == 200 and response.context["form"].errors["privacy_consent"]
    assert not ResidentProfile.objects.filter(user__email="no.consent@example.com").exists()


def test_a_resident_who_scans_another_grids_code_is_asked_and_moves_only_after_confirming(client, places):
    code = services.current_join_code(grid=places["two"])
    resident = places["resident"]
    client.force_login(resident)

    question = client.get(join_url(code, "en")).content.decode()
    assert "Move to this grid?" in question and "Grid 1 · Liuhe Garden" in question and "Grid 2 · Osmanthus Lane" in question
    assert ResidentProfile.objects.get(user=resident).grid_id == places["one"].pk  # a GET changes nothing

    response = client.post(join_url(code, "en"))

    assert response.status_code == 302 and response["Location"] == grid_url(places["two"], "en")
    assert ResidentProfile.objects.get(user=resident).grid_id == places["two"].pk
    entry = entries(places["two"], "home.grid.join").get()
    assert entry.user_id == resident.pk and entry.data == {"previous_grid": places["one"].pk}
    assert client.get(grid_url(places["two"], "en")).status_code == 200
    assert client.get(grid_url(places["one"], "en")).status_code == 404


def test_a_resident_of_another_community_moves_with_the_community(client, places):
    code = services.current_join_code(grid=places["river"])
    client.force_login(places["neighbour"])
    client.post(join_url(code))
    profile = ResidentProfile.objects.get(user=places["neighbour"])
    assert (profile.community_id, profile.grid_id) == (places["jiangnan"].pk, places["river"].pk)


def test_logging_in_after_the_scan_comes_back_to_the_question(client, places):
    code = services.current_join_code(grid=places["two"])
    resident = places["resident"]
    resident.set_password(PASSWORD)
    resident.save()
    client.get(join_url(code))

    response = log_in(client, email=resident.email, next_url=join_url(code))

    assert response.status_code == 302 and response["Location"] == join_url(code)
    assert "迁入这个网格吗？" in client.get(response["Location"]).content.decode()


def test_a_resident_already_in_the_grid_is_told_so(client, places):
    client.force_login(places["resident"])
    response = client.get(join_url(services.current_join_code(grid=places["one"]), "en"))
    assert response.status_code == 200 and "You are already a resident of this grid" in response.content.decode()
    assert not entries(places["one"], "home.grid.join").exists()


def test_a_replaced_code_says_so_and_the_new_one_works(client, places):
    old = services.current_join_code(grid=places["one"])
    new = services.rotate_join_code(grid=places["one"], actor=places["staff"])

    for language, text in (("zh-hans", "向您的网格员"), ("en", "Ask your grid worker for the new one")):
        response = client.get(join_url(old, language))
        assert response.status_code == 410 and text in response.content.decode()
    client.force_login(places["neighbour"])
    assert client.post(join_url(old)).status_code == 410
    assert ResidentProfile.objects.get(user=places["neighbour"]).grid_id == places["two"].pk
    assert client.post(join_url(new)).status_code == 302
    assert ResidentProfile.objects.get(user=places["neighbour"]).grid_id == places["one"].pk


def test_a_code_replaced_between_the_scan_and_the_sign_up_joins_nothing(client, places):
    code = services.current_join_code(grid=places["one"])
    client.get(join_url(code))
    services.rotate_join_code(grid=places["one"], actor=places["staff"])

    sign_up(client, email="late@example.com")

    profile = ResidentProfile.objects.get(user__email="late@example.com")
    assert profile.grid_id is None and profile.community_id is None


@pytest.mark.parametrize("token", ["abc", "x" * 5000, "王秀英☃", "a" * 24, "'%22<", "-1", str(10**23)])
def test_malformed_or_unknown_codes_get_a_clear_404(client, places, token):
    for language, text in (("zh-hans", "不是任何网格的二维码"), ("en", "This is not the QR code of any grid")):
        response = client.get(f"/{language}/grids/join/{token}/")
        assert response.status_code == 404 and text in response.content.decode()
    assert client.get("/zh-hans/grids/join/a%00b/").status_code == 400


# --- Posters and rotation (the admin) ---------------------------------------------------------------------------


def test_staff_print_an_a4_poster_with_both_names_and_the_qr_code(client, places, settings):
    settings.PORTAL_BASE_URL = "https://linli.example"
    client.force_login(places["staff"])

    response = client.get(f"/admin/grids/{places['one'].pk}/poster.svg")

    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    svg = response.content.decode()
    root = ET.fromstring(response.content)  # a well-formed SVG document
    assert root.get("width") == "210mm" and root.get("height") == "297mm"
    for text in ("第1网格 · 六和苑", "Grid 1 · Liuhe Garden", "六和社区", "Liuhe Community", "扫码", "Scan"):
        assert text in svg
    code = GridJoinCode.objects.get(grid=places["one"], retired_at__isnull=True)
    assert f"https://linli.example/zh-hans/grids/join/{code.token}/" in svg
    assert root.findall(".//{http://www.w3.org/2000/svg}path")  # the QR code's modules

    page = client.get(f"/admin/grids/{places['one'].pk}/poster/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "@page { size: A4; margin: 0; }" in html and f"/zh-hans/grids/join/{code.token}/" in html and "<path" in html


def test_the_grid_list_shows_staff_their_grids_with_poster_and_rotation(client, places):
    client.force_login(places["staff"])
    html = client.get("/admin/grids/").content.decode()
    assert "第1网格 · 六和苑" in html and "第2网格 · 桂花里" in html and "江南春晓" not in html
    assert f"/admin/grids/{places['one'].pk}/poster/" in html and "用当前二维码打印的所有海报都将失效" in html


def test_rotating_a_code_is_asked_posted_and_audited(client, places):
    old = services.current_join_code(grid=places["one"])
    client.force_login(places["staff"])

    assert client.get(f"/admin/grids/{places['one'].pk}/rotate/").status_code == 405
    response = client.post(f"/admin/grids/{places['one'].pk}/rotate/")

    assert response.status_code == 302
    old.refresh_from_db()
    assert old.retired_at is not None
    new = GridJoinCode.objects.get(grid=places["one"], retired_at__isnull=True)
    assert new.token != old.token and len(new.token) >= 24
    assert entries(places["one"], "home.grid.rotate_code").get().user_id == places["staff"].pk


def test_staff_of_another_community_cannot_print_or_rotate(client, places):
    old = services.current_join_code(grid=places["one"])
    client.force_login(places["other_staff"])

    assert client.get(f"/admin/grids/{places['one'].pk}/poster.svg").status_code == 404
    assert client.get(f"/admin/grids/{places['one'].pk}/poster/", follow=True).status_code == 404
    # An admin 404 is redirected by LocaleMiddleware to the language-prefixed path, which is a 404 too.
    assert client.post(f"/admin/grids/{places['one'].pk}/rotate/", follow=True).status_code == 404
    assert GridJoinCode.objects.get(grid=places["one"], retired_at__isnull=True) == old
    with pytest.raises(NotStaff):
        services.rotate_join_code(grid=places["one"], actor=places["other_staff"])
    assert not entries(places["one"], "home.grid.rotate_code").exists()


def test_residents_have_no_grid_admin(client, places):
    client.force_login(places["resident"])
    assert client.get(f"/admin/grids/{places['one'].pk}/poster.svg").status_code in (302, 403)
    assert client.post(f"/admin/grids/{places['one'].pk}/rotate/").status_code in (302, 403)


# --- Contacts in the admin ----------------------------------------------------------------------------------------


def test_staff_list_and_edit_only_their_communitys_contacts(client, places):
    client.force_login(places["staff"])
    listing = client.get("/admin/grid_contacts/").content.decode()
    assert "蒋文静" in listing and "施晓峰" in listing and "方雨桐" not in listing

    mine = GridContact.objects.get(name="蒋文静")
    assert client.get(f"/admin/grid_contacts/edit/{mine.pk}/").status_code == 200
    assert client.get(f"/admin/grid_contacts/history/{mine.pk}/").status_code == 200
    theirs = GridContact.objects.get(name="方雨桐")
    assert client.get(f"/admin/grid_contacts/edit/{theirs.pk}/", follow=True).status_code == 404
    assert client.post(f"/admin/grid_contacts/delete/{theirs.pk}/", follow=True).status_code == 404
    assert client.get(f"/admin/grid_contacts/history/{theirs.pk}/", follow=True).status_code == 404
    assert GridContact.objects.filter(pk=theirs.pk).exists()

    form = client.get("/admin/grid_contacts/new/").context["form"]
    assert set(form.fields["grid"].queryset) == {places["one"], places["two"]}
    data = {"grid": places["river"].pk, "role": "worker", "name": "冒名者", "phone": "138-0000-9999", "order": 0}
    assert client.post("/admin/grid_contacts/new/", data).status_code == 200  # not one of their grids: a form error
    for malformed in ("abc", "²", str(10**23)):
        mine_data = {**data, "grid": malformed}
        assert client.post(f"/admin/grid_contacts/edit/{mine.pk}/", mine_data).status_code == 200  # a form error
    data["grid"] = places["two"].pk
    assert client.post("/admin/grid_contacts/new/", data).status_code == 302
    assert GridContact.objects.filter(name="冒名者", grid=places["two"]).exists()


def test_a_contacts_phone_must_look_like_a_number(places):
    contact = GridContact(grid=places["one"], role="worker", name="某人", phone="call me")
    with pytest.raises(ValidationError):
        contact.full_clean()
    contact.phone = "0571-8819 6000 转 12"
    contact.full_clean()


def test_a_building_leader_who_erases_their_account_leaves_the_grid_page(places):
    leader = ResidentProfileFactory(community=places["liuhe"], grid=places["one"]).user
    GridContact.objects.create(grid=places["one"], role="building_leader", name="热心人", phone="138-0000-7777", user=leader)

    assert services.export_personal_data(user=leader)["grid_contact_listings"][0]["name"] == "热心人"
    services.erase_account(user=leader, actor=leader)

    assert not GridContact.objects.filter(name="热心人").exists()


# --- The services' rules ------------------------------------------------------------------------------------------


def test_a_grid_has_one_current_code_made_on_first_use(places):
    first = services.current_join_code(grid=places["one"])
    assert services.current_join_code(grid=places["one"]) == first
    assert services.current_join_code(grid=places["two"]).token != first.token


def test_joining_by_a_replaced_code_is_refused_and_changes_nothing(places):
    old = services.current_join_code(grid=places["two"])
    services.rotate_join_code(grid=places["two"], actor=places["staff"])
    old.refresh_from_db()
    profile = ResidentProfile.objects.get(user=places["resident"])

    with pytest.raises(services.GridJoinError, match="已更换"):
        services.join_grid(profile=profile, code=old, actor=places["resident"])

    assert ResidentProfile.objects.get(pk=profile.pk).grid_id == places["one"].pk
    assert not entries(places["two"], "home.grid.join").exists()


def test_joining_ones_own_grid_changes_and_records_nothing(places):
    profile = ResidentProfile.objects.get(user=places["resident"])
    services.join_grid(profile=profile, code=services.current_join_code(grid=places["one"]), actor=places["resident"])
    assert not entries(places["one"], "home.grid.join").exists()


def in_threads(calls) -> list:
    """Run the calls at once, each on its own connection; what each returned (or raised)."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001  (reported to the test)
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_first_codes_and_rotations_at_once_leave_one_current_code(postgres_only, site_pages):
    """On PostgreSQL with real threads: posters printed at once share the grid's first code; rotations at once
    each retire the code before them (the grid's row lock), and the grid ends with one current code."""
    community = services.create_community(name="六和社区", code="liuhe")
    grid = GridFactory(community=community)
    staff = [staff_of(community) for _ in range(6)]

    made = in_threads([lambda: services.current_join_code(grid=grid) for _ in range(8)])
    assert len({code.token for code in made}) == 1

    rotated = in_threads([lambda user=user: services.rotate_join_code(grid=grid, actor=user) for user in staff])
    assert all(isinstance(code, GridJoinCode) for code in rotated), rotated
    assert GridJoinCode.objects.filter(grid=grid).count() == 7
    assert GridJoinCode.objects.filter(grid=grid, retired_at__isnull=True).count() == 1
    assert entries(grid, "home.grid.rotate_code").count() == 6
