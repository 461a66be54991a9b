from __future__ import annotations

import datetime
import os
import subprocess
import sys

from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import World
from tests.factories import PASSWORD


def sign_in(client: Client, username: str, password: str = PASSWORD) -> object:
    return client.post("/account/login/", {"username": username, "password": password})


def test_sign_in_lands_on_home_for_the_active_organization(world: World) -> None:
    client = Client()
    response = sign_in(client, "a.rn")
    assert response.status_code == 302
    home = client.get("/")
    assert b"Practice A" in home.content


def test_production_hashes_passwords_with_argon2(world: World) -> None:
    assert settings.PASSWORD_HASHERS[1].endswith("Argon2PasswordHasher")
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
        world.user_a.set_password("a long enough passphrase")
        assert identify_hasher(world.user_a.password).algorithm == "argon2"


def test_repeated_wrong_passwords_lock_the_account(world: World) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "a.rn", "wrong password")
    locked = sign_in(client, "a.rn")  # even the right password is refused now
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    assert client.get("/").status_code == 302


def test_wrong_password_gives_a_clear_message(world: World) -> None:
    response = sign_in(Client(), "a.rn", "nope")
    assert response.status_code == 200
    assert b"correct username and password" in response.content


def test_idle_session_ends_and_activity_slides_the_window(world: World) -> None:
    client = Client()
    sign_in(client, "a.rn")
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    session = Session.objects.get()
    first_expiry = session.expire_date
    client.get("/")
    assert Session.objects.get().expire_date >= first_expiry
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


def test_totp_second_factor_is_asked_for_once_set_up(world: World) -> None:
    client = Client()
    sign_in(client, "a.rn")
    client.post("/account/security/", {"step": "start"})
    device = TOTPDevice.objects.get(user=world.user_a)
    code = f"{totp(device.bin_key):06d}"
    client.post("/account/security/", {"step": "confirm", "token": code})
    assert TOTPDevice.objects.get(user=world.user_a).confirmed

    fresh = Client()
    sign_in(fresh, "a.rn")
    response = fresh.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/account/verify/")
    wrong = fresh.post("/account/verify/", {"token": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert b"not right" in wrong.content
    # Let the same time step and a retry through: the test cannot wait 30 s for the next code.
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    ok = fresh.post("/account/verify/", {"token": code, "next": "/patients/"})
    assert ok.status_code == 302 and ok["Location"] == "/patients/"
    assert fresh.get("/patients/").status_code == 200


def test_production_settings_pass_the_deploy_check() -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "caseboard.settings.prod",
        "CASEBOARD_SECRET_KEY": "k" * 20 + "9Xz!2#Qw" * 6,
        "DATABASE_URL": "sqlite:///:memory:",
    }
    result = subprocess.run(
        [sys.executable, "-m", "caseboard", "check", "--deploy", "--fail-level", "DEBUG"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_pages_carry_a_strict_content_security_policy(world: World) -> None:
    response = Client().get("/account/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
