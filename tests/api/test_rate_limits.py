"""Rate limits: per IP on the auth endpoints, per user on the rest, 429 with Retry-After."""

from __future__ import annotations


from app.factory import create_app
from tests.support.apiclient import PASSWORD, Api


async def test_the_eleventh_login_in_a_minute_is_refused_with_retry_after(settings) -> None:
    application = create_app(settings.model_copy(update=dict(rate_limit_auth_per_minute=10)))
    async with application.test_app():
        api = Api(application.test_client())
        account = await api.register()
        statuses = []
        for _ in range(11):
            status, body = await api.call("POST", "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
            statuses.append(status)
        assert statuses == [200] * 10 + [429]
        assert body["error"]["code"] == "rate_limited"
        response = await api.client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
        assert response.status_code == 429 and 1 <= int(response.headers["Retry-After"]) <= 60
        assert response.headers["RateLimit-Policy"] == "10;w=60"
        # Another client address has its own budget.
        response = await api.client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD},
                                         scope_base={"client": ("10.9.8.7", 1234)})
        assert response.status_code == 200


async def test_forwarded_for_is_believed_only_from_trusted_proxies(settings) -> None:
    limited = settings.model_copy(update=dict(rate_limit_auth_per_minute=1, trusted_proxies=("10.0.0.0/8",)))
    application = create_app(limited)
    async with application.test_app():
        client = application.test_client()
        body = {"email": "nobody@example.test", "password": "x" * 12}
        proxy = {"client": ("10.0.0.2", 1)}
        first = await client.post("/api/v1/auth/login", json=body, headers={"X-Forwarded-For": "203.0.113.1"},
                                  scope_base=proxy)
        second = await client.post("/api/v1/auth/login", json=body, headers={"X-Forwarded-For": "203.0.113.2"},
                                   scope_base=proxy)
        assert (first.status_code, second.status_code) == (401, 401)  # two real clients, one attempt each
        spoofer = {"client": ("198.51.100.9", 1)}
        third = await client.post("/api/v1/auth/login", json=body, headers={"X-Forwarded-For": "203.0.113.3"},
                                  scope_base=spoofer)
        fourth = await client.post("/api/v1/auth/login", json=body, headers={"X-Forwarded-For": "203.0.113.4"},
                                   scope_base=spoofer)
        assert (third.status_code, fourth.status_code) == (401, 429)  # the header did not help the spoofer


async def test_authenticated_calls_are_limited_per_user(settings) -> None:
    application = create_app(settings.model_copy(update=dict(rate_limit_api_per_minute=5)))
    async with application.test_app():
        api = Api(application.test_client())
        alice, bob = await api.register(), await api.register()
        statuses = [(await api.call("GET", "/api/v1/users/me", alice))[0] for _ in range(6)]
        assert statuses[-1] == 429 and statuses.count(200) >= 4
        assert (await api.call("GET", "/api/v1/users/me", bob))[0] == 200
