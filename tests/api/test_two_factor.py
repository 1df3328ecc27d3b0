"""Two-factor sign-in (TOTP) over the API on both stores, against a clock the test sets:
enrolment with a QR code, confirmation, recovery codes (hashed at rest, single use), the
code at sign-in, replay and drift, the attempt limit, switching it off, API tokens
untouched."""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

import pyotp
import pytest
from quart import Quart

from tests.support.apiclient import PASSWORD, Account, Api

T0 = 1_900_000_020.0  # the start of a 30-second step


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: Quart) -> Clock:
    controlled = Clock()
    app.extensions["taskwire"].services.two_factor.clock = controlled
    return controlled


async def enrol(api: Api, account: Account) -> dict:
    status, body = await api.call("POST", "/api/v1/users/me/two-factor", account, json={"password": PASSWORD})
    assert status == 201, body
    return body


async def enable(api: Api, account: Account, clock: Clock) -> tuple[pyotp.TOTP, list[str]]:
    totp = pyotp.TOTP((await enrol(api, account))["secret"])
    status, body = await api.call(
        "POST", "/api/v1/users/me/two-factor/confirm", account, json={"code": totp.at(clock.now)}
    )
    assert status == 200, body
    return totp, body["recovery_codes"]


async def sign_in(api: Api, account: Account, code: str | None = None) -> tuple[int, dict]:
    body = {"email": account.email, "password": PASSWORD} | ({"code": code} if code is not None else {})
    return await api.call("POST", "/api/v1/auth/login", json=body)


async def test_enrolment_shows_a_qr_code_and_needs_the_password_and_a_session(api: Api, clock: Clock) -> None:
    account = await api.register()
    status, body = await api.call("POST", "/api/v1/users/me/two-factor", account, json={"password": "wrong" * 3})
    assert status == 403 and body["error"]["code"] == "invalid_password"
    status, token = await api.call("POST", "/api/v1/tokens", account, json={"name": "t", "scopes": ["read", "write"]})
    status, body = await api.call(
        "POST",
        "/api/v1/users/me/two-factor",
        json={"password": PASSWORD},
        headers={"Authorization": f"Bearer {token['token']}"},
    )
    assert status == 403 and body["error"]["code"] == "session_required"

    enrolment = await enrol(api, account)
    qr = unquote(enrolment["qr_svg_data_uri"])
    assert qr.startswith("data:image/svg+xml;charset=utf-8,<svg") and "<path" in qr
    uri = pyotp.parse_uri(enrolment["otpauth_uri"])
    assert uri.secret == enrolment["secret"] and uri.issuer == "Taskwire" and uri.name == account.email
    status, body = await api.call("GET", "/api/v1/users/me/two-factor", account)
    assert body == {"enabled": False, "pending": True, "recovery_codes_left": 0}
    # Pending is not on: signing in asks for nothing yet.
    assert (await sign_in(api, account))[0] == 200


async def test_a_wrong_code_does_not_confirm_and_the_right_one_does(app: Quart, api: Api, clock: Clock) -> None:
    account = await api.register()
    totp = pyotp.TOTP((await enrol(api, account))["secret"])
    status, body = await api.call(
        "POST", "/api/v1/users/me/two-factor/confirm", account, json={"code": totp.at(clock.now - 90)}
    )
    assert status == 401 and body["error"]["code"] == "invalid_two_factor_code"
    status, body = await api.call(
        "POST", "/api/v1/users/me/two-factor/confirm", account, json={"code": totp.at(clock.now)}
    )
    assert status == 200 and len(set(body["recovery_codes"])) == 10
    status, state = await api.call("GET", "/api/v1/users/me/two-factor", account)
    assert state == {"enabled": True, "pending": False, "recovery_codes_left": 10}

    stored = await app.extensions["taskwire"].store.get_two_factor(account.id)
    assert stored.confirmed_at is not None
    held = repr(stored)
    for code in body["recovery_codes"]:
        assert code not in held and code.replace("-", "") not in held
    assert sorted(stored.recovery_hashes) == sorted(
        hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in body["recovery_codes"]
    )


async def test_sign_in_asks_for_the_code_and_takes_each_code_once(api: Api, clock: Clock) -> None:
    account = await api.register()
    totp, _ = await enable(api, account, clock)
    status, body = await sign_in(api, account)
    assert status == 401 and body["error"]["code"] == "two_factor_required"
    assert "access_token" not in body
    clock.now += 30
    status, body = await sign_in(api, account, totp.at(clock.now))
    assert status == 200 and body["access_token"]
    status, body = await sign_in(api, account, totp.at(clock.now))
    assert status == 401 and body["error"]["code"] == "invalid_two_factor_code"  # a replay
    clock.now += 10
    # The next step's code, typed on a phone running 20 s fast: accepted once.
    status, body = await sign_in(api, account, totp.at(clock.now + 30))
    assert status == 200


async def test_codes_outside_the_drift_window_are_refused(api: Api, clock: Clock) -> None:
    account = await api.register()
    totp, _ = await enable(api, account, clock)
    clock.now += 300
    for code in (totp.at(clock.now - 60), totp.at(clock.now + 60)):
        status, body = await sign_in(api, account, code)
        assert status == 401 and body["error"]["code"] == "invalid_two_factor_code"
    assert (await sign_in(api, account, totp.at(clock.now - 30)))[0] == 200


async def test_a_recovery_code_signs_in_once(api: Api, clock: Clock) -> None:
    account = await api.register()
    _, codes = await enable(api, account, clock)
    status, body = await sign_in(api, account, codes[3].upper())
    assert status == 200
    status, body = await sign_in(api, account, codes[3])
    assert status == 401 and body["error"]["code"] == "invalid_two_factor_code"
    assert (await api.call("GET", "/api/v1/users/me/two-factor", account))[1]["recovery_codes_left"] == 9


async def test_code_attempts_are_limited_per_account_even_with_the_right_password(api: Api, clock: Clock) -> None:
    account = await api.register()
    totp, _ = await enable(api, account, clock)  # one attempt
    clock.now += 60
    for guess in ("000000", "111111", "222222", "333333"):
        assert (await sign_in(api, account, guess))[0] == 401
    status, body = await sign_in(api, account, totp.at(clock.now))
    assert status == 429 and body["error"]["code"] == "too_many_code_attempts"
    assert body["error"]["details"]["retry_after"] > 0


async def test_turning_it_off_needs_a_code(api: Api, clock: Clock) -> None:
    account = await api.register()
    totp, codes = await enable(api, account, clock)
    status, body = await api.call("POST", "/api/v1/users/me/two-factor/disable", account, json={"code": "123456"})
    assert status == 401 and body["error"]["code"] == "invalid_two_factor_code"
    assert (await sign_in(api, account))[0] == 401
    clock.now += 30
    status, _ = await api.call(
        "POST", "/api/v1/users/me/two-factor/disable", account, json={"code": totp.at(clock.now)}
    )
    assert status == 204
    assert (await sign_in(api, account))[0] == 200
    status, body = await api.call("GET", "/api/v1/users/me/two-factor", account)
    assert body == {"enabled": False, "pending": False, "recovery_codes_left": 0}


async def test_api_tokens_and_running_sessions_are_unaffected(api: Api, clock: Clock) -> None:
    account = await api.register()
    status, token = await api.call("POST", "/api/v1/tokens", account, json={"name": "bot", "scopes": ["read"]})
    await enable(api, account, clock)
    assert (await api.call("GET", "/api/v1/boards", headers={"Authorization": f"Bearer {token['token']}"}))[0] == 200
    status, body = await api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert status == 200
    status, body = await api.call("POST", "/api/v1/users/me/two-factor", account, json={"password": PASSWORD})
    assert status == 409 and body["error"]["code"] == "two_factor_enabled"
