"""Auth as docs/design.md's contract states it: register, login, refresh rotation with reuse
detection, logout, /users/me, and every way a bad token is refused."""

from __future__ import annotations

import asyncio
import hmac
import time

import jwt
import pytest
from quart import Quart

from tests.support.apiclient import PASSWORD, Api
from tests.support.app_fixtures import SECRET

ACCESS_KEY = hmac.new(SECRET.encode(), b"taskwire access jwt v1", "sha256").digest()


def forge(claims: dict, key: bytes = ACCESS_KEY, algorithm: str = "HS256", typ: str = "at+jwt") -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers={"typ": typ})


def valid_claims(user_id: str, **overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": "taskwire",
        "aud": "taskwire:access",
        "sub": user_id,
        "sid": "S1",
        "jti": "j",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


async def test_register_returns_a_session_and_a_personal_board(api: Api) -> None:
    status, body = await api.call(
        "POST", "/api/v1/auth/register", json={"email": "Ada@Example.test", "password": PASSWORD, "name": "Ada"}
    )
    assert status == 201
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["user"]["email"] == "ada@example.test" and body["user"]["name"] == "Ada"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    status, boards = await api.call("GET", "/api/v1/boards", headers=headers)
    assert status == 200 and len(boards["items"]) == 1 and boards["items"][0]["role"] == "owner"


async def test_same_email_in_another_case_is_refused_with_409(api: Api) -> None:
    await api.register(email="grace@example.test")
    status, body = await api.call(
        "POST", "/api/v1/auth/register", json={"email": "GRACE@example.TEST", "password": PASSWORD, "name": "G"}
    )
    assert status == 409 and body["error"]["code"] == "email_taken"


async def test_a_new_password_under_twelve_characters_is_refused(api: Api) -> None:
    status, body = await api.call(
        "POST", "/api/v1/auth/register", json={"email": "short@example.test", "password": "x" * 11, "name": "S"}
    )
    assert status == 422 and body["error"]["code"] == "password_too_short"
    assert "12" in body["error"]["message"]
    status, _ = await api.call("POST", "/api/v1/auth/login", json={"email": "short@example.test", "password": "x" * 11})
    assert status == 401  # nothing was created


@pytest.mark.parametrize("common", ["qwerty123456", "Password1234", " 1q2w3e4r5t6y7u8i9o0p "])
async def test_a_common_password_is_refused_at_registration_and_on_a_change(api: Api, common: str) -> None:
    status, body = await api.call(
        "POST", "/api/v1/auth/register", json={"email": "common@example.test", "password": common, "name": "C"}
    )
    assert status == 422 and body["error"]["code"] == "password_too_common"
    account = await api.register()
    status, body = await api.call(
        "PATCH", "/api/v1/users/me", account, json={"password": common, "current_password": PASSWORD}
    )
    assert status == 422 and body["error"]["code"] == "password_too_common"
    status, _ = await api.call("POST", "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
    assert status == 200  # the old password still works: nothing changed


async def test_an_account_whose_password_predates_the_rules_still_signs_in(app: Quart, api: Api) -> None:
    account = await api.register()
    runtime = app.extensions["taskwire"]
    stored = await runtime.store.get_user(account.id)
    stored.password_hash = await runtime.services.auth.hash_password("short pw")
    await runtime.store.update_user(stored)
    status, body = await api.call("POST", "/api/v1/auth/login", json={"email": account.email, "password": "short pw"})
    assert status == 200 and body["user"]["id"] == account.id


async def test_login_accepts_any_email_case_and_refuses_a_wrong_password(api: Api) -> None:
    account = await api.register()
    status, body = await api.call(
        "POST", "/api/v1/auth/login", json={"email": account.email.upper(), "password": PASSWORD}
    )
    assert status == 200 and body["user"]["id"] == account.id
    status, body = await api.call("POST", "/api/v1/auth/login", json={"email": account.email, "password": "x" * 12})
    assert status == 401 and body["error"]["code"] == "invalid_credentials"
    status, unknown = await api.call(
        "POST", "/api/v1/auth/login", json={"email": "nobody@example.test", "password": "x" * 12}
    )
    assert status == 401 and unknown["error"] == body["error"]


async def test_refresh_rotates_and_reuse_revokes_the_whole_session(api: Api) -> None:
    account = await api.register()
    status, first = await api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert status == 200 and first["refresh_token"] != account.refresh_token
    new_headers = {"Authorization": f"Bearer {first['access_token']}"}
    assert (await api.call("GET", "/api/v1/users/me", headers=new_headers))[0] == 200

    status, body = await api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert status == 401 and body["error"]["code"] == "refresh_token_reused"
    # The thief's and the owner's tokens of that session are all dead now.
    status, body = await api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert status == 401
    assert (await api.call("GET", "/api/v1/users/me", headers=new_headers))[0] == 401
    assert (await api.call("GET", "/api/v1/users/me", account))[0] == 401


async def test_logout_stops_the_access_and_refresh_tokens_at_once(api: Api) -> None:
    account = await api.register()
    other_session = await api.call("POST", "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
    status, _ = await api.call("POST", "/api/v1/auth/logout", json={"refresh_token": account.refresh_token})
    assert status == 204
    status, body = await api.call("GET", "/api/v1/users/me", account)
    assert status == 401 and body["error"]["code"] == "session_revoked"
    assert (await api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}))[0] == 401
    # Only that session ends: the user's other login still works.
    other_headers = {"Authorization": f"Bearer {other_session[1]['access_token']}"}
    assert (await api.call("GET", "/api/v1/users/me", headers=other_headers))[0] == 200


async def test_dashboard_cookie_session_keeps_the_refresh_token_out_of_the_body(api: Api) -> None:
    account = await api.register()
    cookie_mode = {"X-Taskwire-Session": "cookie"}
    response = await api.client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}, headers=cookie_mode
    )
    body = await response.get_json()
    assert response.status_code == 200 and body["refresh_token"] is None
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/api/v1/auth" in cookie
    response = await api.client.post("/api/v1/auth/refresh", json={}, headers=cookie_mode)
    assert response.status_code == 200
    # Without the header (a cross-site form could not add it) the cookie is ignored.
    response = await api.client.post("/api/v1/auth/refresh", json={})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda uid: forge(valid_claims(uid, exp=int(time.time()) - 5)), id="expired"),
        pytest.param(lambda uid: forge(valid_claims(uid), key=b"not-our-key-" * 4), id="forged-signature"),
        pytest.param(
            lambda uid: jwt.encode(valid_claims(uid), None, algorithm="none", headers={"typ": "at+jwt"}), id="alg-none"
        ),
        pytest.param(lambda uid: forge(valid_claims(uid, aud="taskwire:refresh")), id="wrong-audience"),
        pytest.param(lambda uid: forge(valid_claims(uid, iss="someone-else")), id="wrong-issuer"),
        pytest.param(lambda uid: forge(valid_claims(uid, jti=None)), id="missing-jti"),
        pytest.param(
            lambda uid: forge(valid_claims(uid, iat=int(time.time()) + 3600, exp=int(time.time()) + 7200)),
            id="not-yet-valid",
        ),
        pytest.param(lambda uid: forge(valid_claims(uid), typ="JWT"), id="wrong-type"),
        pytest.param(lambda uid: forge(valid_claims(uid), key=SECRET.encode()), id="raw-secret-key"),
        pytest.param(lambda uid: forge(valid_claims("01NOSUCHUSER0000000000000")), id="unknown-user"),
        pytest.param(lambda uid: "not.a.jwt", id="garbage"),
    ],
)
async def test_bad_access_tokens_are_refused_with_401(api: Api, make_token) -> None:
    account = await api.register()
    assert (await api.call("GET", "/api/v1/users/me", account))[0] == 200
    status, body = await api.call(
        "GET", "/api/v1/users/me", headers={"Authorization": f"Bearer {make_token(account.id)}"}
    )
    assert status == 401 and body["error"]["code"] in {"invalid_token", "token_expired"}


async def test_a_correctly_signed_token_is_accepted(api: Api) -> None:
    account = await api.register()
    token = forge(valid_claims(account.id))
    assert (await api.call("GET", "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}))[0] == 200


async def test_a_token_accepted_before_is_refused_once_it_expires(api: Api) -> None:
    """Verified tokens are remembered per process; their expiry is still checked on every use."""
    account = await api.register()
    expires = int(time.time()) + 2
    token = forge(valid_claims(account.id, exp=expires))
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.call("GET", "/api/v1/users/me", headers=headers))[0] == 200
    await asyncio.sleep(max(0.0, expires - time.time()) + 0.1)
    status, body = await api.call("GET", "/api/v1/users/me", headers=headers)
    assert (status, body["error"]["code"]) == (401, "token_expired")


async def test_me_can_be_renamed_and_password_changed(api: Api) -> None:
    account = await api.register()
    status, body = await api.call("PATCH", "/api/v1/users/me", account, json={"name": "Renamed"})
    assert status == 200 and body["name"] == "Renamed"
    status, body = await api.call(
        "PATCH", "/api/v1/users/me", account, json={"password": "another long one", "current_password": PASSWORD}
    )
    assert status == 200
    assert (
        await api.call("POST", "/api/v1/auth/login", json={"email": account.email, "password": "another long one"})
    )[0] == 200
    assert (await api.call("POST", "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}))[0] == 401


async def test_a_password_change_needs_the_current_password(api: Api) -> None:
    account = await api.register()
    status, body = await api.call("PATCH", "/api/v1/users/me", account, json={"password": "another long one"})
    assert (status, body["error"]["code"]) == (422, "current_password_required")
    status, body = await api.call(
        "PATCH",
        "/api/v1/users/me",
        account,
        json={"name": "Thief", "password": "another long one", "current_password": "a guess!!"},
    )
    assert (status, body["error"]["code"]) == (403, "invalid_password")
    _, me = await api.call("GET", "/api/v1/users/me", account)
    assert me["name"] == account.name  # nothing of a refused change is kept
    assert (await api.call("POST", "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}))[0] == 200


async def test_a_password_change_ends_every_other_session_and_keeps_this_one(api: Api) -> None:
    account = await api.register()
    others = [
        (await api.call("POST", "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}))[1]
        for _ in range(2)
    ]
    status, _ = await api.call(
        "PATCH", "/api/v1/users/me", account, json={"password": "another long one", "current_password": PASSWORD}
    )
    assert status == 200
    for other in others:
        status, body = await api.call(
            "GET", "/api/v1/users/me", headers={"Authorization": f"Bearer {other['access_token']}"}
        )
        assert (status, body["error"]["code"]) == (401, "session_revoked")
        status, body = await api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
        assert (status, body["error"]["code"]) == (401, "session_revoked")
    assert (await api.call("GET", "/api/v1/users/me", account))[0] == 200
    status, pair = await api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert status == 200
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert (await api.call("GET", "/api/v1/users/me", headers=headers))[0] == 200


async def test_login_with_an_unknown_email_is_as_slow_as_with_a_wrong_password(settings) -> None:
    """No account enumeration by timing: both paths run one argon2 verification. Measured
    as the process's CPU time, which, unlike the wall clock, other work on the machine
    does not stretch."""
    import statistics

    from app.factory import create_app

    costly = settings.model_copy(update=dict(argon2_time_cost=2, argon2_memory_kib=32768))
    application = create_app(costly)
    async with application.test_app():
        api = Api(application.test_client())
        account = await api.register()

        async def median_login_seconds(emails: list[str]) -> float:
            samples = []
            for email in emails:
                started = time.process_time()
                status, _ = await api.call("POST", "/api/v1/auth/login", json={"email": email, "password": "w" * 12})
                samples.append(time.process_time() - started)
                assert status == 401
            return statistics.median(samples)

        # The account was registered from this address, so its failures are never delayed;
        # an unknown email's would be (after five), hence a new one each time.
        wrong_password = await median_login_seconds([account.email] * 7)
        unknown_email = await median_login_seconds([f"nobody-{n}@example.test" for n in range(7)])
    assert unknown_email > wrong_password * 0.6, (unknown_email, wrong_password)
