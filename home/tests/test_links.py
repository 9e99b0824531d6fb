"""Absolute links that leave the portal (mail, .ics files, QR codes) start with PORTAL_BASE_URL (plumbing/links.py)."""

import os
import subprocess
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command

from plumbing.links import absolute_url

REPO = Path(__file__).resolve().parents[2]
PUBLIC = "https://linli.example.cn:8443"


@pytest.fixture
def public_address(settings):
    settings.PORTAL_BASE_URL = PUBLIC
    return PUBLIC


def test_absolute_url_puts_a_path_under_the_portal_s_public_address(public_address):
    assert absolute_url("/zh-hans/me/") == f"{PUBLIC}/zh-hans/me/"
    assert absolute_url("en/me/") == f"{PUBLIC}/en/me/"
    assert absolute_url("https://elsewhere.example/x") == "https://elsewhere.example/x"


@pytest.mark.django_db(transaction=True)  # the mail leaves through the outbox when the request commits
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_verification_link_uses_the_public_address_not_the_request_s_host(client, site_pages, public_address, language):
    client.post(
        f"/{language}/accounts/signup/",
        {
            "email": "link@example.com",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
            "privacy_consent": "on",
        },
    )

    (message,) = mail.outbox
    assert f"{PUBLIC}/{language}/accounts/confirm-email/" in message.body
    assert "testserver" not in message.body


def test_make_run_serves_and_links_to_the_port_it_is_given(tmp_path):
    probe = tmp_path / "probe.mk"
    probe.write_text("show-url: ; @echo $$PORTAL_BASE_URL\n")

    def base_url(*args: str, env: dict | None = None) -> str:
        command = ["make", "-s", "-f", "Makefile", "-f", str(probe), "show-url", *args]
        return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout.strip()

    # Without PORTAL_BASE_URL in the environment (`make test` itself exports one for port 8000).
    bare = {name: value for name, value in os.environ.items() if name != "PORTAL_BASE_URL"}
    assert base_url(env=bare) == "http://127.0.0.1:8000"
    assert base_url("PORT=8501", env=bare) == "http://127.0.0.1:8501"
    assert base_url("PORT=8501", env={"PATH": "/usr/bin:/bin", "PORTAL_BASE_URL": PUBLIC}) == PUBLIC
    assert "runserver 127.0.0.1:$(PORT)" in (REPO / "Makefile").read_text()


@pytest.mark.django_db
def test_the_printed_local_admin_address_is_the_public_one(public_address, settings, capsys):
    settings.DEBUG = True
    call_command("create_local_admin")

    assert f"Local admin — {PUBLIC}/admin/" in capsys.readouterr().out
