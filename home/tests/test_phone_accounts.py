"""Accounts by mobile number: sign-up, login and password reset by SMS code through allauth's real views,
the limits on texts, adding and changing the number on the resident's page, and who counts as verified.

Codes are read from the SMS the outbox queued (Message rows: the code is a template parameter).
"""

from __future__ import annotations

import time
import types

import pytest
from allauth.account.internal.flows import code_verification
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.test import Client, override_settings

from home import factories, phone, services
from home.adapters import AccountAdapter
from home.models import ResidentProfile
from outbox.models import Message

pytestmark = pytest.mark.django_db

PASSWORD = "lantern-osmanthus-47"
NUMBER = "13812345678"
User = get_user_model()


def codes_to(number: str) -> list[str]:
    return [
        m.template_params["code"]
        for m in Message.objects.filter(kind=phone.CODE_KIND, address=number, channel=Message.Channel.SMS).order_by("pk")
    ]


def last_code(number: str) -> str:
    codes = codes_to(number)
    assert codes, f"no code was texted to {number}"
    return codes[-1]


def sign_up(client, *, number=NUMBER, language="zh-hans", **extra):
    data = {"phone": number, "password1": PASSWORD, "password2": PASSWORD, "privacy_consent": "on", **extra}
    return client.post(f"/{language}/accounts/signup/", data)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def resident_with_number(number: str = NUMBER, **kwargs) -> ResidentProfile:
    profile = factories.ResidentProfileFactory(**kwargs)
    profile.mobile, profile.mobile_verified = number, True
    profile.save()
    profile.user.set_password(PASSWORD)
    profile.user.save()
    return profile


def skip_the_minute(monkeypatch, seconds: float = 61) -> None:
    """The rate limiter's clock (allauth's sliding windows) moves on; nothing else does."""
    from allauth.core.internal import ratelimit

    real_time = time.time
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: real_time() + seconds, monotonic=time.monotonic))


# --- Numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138-1234-5678",
        "+8613812345678",
        "0086 138 1234 5678",
        "１３８１２３４５６７８",
        "(+86) 138 1234 5678",
    ],
)
def test_numbers_are_stored_in_their_eleven_digits_however_written(typed):
    assert phone.normalise_mobile(typed) == NUMBER


@pytest.mark.parametrize(
    "typed", ["", "12345678901", "1381234567", "138123456789", "0571-87654321", "+1 650 253 0000", "phone", "1" * 60]
)
def test_what_is_not_a_mainland_mobile_number_is_refused(typed):
    assert phone.mobile_or_none(typed) is None


def test_a_verified_number_belongs_to_one_account_in_the_database(site_pages):
    resident_with_number()
    other = factories.ResidentProfileFactory()
    other.mobile, other.mobile_verified = NUMBER, True
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save()
    # Typed but unproven numbers may repeat (staff typed them; nobody logs in with them).
    other.mobile_verified = False
    other.save()


# --- Sign-up ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_sign_up_with_a_number_and_the_code_texted_to_it(client, site_pages, language):
    response = sign_up(client, number="+86 138-1234-5678", language=language)

    assert response.status_code == 302 and response["Location"].endswith("/accounts/phone/verify/")
    (message,) = Message.objects.filter(kind=phone.CODE_KIND)
    assert message.address == NUMBER and message.channel == Message.Channel.SMS and message.language == language
    code = message.template_params["code"]
    assert len(code) == 6 and code.isdigit() and code in message.body
    assert ("验证码" in message.body) is (language == "zh-hans")
    page = client.get(f"/{language}/accounts/phone/verify/")
    assert page.status_code == 200 and NUMBER in page.content.decode()
    assert not logged_in(client)

    response = client.post(f"/{language}/accounts/phone/verify/", {"code": code})

    assert response.status_code == 302 and logged_in(client)
    profile = ResidentProfile.objects.get(mobile=NUMBER)
    assert profile.mobile_verified and profile.privacy_consented_at and profile.preferred_language == language
    assert services.is_verified_resident(profile.user) and not profile.user.email


def test_the_console_backend_prints_the_code_for_a_tester(client, site_pages, settings, capsys):
    from outbox.services import deliver_due

    settings.LINLI_SMS_BACKEND = "console"
    sign_up(client)
    deliver_due()

    assert last_code(NUMBER) in capsys.readouterr().out


def test_sign_up_needs_a_number_or_an_e_mail(client, site_pages):
    response = client.post("/zh-hans/accounts/signup/", {"password1": PASSWORD, "password2": PASSWORD, "privacy_consent": "on"})

    assert response.status_code == 200 and response.context["form"].errors["phone"]
    assert not User.objects.exists()


def test_a_taken_number_is_refused_with_a_clear_error_and_no_text(client, site_pages):
    resident_with_number()

    english = sign_up(client, number="138 1234 5678", language="en")
    chinese = sign_up(client, number="138 1234 5678")

    assert "This mobile number already belongs to an account" in english.content.decode()
    assert "此手机号已注册" in chinese.content.decode()
    assert User.objects.count() == 1 and not Message.objects.exists()


def test_a_bad_number_is_a_form_error(client, site_pages):
    response = sign_up(client, number="12345", language="en")

    assert response.status_code == 200
    assert "Enter a mainland mobile number of 11 digits" in response.content.decode()
    assert not User.objects.exists()


def test_five_wrong_codes_and_the_code_is_dead(client, site_pages):
    sign_up(client)
    code = last_code(NUMBER)
    wrong = "000000" if code != "000000" else "111111"

    for attempt in range(4):
        response = client.post("/zh-hans/accounts/phone/verify/", {"code": wrong})
        assert response.status_code == 200, attempt
    response = client.post("/zh-hans/accounts/phone/verify/", {"code": wrong})
    assert response.status_code == 302  # the fifth: back to the start
    client.post("/zh-hans/accounts/phone/verify/", {"code": code})

    assert not logged_in(client)
    assert not ResidentProfile.objects.get(mobile=NUMBER).mobile_verified


@pytest.mark.parametrize(("minutes", "works"), [(9, True), (11, False)])
def test_the_code_lives_ten_minutes(client, site_pages, monkeypatch, minutes, works):
    sign_up(client)
    code = last_code(NUMBER)
    real_time = time.time
    monkeypatch.setattr(code_verification, "time", types.SimpleNamespace(time=lambda: real_time() + minutes * 60))

    client.post("/zh-hans/accounts/phone/verify/", {"code": code})

    assert logged_in(client) is works
    assert ResidentProfile.objects.get(mobile=NUMBER).mobile_verified is works


def test_a_new_code_within_the_minute_is_refused_and_after_it_sent(client, site_pages, monkeypatch):
    sign_up(client, language="en")

    response = client.post("/en/accounts/phone/verify/", {"action": "resend"}, follow=True)
    assert "less than a minute ago" in response.content.decode()
    assert len(codes_to(NUMBER)) == 1

    skip_the_minute(monkeypatch)
    client.post("/en/accounts/phone/verify/", {"action": "resend"})
    first, second = codes_to(NUMBER)
    client.post("/en/accounts/phone/verify/", {"code": second})
    assert logged_in(client)


# --- Limits -------------------------------------------------------------------------------------


def test_per_number_limits_five_an_hour_and_ten_a_day(client, site_pages, monkeypatch):
    from allauth.core.internal import ratelimit

    resident_with_number()
    real_time = time.time
    clock = [0.0]
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: real_time() + clock[0], monotonic=time.monotonic))

    def ask():  # each from a fresh browser: one with a code pending is shown its code page instead
        return Client().post("/en/accounts/login/code/", {"phone": NUMBER})

    for _ in range(5):
        assert ask().status_code == 302
        clock[0] += 61
    refused = ask()
    assert refused.status_code == 200 and "in the last hour" in refused.content.decode()
    clock[0] += 3600
    for _ in range(5):
        assert ask().status_code == 302
        clock[0] += 61
    clock[0] += 3600
    refused = ask()
    assert "today" in refused.content.decode()
    assert len(codes_to(NUMBER)) == 10


def test_per_address_limit(client, site_pages, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "sms_code_address": "3/h/ip"}
    numbers = ["13800000001", "13800000002", "13800000003", "13800000004"]
    for number in numbers:
        resident_with_number(number)

    answers = [Client().post("/zh-hans/accounts/login/code/", {"phone": number}, REMOTE_ADDR="10.0.0.7") for number in numbers]
    elsewhere = Client().post("/zh-hans/accounts/login/code/", {"phone": numbers[3]}, REMOTE_ADDR="10.0.0.8")

    assert [a.status_code for a in answers] == [302, 302, 302, 200]
    assert "您所在网络请求的验证码过多" in answers[3].content.decode()
    assert elsewhere.status_code == 302
    assert Message.objects.filter(kind=phone.CODE_KIND).count() == 4


def test_site_wide_limit_per_hour(client, site_pages, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "sms_code_site": "2/h/key"}

    first = sign_up(client, number="13800000001", language="en")
    client.logout()
    second = sign_up(client, number="13800000002", language="en")
    client.logout()
    third = sign_up(client, number="13800000003", language="en")

    assert first.status_code == second.status_code == 302
    assert third.status_code == 200 and "too many text messages in the last hour" in third.content.decode()
    assert Message.objects.filter(kind=phone.CODE_KIND).count() == 2


@pytest.mark.one_database  # a fresh interpreter and no test database, as test_production_settings.py's
def test_the_site_wide_limit_comes_from_the_environment():
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.ACCOUNT_RATE_LIMITS['sms_code_site'], settings.ACCOUNT_RATE_LIMITS['sms_code_address'])"
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, 'site'); import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'linli.settings.dev'); django.setup(); {code}",
        ],
        cwd=repo,
        env={"PATH": "/usr/bin:/bin", "SMS_CODES_PER_HOUR": "40", "SMS_CODES_PER_ADDRESS_PER_HOUR": "7"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["40/h/key", "7/h/ip"]


# --- Login --------------------------------------------------------------------------------------


def test_log_in_by_code(client, site_pages):
    resident_with_number()

    response = client.post("/zh-hans/accounts/login/code/", {"phone": "+86 138 1234 5678"})
    assert response["Location"].startswith("/zh-hans/accounts/login/code/confirm/")
    page = client.get("/zh-hans/accounts/login/code/confirm/")
    assert page.status_code == 200 and NUMBER in page.content.decode()
    client.post("/zh-hans/accounts/login/code/confirm/", {"code": last_code(NUMBER)})

    assert logged_in(client)


def test_log_in_by_code_for_an_unknown_number_texts_no_code(client, site_pages):
    response = client.post("/zh-hans/accounts/login/code/", {"phone": NUMBER})

    assert response.status_code == 302  # the same answer as for a known number
    assert not codes_to(NUMBER)
    assert Message.objects.filter(kind=phone.UNKNOWN_KIND, address=NUMBER).count() == 1
    client.post("/zh-hans/accounts/login/code/confirm/", {"code": "123456"})
    assert not logged_in(client)


def test_the_login_code_form_needs_a_number(client, site_pages):
    response = client.post("/en/accounts/login/code/", {"phone": "", "email": ""})

    assert response.status_code == 200 and "Enter your mobile number." in response.content.decode()


@pytest.mark.parametrize("typed", [NUMBER, "138-1234-5678", "+86 138 1234 5678"])
def test_log_in_by_password_with_the_number(client, site_pages, typed):
    resident_with_number()

    response = client.post("/zh-hans/accounts/login/", {"login": typed, "password": PASSWORD})

    assert response.status_code == 302 and logged_in(client)


def test_a_resident_with_a_proven_e_mail_and_an_old_unproven_number_logs_in_by_e_mail(client, site_pages):
    # Numbers typed on the profile before they were proven by code must not stand between a resident and
    # their account: the e-mail address is their proven way in.
    profile = resident_with_number()
    ResidentProfile.objects.filter(pk=profile.pk).update(mobile_verified=False)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=profile.user, email=profile.user.email, defaults={"verified": True, "primary": True}
    )

    response = client.post("/zh-hans/accounts/login/?next=/zh-hans/me/", {"login": profile.user.email, "password": PASSWORD})

    assert (response.status_code, response["Location"]) == (302, "/zh-hans/me/") and logged_in(client)
    assert not codes_to(NUMBER)  # no code texted to the old number


def test_an_unproven_number_does_not_log_in(client, site_pages):
    profile = resident_with_number()
    ResidentProfile.objects.filter(pk=profile.pk).update(mobile_verified=False)

    client.post("/zh-hans/accounts/login/", {"login": NUMBER, "password": PASSWORD})

    assert not logged_in(client)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_account_pages_render_in_both_languages(client, site_pages, language):
    login = client.get(f"/{language}/accounts/login/").content.decode()
    code = client.get(f"/{language}/accounts/login/code/").content.decode()
    reset = client.get(f"/{language}/accounts/password/reset/").content.decode()
    signup = client.get(f"/{language}/accounts/signup/").content.decode()

    if language == "zh-hans":
        assert "用手机验证码登录" in login and "获取验证码" in code and "手机号或电子邮箱" in reset and "手机号" in signup
    else:
        assert "Log in with an SMS code" in login and "Send me a code" in code and "Mobile number or e-mail" in reset
    assert 'type="tel"' in code and 'inputmode="tel"' in signup


# --- The resident's page: add or change the number -----------------------------------------------


def test_an_e_mail_resident_adds_a_number_with_a_code(client, site_pages):
    profile = factories.ResidentProfileFactory()
    client.force_login(profile.user)

    page = client.get("/zh-hans/me/").content.decode()
    assert "添加手机号" in page
    response = client.post("/zh-hans/accounts/phone/change/", {"phone": "138 1234 5678"})
    assert response["Location"] == "/zh-hans/accounts/phone/verify/"
    profile.refresh_from_db()
    assert profile.mobile == ""  # stored once proven
    client.post("/zh-hans/accounts/phone/verify/", {"code": last_code(NUMBER)})

    profile.refresh_from_db()
    assert (profile.mobile, profile.mobile_verified) == (NUMBER, True)
    assert NUMBER in client.get("/zh-hans/me/").content.decode()


def test_changing_the_number_keeps_the_old_one_until_the_new_one_is_proven(client, site_pages, monkeypatch):
    profile = resident_with_number()
    client.force_login(profile.user)

    client.post("/en/accounts/phone/change/", {"phone": "139 0000 1111"})
    client.post("/en/accounts/phone/verify/", {"code": "000000" if last_code("13900001111") != "000000" else "111111"})
    profile.refresh_from_db()
    assert (profile.mobile, profile.mobile_verified) == (NUMBER, True)

    client.post("/en/accounts/phone/verify/", {"code": last_code("13900001111")})
    profile.refresh_from_db()
    assert (profile.mobile, profile.mobile_verified) == ("13900001111", True)


def test_changing_to_a_taken_number_is_refused(client, site_pages):
    resident_with_number()
    other = factories.ResidentProfileFactory()
    client.force_login(other.user)

    response = client.post("/en/accounts/phone/change/", {"phone": "+86 138 1234 5678"})

    assert response.status_code == 200
    assert "This mobile number already belongs to an account" in response.content.decode()
    assert not Message.objects.exists()


def test_the_profile_form_no_longer_changes_the_number(client, site_pages):
    profile = resident_with_number()
    client.force_login(profile.user)

    client.post("/zh-hans/me/", {"mobile": "13900001111", "preferred_language": "zh-hans", "display_name": "新名字"})

    profile.refresh_from_db()
    assert (profile.display_name, profile.mobile) == ("新名字", NUMBER)


# --- Password reset -----------------------------------------------------------------------------


def test_reset_the_password_by_a_code_to_the_number(client, site_pages):
    profile = resident_with_number()

    response = client.post("/zh-hans/accounts/password/reset/", {"email": "+86 138-1234-5678"})
    assert response["Location"] == "/zh-hans/accounts/password/reset/confirm/"
    assert NUMBER in client.get("/zh-hans/accounts/password/reset/confirm/").content.decode()
    client.post("/zh-hans/accounts/password/reset/confirm/", {"code": last_code(NUMBER)})
    client.post("/zh-hans/accounts/password/reset/complete/", {"password1": "new-" + PASSWORD, "password2": "new-" + PASSWORD})

    profile.user.refresh_from_db()
    assert profile.user.check_password("new-" + PASSWORD)
    client.post("/zh-hans/accounts/login/", {"login": NUMBER, "password": "new-" + PASSWORD})
    assert logged_in(client)


def test_a_wrong_reset_code_changes_nothing(client, site_pages):
    profile = resident_with_number()
    client.post("/zh-hans/accounts/password/reset/", {"email": NUMBER})
    code = last_code(NUMBER)

    client.post("/zh-hans/accounts/password/reset/confirm/", {"code": "000000" if code != "000000" else "111111"})
    response = client.post(
        "/zh-hans/accounts/password/reset/complete/", {"password1": "new-" + PASSWORD, "password2": "new-" + PASSWORD}
    )

    assert response.status_code == 302
    profile.user.refresh_from_db()
    assert profile.user.check_password(PASSWORD)


# --- Verified residents -------------------------------------------------------------------------


def test_a_verified_number_or_e_mail_makes_a_verified_resident(site_pages):
    from django.contrib.auth.models import AnonymousUser

    by_phone = resident_with_number().user
    unproven = factories.ResidentProfileFactory(mobile="13900001111").user
    unproven.emailaddress_set.update(verified=False)

    by_phone.emailaddress_set.all().delete()
    assert services.is_verified_resident(by_phone) and not services.has_verified_email(by_phone)
    assert not services.is_verified_resident(unproven)
    assert not services.is_verified_resident(AnonymousUser())
    with pytest.raises(services.NotVerified, match="请先验证您的手机号或电子邮箱"):
        services.require_verified_resident(unproven)


def test_staff_find_a_resident_by_a_verified_number_written_any_way(site_pages):
    profile = resident_with_number()

    assert services.verified_resident("+86 138-1234-5678") == profile.user
    assert services.verified_resident("138 1234 5678") == profile.user
    assert services.verified_resident("13900001111") is None
    ResidentProfile.objects.filter(pk=profile.pk).update(mobile_verified=False)
    assert services.verified_resident(NUMBER) is None


def test_the_adapter_implements_allauth_s_phone_methods(site_pages):
    adapter = AccountAdapter()
    profile = factories.ResidentProfileFactory()

    assert adapter._has_phone_impl
    assert adapter.get_phone(profile.user) is None
    adapter.set_phone(profile.user, "+86 138 1234 5678", False)
    assert adapter.get_phone(profile.user) == (NUMBER, False)
    assert adapter.get_user_by_phone(NUMBER) is None
    adapter.set_phone_verified(profile.user, NUMBER)
    assert adapter.get_user_by_phone("138-1234-5678") == profile.user


def test_a_deactivated_account_lets_go_of_its_number(site_pages):
    old = resident_with_number()
    old.user.is_active = False
    old.user.save()
    new = factories.ResidentProfileFactory()

    AccountAdapter().set_phone_verified(new.user, NUMBER)

    old.refresh_from_db()
    assert not old.mobile_verified and AccountAdapter().get_user_by_phone(NUMBER) == new.user


@override_settings(LANGUAGE_CODE="zh-hans")
def test_the_sms_is_in_the_resident_s_language(site_pages):
    profile = resident_with_number(preferred_language="en")

    message = phone.queue_code_sms(user=profile.user, phone=NUMBER, code="123456")

    assert message.language == "en" and "Linli code: 123456" in message.body and "10 minutes" in message.body


# --- A resident with only a mobile number acts as a verified resident -----------------------------


def phone_only_resident(client) -> User:
    sign_up(client)
    client.post("/zh-hans/accounts/phone/verify/", {"code": last_code(NUMBER)})
    user = User.objects.get(profile__mobile=NUMBER)
    assert not user.email and not user.emailaddress_set.exists()
    return user


def test_a_phone_only_resident_books_a_class(client, site_pages, django_capture_on_commit_callbacks):
    from events.factories import SessionFactory
    from events.models import Booking

    session = SessionFactory()
    phone_only_resident(client)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/zh-hans/activities/sessions/{session.pk}/book/", {"participant": "me"})

    assert response.status_code == 302 and response["Location"] == "/zh-hans/me/bookings/"
    booking = Booking.objects.get()
    assert booking.resident.profile.mobile == NUMBER and booking.participant_name == NUMBER  # staff's lists name them


def test_an_unverified_resident_is_told_to_verify_the_number_or_e_mail(client, site_pages):
    from events.factories import SessionFactory
    from events.models import Booking

    session = SessionFactory()
    profile = factories.ResidentProfileFactory()
    profile.user.emailaddress_set.update(verified=False)
    client.force_login(profile.user)

    response = client.post(f"/zh-hans/activities/sessions/{session.pk}/book/", {"participant": "me"}, follow=True)

    assert "请先验证您的手机号或电子邮箱" in response.content.decode() and not Booking.objects.exists()


def test_a_phone_only_resident_writes_a_letter(client, site_pages):
    from deliberation.mailbox.factories import community_with_staff, web_letter

    community = community_with_staff(name="六和社区", code="liuhe")
    writer = phone_only_resident(client)

    letter = web_letter(writer=writer, community=community)

    assert letter.writer == writer


def test_the_letter_page_does_not_ask_a_phone_only_resident_to_verify(client, site_pages):
    from django.urls import reverse

    phone_only_resident(client)
    with_translation = client.get(reverse("mailbox:write_letter")).content.decode()

    assert "请先验证" not in with_translation


# --- Staff find residents by number ----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["13812345678", "+86 138-1234-5678", "138 1234 5678", "0086 138 1234 5678", "138 1234"])
def test_staff_find_a_resident_by_number_in_any_format(client, site_pages, typed):
    from django.urls import reverse

    from events.factories import SessionFactory

    superuser = User.objects.create_superuser("street", "street@example.com", PASSWORD)
    resident_with_number(display_name="李大爷")
    factories.ResidentProfileFactory(display_name="王阿姨", mobile="13900001111")
    session = SessionFactory()
    client.force_login(superuser)

    points = client.get(reverse("points_admin:find_resident"), {"q": typed}).content.decode()
    events = client.get(reverse("events_admin:book_resident", args=[session.pk]), {"q": typed}).content.decode()

    for found in (points, events):
        assert "李大爷" in found and NUMBER in found and "王阿姨" not in found


def test_staff_search_by_something_that_is_no_number_matches_no_number(site_pages):
    profile = resident_with_number()

    assert not ResidentProfile.objects.filter(phone.mobile_matches("abc")).exists()
    assert ResidentProfile.objects.filter(phone.mobile_matches("+86 138 1234 5678")).get() == profile


@pytest.mark.django_db(transaction=True)
def test_two_accounts_proving_one_number_at_once_end_with_one_owner(postgres_only, site_pages):
    """Concurrency on PostgreSQL with real threads: the constraint, not the form's check, decides."""
    import threading

    from django.db import connection

    profiles = [factories.ResidentProfileFactory() for _ in range(6)]
    barrier = threading.Barrier(len(profiles))
    errors = []

    def prove(profile):
        try:
            barrier.wait()
            AccountAdapter().set_phone_verified(profile.user, NUMBER)
        except IntegrityError as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=prove, args=(profile,)) for profile in profiles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert ResidentProfile.objects.filter(mobile=NUMBER, mobile_verified=True).count() == 1
    assert len(errors) == len(profiles) - 1


def test_deliberation_staff_pages_find_a_writer_by_verified_number(site_pages):
    from deliberation.mailbox import services as deliberation_services

    profile = resident_with_number()

    assert deliberation_services.verified_user("+86 138 1234 5678") == profile.user
    assert deliberation_services.verified_user(profile.user.email) == profile.user
    assert deliberation_services.verified_user("13900001111") is None
