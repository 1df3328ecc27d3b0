"""Rate limits: per IP on the auth endpoints, per user on the rest, 429 with Retry-After."""

from __future__ import annotations

import asyncio

from werkzeug.datastructures import Headers

from app.factory import create_app
from tests.support.apiclient import PASSWORD, Api


async def test_the_eleventh_login_in_a_minute_is_refused_with_retry_after(settings) -> None:
    application = create_app(settings.model_copy(update=dict(rate_limit_auth_per_minute=10)))
    async with application.test_app():
        api = Api(application.test_client())
        account = await api.register()
        statuses = []
        for _ in range(11):
            status, body = await api.call(
                "POST", "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
            )
            statuses.append(status)
        assert statuses == [200] * 10 + [429]
        assert body["error"]["code"] == "rate_limited"
        response = await api.client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
        assert response.status_code == 429 and 1 <= int(response.headers["Retry-After"]) <= 60
        assert response.headers["RateLimit-Policy"] == "10;w=60"
        # Another client address has its own budget.
        response = await api.client.post(
            "/api/v1/auth/login",
            json={"email": account.email, "password": PASSWORD},
            scope_base={"client": ("10.9.8.7", 1234)},
        )
        assert response.status_code == 200


async def test_forwarded_for_is_believed_only_from_trusted_proxies(settings) -> None:
    limited = settings.model_copy(update=dict(rate_limit_auth_per_minute=1, trusted_proxies=("10.0.0.0/8",)))
    application = create_app(limited)
    async with application.test_app():
        client = application.test_client()
        body = {"email": "nobody@example.test", "password": "x" * 12}
        proxy = {"client": ("10.0.0.2", 1)}
        first = await client.post(
            "/api/v1/auth/login", json=body, headers={"X-Forwarded-For": "203.0.113.1"}, scope_base=proxy
        )
        second = await client.post(
            "/api/v1/auth/login", json=body, headers={"X-Forwarded-For": "203.0.113.2"}, scope_base=proxy
        )
        assert (first.status_code, second.status_code) == (401, 401)  # two real clients, one attempt each
        spoofer = {"client": ("198.51.100.9", 1)}
        third = await client.post(
            "/api/v1/auth/login", json=body, headers={"X-Forwarded-For": "203.0.113.3"}, scope_base=spoofer
        )
        fourth = await client.post(
            "/api/v1/auth/login", json=body, headers={"X-Forwarded-For": "203.0.113.4"}, scope_base=spoofer
        )
        assert (third.status_code, fourth.status_code) == (401, 429)  # the header did not help the spoofer


async def test_authenticated_calls_are_limited_per_user(settings) -> None:
    application = create_app(settings.model_copy(update=dict(rate_limit_api_per_minute=5)))
    async with application.test_app():
        api = Api(application.test_client())
        alice, bob = await api.register(), await api.register()
        statuses = [(await api.call("GET", "/api/v1/users/me", alice))[0] for _ in range(6)]
        assert statuses[-1] == 429 and statuses.count(200) >= 4
        assert (await api.call("GET", "/api/v1/users/me", bob))[0] == 200


async def _login(api: Api, email: str, password: str, address: str) -> tuple[int, dict, Headers]:
    response = await api.client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, scope_base={"client": (address, 1234)}
    )
    return response.status_code, await response.get_json(), response.headers


async def test_failed_sign_ins_on_one_account_make_strangers_wait_longer_each_time(api: Api) -> None:
    account = await api.register()  # from the test client's own address
    # Five wrong passwords from five addresses cost nothing; the sixth starts a delay.
    for number in range(6):
        assert (await _login(api, account.email, "a wrong guess", f"198.51.100.{number}"))[0] == 401
    status, body, headers = await _login(api, account.email, PASSWORD, "198.51.100.77")
    assert (status, body["error"]["code"]) == (429, "too_many_failed_sign_ins") and headers["Retry-After"] == "1"
    # The owner, at an address the account was used from, is not held up.
    assert (await api.call("POST", "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}))[0] == 200
    await asyncio.sleep(1.05)
    assert (await _login(api, account.email, "a wrong guess", "198.51.100.8"))[0] == 401
    status, _, headers = await _login(api, account.email, PASSWORD, "198.51.100.77")
    assert status == 429 and headers["Retry-After"] == "2"  # growing
    await asyncio.sleep(2.05)
    assert (await _login(api, account.email, PASSWORD, "198.51.100.77"))[0] == 200


async def test_unknown_emails_are_delayed_like_accounts_so_answers_reveal_nothing(api: Api) -> None:
    for _ in range(6):
        assert (await _login(api, "nobody@example.test", "a wrong guess", "198.51.100.1"))[0] == 401
    status, body, _ = await _login(api, "nobody@example.test", "a wrong guess", "198.51.100.1")
    assert (status, body["error"]["code"]) == (429, "too_many_failed_sign_ins")


async def test_wrong_current_passwords_count_as_failed_sign_ins(api: Api) -> None:
    account = await api.register()
    for _ in range(6):
        status, body = await api.call(
            "PATCH",
            "/api/v1/users/me",
            account,
            json={"password": "new long password", "current_password": "a wrong guess"},
            scope_base={"client": ("198.51.100.9", 1)},
        )
        assert (status, body["error"]["code"]) == (403, "invalid_password")
    status, body = await api.call(
        "PATCH",
        "/api/v1/users/me",
        account,
        json={"password": "new long password", "current_password": PASSWORD},
        scope_base={"client": ("198.51.100.9", 1)},
    )
    assert (status, body["error"]["code"]) == (429, "too_many_failed_sign_ins")
