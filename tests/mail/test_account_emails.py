"""Account emails through a real SMTP server: a password reset link that works once and
until it expires and ends every session; address confirmation, required before signing
in when the server says so. Neither answer tells whether an address has an account."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from app.domain import clock
from app.factory import create_app
from tests.mail.conftest import PUBLIC_URL, mail_settings
from tests.support.apiclient import PASSWORD, Api
from tests.support.smtp import Received, SmtpSink

NEW_PASSWORD = "a brand new passphrase"


def link_token(received: Received, path: str) -> str:
    [link] = re.findall(rf"{re.escape(PUBLIC_URL)}{path}\?token=\S+", received.part("plain"))
    return parse_qs(urlsplit(link).query)["token"][0]


async def test_a_password_reset_link_works_once_and_ends_every_session(api: Api, sink: SmtpSink) -> None:
    bob = await api.register("Bob")
    status, other_session = await api.call(
        "POST", "/api/v1/auth/login", json={"email": bob.email, "password": PASSWORD}
    )
    assert status == 200
    status, _ = await api.call("POST", "/api/v1/auth/password-reset", json={"email": bob.email.upper()})
    assert status == 204
    await sink.wait_for(lambda: len(sink.to(bob.email)) == 1)
    [mail] = sink.to(bob.email)
    assert mail.message["Subject"] == "Reset your Taskwire password"
    assert mail.message["List-Unsubscribe"] is None  # not a notification: no way to opt out
    assert "signs you out everywhere else" in mail.part("plain")
    token = link_token(mail, "/reset-password")

    status, body = await api.call(
        "POST", "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "short"}
    )
    assert (status, body["error"]["code"]) == (422, "password_too_short")  # and the link still works:
    status, _ = await api.call(
        "POST", "/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert status == 204
    for access in (bob.access_token, other_session["access_token"]):
        status, body = await api.call("GET", "/api/v1/users/me", headers={"Authorization": f"Bearer {access}"})
        assert (status, body["error"]["code"]) == (401, "session_revoked")
    status, _ = await api.call("POST", "/api/v1/auth/login", json={"email": bob.email, "password": PASSWORD})
    assert status == 401
    status, _ = await api.call("POST", "/api/v1/auth/login", json={"email": bob.email, "password": NEW_PASSWORD})
    assert status == 200
    status, body = await api.call(
        "POST", "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "yet another passphrase"}
    )
    assert (status, body["error"]["code"]) == (422, "invalid_token")


async def test_an_unknown_address_gets_the_same_answer_and_no_email(api: Api, sink: SmtpSink) -> None:
    status, body = await api.call("POST", "/api/v1/auth/password-reset", json={"email": "nobody@example.test"})
    assert (status, body) == (204, None)
    forged = {"token": "not-a-token", "password": NEW_PASSWORD}
    status, body = await api.call("POST", "/api/v1/auth/password-reset/confirm", json=forged)
    assert (status, body["error"]["code"]) == (422, "invalid_token")
    assert sink.received == []


async def test_an_expired_reset_link_is_refused(api: Api, sink: SmtpSink) -> None:
    bob = await api.register("Bob")
    await api.call("POST", "/api/v1/auth/password-reset", json={"email": bob.email})
    await sink.wait_for(lambda: len(sink.to(bob.email)) == 1)
    token = link_token(sink.to(bob.email)[0], "/reset-password")
    clock.travel(timedelta(hours=1, seconds=1))
    try:
        status, body = await api.call(
            "POST", "/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
        )
    finally:
        clock.travel(-timedelta(hours=1, seconds=1))
    assert (status, body["error"]["code"]) == (422, "invalid_token")


async def test_a_required_confirmation_holds_sign_in_until_the_link_is_followed(
    database_url: str, tmp_path: Path, sink: SmtpSink
) -> None:
    application = create_app(mail_settings(database_url, tmp_path, sink.url(), email_verification="required"))
    async with application.test_app():
        api = Api(application.test_client())
        account = {"email": "Dora@Example.test", "password": PASSWORD, "name": "Dora"}
        status, body = await api.call("POST", "/api/v1/auth/register", json=account)
        assert (status, body) == (202, {"verification_required": True, "email": "dora@example.test"})
        login = {"email": account["email"], "password": PASSWORD}
        status, body = await api.call("POST", "/api/v1/auth/login", json=login)
        assert (status, body["error"]["code"]) == (403, "email_not_verified")
        await sink.wait_for(lambda: len(sink.to("dora@example.test")) == 1)
        [mail] = sink.to("dora@example.test")
        assert mail.message["Subject"] == "Confirm your email address"
        token = link_token(mail, "/verify-email")
        status, body = await api.call("POST", "/api/v1/auth/verify-email", json={"token": token})
        assert (status, body) == (200, {"email": "dora@example.test"})
        status, _ = await api.call("POST", "/api/v1/auth/login", json=login)
        assert status == 200
        status, body = await api.call("POST", "/api/v1/auth/verify-email", json={"token": token})
        assert (status, body["error"]["code"]) == (422, "invalid_token")


async def test_without_smtp_a_reset_is_refused_plainly(database_url: str, tmp_path: Path) -> None:
    application = create_app(mail_settings(database_url, tmp_path, "", email_verification="required"))
    async with application.test_app():
        api = Api(application.test_client())
        bob = await api.register("Bob")  # no SMTP: the requirement cannot apply
        status, body = await api.call("POST", "/api/v1/auth/password-reset", json={"email": bob.email})
        assert (status, body["error"]["code"]) == (409, "email_disabled")
