"""Accounts through allauth: sign-up with consent, e-mail verification, expiring links, rate limits, staff TOTP."""

import json
import re
import subprocess
import sys
import time
import types
from pathlib import Path
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from home import factories, services
from home.models import ResidentProfile

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "lantern-osmanthus-47"
User = get_user_model()


def sign_up(client, *, language="zh-hans", email="new.resident@example.com", password=PASSWORD, consent=True):
    data = {"email": email, "password1": password, "password2": password}
    if consent:
        data["privacy_consent"] = "on"
    return client.post(f"/{language}/accounts/signup/", data)


def log_in(client, *, email, password=PASSWORD, language="zh-hans", next_url=None):
    url = f"/{language}/accounts/login/" + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"login": email, "password": password})


def link_in(message) -> str:
    match = re.search(re.escape(django_settings.PORTAL_BASE_URL) + r"(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def next_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["next"][0]


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# Sign-up, consent and verification


@pytest.mark.django_db(transaction=True)  # the mail leaves through the outbox when the request commits
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_sign_up_records_consent_and_the_language_of_the_page_and_sends_a_verification_mail(
    client, site_pages, settings, language
):
    response = sign_up(client, language=language)

    assert response.status_code == 302
    assert response["Location"] == f"/{language}/accounts/confirm-email/"
    user = User.objects.get(email="new.resident@example.com")
    profile = ResidentProfile.objects.get(user=user)
    assert profile.privacy_notice_version == settings.LINLI_PRIVACY_NOTICE_VERSION
    assert profile.privacy_consented_at is not None
    assert profile.preferred_language == language
    assert not EmailAddress.objects.get(user=user).verified
    assert not logged_in(client)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.resident@example.com"]
    assert link_in(mail.outbox[0]).startswith(f"/{language}/accounts/confirm-email/")


@pytest.mark.django_db(transaction=True)  # the mail leaves through the outbox when the request commits
def test_verification_mail_is_in_the_language_of_the_sign_up(client, site_pages):
    sign_up(client, language="en", email="en@example.com")
    sign_up(client, language="zh-hans", email="zh@example.com")

    english, chinese = mail.outbox
    assert english.subject == "[邻里 Linli] Confirm your e-mail address"
    assert chinese.subject == "[邻里 Linli] 请确认您的电子邮箱"
    # Plain words, the portal's name and address, no blank site name ("Hello from !", "on .").
    assert english.body.startswith("Hello,\n\nThis e-mail address (en@example.com) was given to sign up for Linli.")
    assert chinese.body.startswith("您好！\n\n有人用这个电子邮箱（zh@example.com）注册了邻里。")
    assert "Linli, your neighbourhood portal\nhttp://127.0.0.1:8000/en/" in english.body
    assert "邻里社区服务平台\nhttp://127.0.0.1:8000/zh-hans/" in chinese.body
    assert "The link works for 24 hours." in english.body and "链接 24 小时内有效。" in chinese.body
    for body in (english.body, chinese.body):
        assert "Hello from" not in body and "Email" not in body and " on ." not in body


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Sh0rt-pass!", "at least 12 characters"),
        ("qwerty123456", "too common"),
        ("1qaz2wsx3edc", "too common"),
    ],
)
def test_sign_up_refuses_short_and_common_passwords(client, site_pages, password, message):
    response = sign_up(client, language="en", password=password)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(email="new.resident@example.com").exists()
    assert mail.outbox == []


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_sign_up_without_consent_to_the_privacy_notice_is_refused(client, site_pages, language):
    page = client.get(f"/{language}/accounts/signup/").content.decode()
    assert 'name="privacy_consent"' in page
    assert f'href="/{language}/privacy-notice/"' in page

    response = sign_up(client, language=language, consent=False)

    assert response.status_code == 200
    assert response.context["form"].errors["privacy_consent"]
    assert not User.objects.filter(email="new.resident@example.com").exists()
    assert not ResidentProfile.objects.exists()
    assert mail.outbox == []


def test_register_resident_service_refuses_without_consent(site_pages):
    user = factories.UserFactory()
    with pytest.raises(services.ProfileError):
        services.register_resident(user=user, consent_given=False, language="en")
    assert not ResidentProfile.objects.filter(user=user).exists()


def test_log_in_is_impossible_before_verification(client, site_pages):
    sign_up(client)
    client.logout()
    mail.outbox.clear()

    response = log_in(client, email="new.resident@example.com")

    assert response.status_code == 302
    assert response["Location"] == "/zh-hans/accounts/confirm-email/"
    assert not logged_in(client)
    assert client.get("/zh-hans/me/").status_code == 302


@pytest.mark.django_db(transaction=True)  # the mail leaves through the outbox when the request commits
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_opening_the_link_verifies_at_once_without_a_second_tap(client, site_pages, language):
    sign_up(client, language=language)
    link = link_in(mail.outbox[0])
    other_browser = type(client)()

    response = other_browser.get(link)

    assert response.status_code == 302
    address = EmailAddress.objects.get(email="new.resident@example.com")
    assert address.verified
    assert services.has_verified_email(address.user)

    assert not logged_in(other_browser)  # another browser (or a mail scanner) is not logged in by the link
    response = log_in(other_browser, email="new.resident@example.com", language=language)
    assert response.status_code == 302
    assert response["Location"] == f"/{language}/me/"
    assert logged_in(other_browser)
    assert other_browser.get(f"/{language}/me/").status_code == 200


@pytest.mark.django_db(transaction=True)  # the mail leaves through the outbox when the request commits
@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["请查收邮件", "这个链接已过期或已使用过。"]),
        ("en", ["Check your e-mail", "This link has expired or was already used."]),
    ],
)
def test_the_verification_pages_speak_plainly(client, site_pages, language, words):
    sent = sign_up(client, language=language)
    page = client.get(sent["Location"]).content.decode()
    expired = client.get(f"/{language}/accounts/confirm-email/not-a-key/").content.decode()

    assert words[0] in page and "Email" not in page
    assert words[1] in expired


@pytest.mark.parametrize(("page_language", "profile_language"), [("en", "zh-hans"), ("zh-hans", "en")])
def test_logging_in_stays_in_the_language_in_use_and_mail_keeps_the_profile_s(
    client, site_pages, page_language, profile_language
):
    profile = factories.ResidentProfileFactory(user__password=PASSWORD, preferred_language=profile_language)

    response = log_in(client, email=profile.user.email, language=page_language)

    assert response.status_code == 302
    assert response["Location"] == f"/{page_language}/me/"
    assert ResidentProfile.objects.get(pk=profile.pk).preferred_language == profile_language


def _clock_ahead(monkeypatch, seconds: float) -> None:
    """Let the signer (and only the signer) believe `seconds` have passed."""
    real_time = time.time
    monkeypatch.setattr(signing, "time", types.SimpleNamespace(time=lambda: real_time() + seconds))


@pytest.mark.django_db(transaction=True)  # the mail leaves through the outbox when the request commits
@pytest.mark.parametrize(("hours", "verified"), [(23, True), (25, False)])
def test_verification_link_lives_a_day(client, site_pages, monkeypatch, hours, verified):
    sign_up(client)
    link = link_in(mail.outbox[0])
    _clock_ahead(monkeypatch, hours * 3600)

    page = client.get(link)
    client.post(link)

    assert EmailAddress.objects.get(email="new.resident@example.com").verified is verified
    if not verified:
        assert page.context["confirmation"] is None  # allauth's "expired or invalid" page


@pytest.mark.django_db(transaction=True)  # the mail leaves through the outbox when the request commits
@pytest.mark.parametrize(("minutes", "works"), [(9, True), (11, False)])
def test_password_reset_code_by_e_mail_expires_after_ten_minutes(client, site_pages, monkeypatch, minutes, works):
    from allauth.account.internal.flows import code_verification

    user = factories.VerifiedUserFactory(email="forgetful@example.com")
    response = client.post("/en/accounts/password/reset/", {"email": "forgetful@example.com"})
    assert response["Location"] == "/en/accounts/password/reset/confirm/"
    (message,) = mail.outbox
    code = re.search(r"^(\d{6})$", message.body, re.MULTILINE).group(1)
    real_time = time.time
    monkeypatch.setattr(code_verification, "time", types.SimpleNamespace(time=lambda: real_time() + minutes * 60))

    client.post("/en/accounts/password/reset/confirm/", {"code": code})
    client.post("/en/accounts/password/reset/complete/", {"password1": "new-" + PASSWORD, "password2": "new-" + PASSWORD})

    user.refresh_from_db()
    assert user.check_password("new-" + PASSWORD) is works
    assert user.check_password("correct horse battery staple") is not works


@pytest.mark.django_db(transaction=True)  # the mail leaves through the outbox when the request commits
def test_changing_the_e_mail_address_replaces_it_once_the_new_one_is_verified(client, site_pages):
    user = factories.VerifiedUserFactory(email="old@example.com")
    log_in(client, email="old@example.com", password="correct horse battery staple")
    assert logged_in(client)

    response = client.post("/zh-hans/accounts/email/", {"action_add": "", "email": "new@example.com"})
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user, email="old@example.com").verified  # still the login until verified

    client.post(link_in(mail.outbox[-1]))

    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")) == [
        ("new@example.com", True, True)
    ]
    user.refresh_from_db()
    assert user.email == "new@example.com"


# Rate limits


def _wrong_passwords(client, *, email: str, times: int, url: str = "/zh-hans/accounts/login/") -> list[int]:
    return [client.post(url, {"login": email, "password": f"wrong-password-{i}"}).status_code for i in range(times)]


def test_sixth_wrong_password_within_five_minutes_gets_429(client, site_pages):
    factories.VerifiedUserFactory(email="target@example.com")
    factories.VerifiedUserFactory(email="bystander@example.com")

    assert _wrong_passwords(client, email="target@example.com", times=5) == [200] * 5
    assert _wrong_passwords(client, email="target@example.com", times=1) == [429]
    # The refusal is a page of the portal in the visitor's language.
    page = client.post("/en/accounts/login/", {"login": "target@example.com", "password": "x"})
    assert page.status_code == 429
    assert 'lang="en"' in page.content.decode()
    assert "Too many failed login attempts" in page.content.decode()
    chinese = client.post("/zh-hans/accounts/login/", {"login": "target@example.com", "password": "x"}).content.decode()
    assert "登录失败次数过多" in chinese
    # Even the right password is refused while the account is locked ...
    assert log_in(client, email="target@example.com", password="correct horse battery staple").status_code == 429
    assert not logged_in(client)
    # ... but only that account: the limit is per account.
    assert log_in(client, email="bystander@example.com", password="correct horse battery staple").status_code == 302
    assert logged_in(client)


def test_wagtail_admin_sends_anonymous_visitors_to_the_rate_limited_allauth_login(client, site_pages):
    factories.VerifiedUserFactory(email="editor@example.com", is_staff=True, is_superuser=True)

    response = client.get("/admin/", follow=True)
    final_url = response.redirect_chain[-1][0]
    assert final_url.startswith("/zh-hans/accounts/login/")
    assert next_of(final_url) == "/admin/"
    assert response.status_code == 200

    response = client.get("/admin/login/?next=/admin/pages/")
    assert response.status_code == 302
    assert response["Location"].startswith("/zh-hans/accounts/login/?next=/admin/pages/")

    login_url = final_url
    assert _wrong_passwords(client, email="editor@example.com", times=6, url=login_url) == [200] * 5 + [429]


def test_the_lock_lifts_five_minutes_after_the_first_wrong_password(client, site_pages):
    factories.VerifiedUserFactory(email="target@example.com")
    start = time.time()

    # allauth's rate limit and the cache behind it both read time.time: move the clock.
    with patch("time.time", return_value=start):
        assert _wrong_passwords(client, email="target@example.com", times=5) == [200] * 5
    with patch("time.time", return_value=start + 4 * 60 + 50):
        assert log_in(client, email="target@example.com", password="correct horse battery staple").status_code == 429
    with patch("time.time", return_value=start + 5 * 60 + 10):
        response = log_in(client, email="target@example.com", password="correct horse battery staple")

    assert response.status_code == 302
    assert logged_in(client)


def test_django_admin_logs_in_through_allauth_too_so_neither_rate_limit_nor_totp_can_be_bypassed(client, site_pages):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    boss = factories.VerifiedUserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    TOTP.activate(boss, generate_totp_secret())

    response = client.get("/django-admin/", follow=True)
    final_url = response.redirect_chain[-1][0]
    assert final_url.startswith("/zh-hans/accounts/login/")
    assert next_of(final_url) == "/django-admin/"

    # Django's own login form is gone: a right password posted to it logs nobody in.
    response = client.post("/django-admin/login/", {"username": boss.username, "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert response["Location"].startswith("/zh-hans/accounts/login/")
    assert not logged_in(client)
    # The password alone is not enough: allauth asks for the second factor.
    response = log_in(client, email="boss@example.com", password="correct horse battery staple", next_url="/django-admin/")
    assert response["Location"] == "/zh-hans/accounts/2fa/authenticate/"
    assert not logged_in(client)
    assert client.get("/django-admin/").status_code == 302

    client.logout()
    assert _wrong_passwords(client, email="boss@example.com", times=6, url=final_url) == [200] * 5 + [429]


@pytest.mark.parametrize("admin", ["/admin/", "/django-admin/"])
def test_a_logged_in_resident_sent_to_an_admin_login_is_told_there_is_no_access_not_bounced_for_ever(client, site_pages, admin):
    client.force_login(factories.ResidentProfileFactory().user)

    response = client.get(admin, follow=True, HTTP_ACCEPT_LANGUAGE="en")

    assert len(response.redirect_chain) == 1
    assert response.status_code == 403
    assert "Your account has no access to the administration." in response.content.decode()
    assert logged_in(client)


@pytest.mark.parametrize(("login", "admin_home"), [("/admin/login/", "/admin/"), ("/django-admin/login/", "/django-admin/")])
def test_staff_already_logged_in_are_sent_from_the_admin_login_to_the_admin(client, site_pages, login, admin_home):
    client.force_login(factories.VerifiedUserFactory(is_staff=True, is_superuser=True))

    response = client.get(login)

    assert (response.status_code, response["Location"]) == (302, admin_home)
    assert client.get(admin_home).status_code == 200


# One check for "verified e-mail required"


def test_has_verified_email_and_require_verified_resident(site_pages):
    from django.contrib.auth.models import AnonymousUser

    unverified = factories.UserFactory()
    EmailAddress.objects.create(user=unverified, email=unverified.email, verified=False, primary=True)
    verified = factories.VerifiedUserFactory()

    assert services.has_verified_email(verified)
    assert not services.has_verified_email(unverified)
    assert not services.has_verified_email(AnonymousUser())
    services.require_verified_resident(verified)
    for user in (unverified, AnonymousUser()):
        with pytest.raises(services.NotVerified) as raised:
            services.require_verified_resident(user)
        assert isinstance(raised.value, PermissionDenied)


# Staff TOTP


def _staff_member(email="staff@example.com"):
    community = services.create_community(name="六和社区", code="liuhe")
    staff = factories.VerifiedUserFactory(email=email)
    staff.groups.add(community.editors)
    return staff


def test_staff_without_totp_are_sent_to_activate_it_then_use_the_admin_and_recovery_codes(client, site_pages, settings):
    settings.LINLI_STAFF_MFA_REQUIRED = True
    staff = _staff_member()
    log_in(client, email=staff.email, password="correct horse battery staple")
    assert logged_in(client)

    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/zh-hans/accounts/2fa/totp/activate/"
    assert client.get("/admin/pages/").status_code == 302

    # allauth asks for the password again before a new authenticator is added ...
    response = client.get(response["Location"])
    assert response["Location"].startswith("/zh-hans/accounts/reauthenticate/")
    client.post(response["Location"], {"password": "correct horse battery staple"})
    # ... then activation through its own page, with a code computed from the secret it shows.
    assert client.get("/zh-hans/accounts/2fa/totp/activate/").status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post("/zh-hans/accounts/2fa/totp/activate/", {"code": code})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()

    assert client.get("/admin/").status_code == 200

    # Recovery codes were made with the TOTP; they can be shown and generated anew.
    assert response["Location"] == "/zh-hans/accounts/2fa/recovery-codes/"
    shown = client.get(response["Location"])
    codes = shown.context["unused_codes"]
    assert len(codes) == 10
    assert client.post("/zh-hans/accounts/2fa/recovery-codes/generate/").status_code == 302
    new_codes = client.get("/zh-hans/accounts/2fa/recovery-codes/").context["unused_codes"]
    assert set(new_codes).isdisjoint(codes)

    # Next time the password alone is not enough; a recovery code completes the login.
    client.logout()
    response = log_in(client, email=staff.email, password="correct horse battery staple")
    assert response["Location"] == "/zh-hans/accounts/2fa/authenticate/"
    assert not logged_in(client)
    client.post("/zh-hans/accounts/2fa/authenticate/", {"code": new_codes[0]})
    assert logged_in(client)
    assert client.get("/admin/").status_code == 200


def test_staff_with_a_totp_authenticator_reach_the_admin(client, site_pages, settings):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    settings.LINLI_STAFF_MFA_REQUIRED = True
    staff = _staff_member()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302

    TOTP.activate(staff, generate_totp_secret())

    assert client.get("/admin/").status_code == 200


def test_without_the_requirement_staff_reach_the_admin_without_totp(client, site_pages, settings):
    settings.LINLI_STAFF_MFA_REQUIRED = False
    client.force_login(_staff_member())
    assert client.get("/admin/").status_code == 200


def test_printed_local_superuser_logs_in_at_once_in_development(client, site_pages, settings, capsys):
    settings.DEBUG = True
    settings.LINLI_STAFF_MFA_REQUIRED = False  # as linli.settings.dev has it, see below
    call_command("create_local_admin")
    password = re.search(r"password: (\S+)", capsys.readouterr().out).group(1)

    log_in(client, email="admin@linli.localhost", password=password)

    assert logged_in(client)
    assert client.get("/admin/").status_code == 200


@pytest.mark.one_database  # two fresh interpreters and no test database, as test_production_settings.py's
def test_totp_is_required_by_default_and_off_only_in_development():
    code = (
        "import json, os, sys; sys.path.insert(0, 'site'); import django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.LINLI_STAFF_MFA_REQUIRED))"
    )

    def required(module: str) -> bool:
        env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "DJANGO_SETTINGS_MODULE": module}
        result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    assert required("linli.settings.base") is True
    assert required("linli.settings.dev") is False


@pytest.mark.django_db(transaction=True)  # the mail leaves through the outbox when the request commits
@pytest.mark.parametrize(("language", "greeting"), [("zh-hans", "邻里"), ("en", "Linli")])
def test_mail_names_the_portal_and_the_resident_not_the_host(client, site_pages, language, greeting):
    sign_up(client, language=language, email="mail.reader@example.com")

    body = mail.outbox[0].body

    assert greeting in body
    assert "testserver" not in body.split("\n")[0]
    assert "mail.reader@example.com" in body


def test_residents_without_admin_access_are_not_asked_to_set_up_totp(client, site_pages, settings):
    settings.LINLI_STAFF_MFA_REQUIRED = True
    resident = factories.ResidentProfileFactory(user__password=PASSWORD).user
    client.force_login(resident)

    response = client.get("/admin/")

    assert response.status_code in (302, 403)
    assert "/2fa/" not in response.get("Location", "")


def test_too_short_password_is_refused_in_chinese_on_the_chinese_page(client, site_pages):
    response = client.post(
        "/zh-hans/accounts/signup/",
        {"email": "short@example.com", "password1": "short-pw", "password2": "short-pw", "privacy_consent": "on"},
    )

    assert "密码太短，至少需要 12 个字符。" in response.content.decode()
    assert not User.objects.filter(email="short@example.com").exists()


def test_staff_without_totp_cannot_use_the_django_admin_either(client, site_pages, settings):
    settings.LINLI_STAFF_MFA_REQUIRED = True
    superuser = factories.VerifiedUserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)

    response = client.get("/django-admin/")

    assert response.status_code == 302
    assert "/2fa/totp/activate/" in response["Location"]


def test_wagtail_s_own_password_reset_and_e_mail_change_are_off(client, site_pages):
    staff = factories.VerifiedUserFactory(username="editor", is_staff=True, is_superuser=True)
    client.force_login(staff)

    assert client.get("/admin/password_reset/", follow=True).status_code == 404
    account = client.get("/admin/account/").content.decode()
    assert 'name="email-email"' not in account
