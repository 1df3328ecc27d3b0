"""The instance administrator over the API, on both stores: who it is, the accounts list,
disabling and re-enabling an account, open registration and the instance's figures."""

from __future__ import annotations

import pytest
from quart import Quart

from app.factory import create_app
from tests.support.apiclient import PASSWORD, Api


async def register(api: Api, email: str) -> tuple[int, dict]:
    return await api.call("POST", "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "N"})


async def test_the_first_account_administers_and_the_second_does_not(api: Api) -> None:
    first, second = await api.register(), await api.register()
    assert (await api.call("GET", "/api/v1/users/me", first))[1]["is_admin"] is True
    assert (await api.call("GET", "/api/v1/users/me", second))[1]["is_admin"] is False
    status, body = await api.call("GET", "/api/v1/admin/accounts", second)
    assert status == 403 and body["error"]["code"] == "admin_required"
    status, body = await api.call("GET", "/api/v1/admin/accounts?limit=1", first)
    assert status == 200 and [item["id"] for item in body["items"]] == [first.id]
    assert body["items"][0]["is_admin"] is True and "disabled_at" not in body["items"][0]
    status, page = await api.call("GET", f"/api/v1/admin/accounts?limit=1&cursor={body['next_cursor']}", first)
    assert [item["id"] for item in page["items"]] == [second.id] and page["next_cursor"] is None


async def test_an_api_token_administers_nothing(api: Api) -> None:
    admin = await api.register()
    status, token = await api.call("POST", "/api/v1/tokens", admin, json={"name": "ops", "scopes": ["read", "write"]})
    status, body = await api.call(
        "GET", "/api/v1/admin/instance", headers={"Authorization": f"Bearer {token['token']}"}
    )
    assert status == 403 and body["error"]["code"] == "session_required"


async def test_the_admin_named_by_setting_is_the_only_admin(settings, tmp_path) -> None:
    app = create_app(settings.model_copy(update={"admin_emails": ("boss@example.test",)}))
    async with app.test_app():
        api = Api(app.test_client())
        first = await api.register()
        boss = await api.register(email="boss@example.test")
        assert (await api.call("GET", "/api/v1/users/me", first))[1]["is_admin"] is False
        assert (await api.call("GET", "/api/v1/users/me", boss))[1]["is_admin"] is True
        assert (await api.call("GET", "/api/v1/admin/instance", first))[0] == 403
        assert (await api.call("GET", "/api/v1/admin/instance", boss))[0] == 200


async def test_disabling_refuses_sign_in_tokens_and_refresh_until_enabled_again(api: Api) -> None:
    admin, user = await api.register(), await api.register()
    status, token = await api.call("POST", "/api/v1/tokens", user, json={"name": "bot", "scopes": ["read"]})
    bot = {"Authorization": f"Bearer {token['token']}"}

    status, body = await api.call("PATCH", f"/api/v1/admin/accounts/{user.id}", admin, json={"disabled": True})
    assert status == 200 and body["disabled_at"]
    status, body = await api.call("GET", "/api/v1/users/me", user)
    assert status == 401 and body["error"]["code"] == "session_revoked"
    status, body = await api.call("GET", "/api/v1/boards", headers=bot)
    assert status == 401 and body["error"]["code"] == "account_disabled"
    status, body = await api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert status == 401
    status, body = await api.call("POST", "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert status == 401 and body["error"]["code"] == "account_disabled"
    status, body = await api.call("POST", "/api/v1/auth/login", json={"email": user.email, "password": "wrong" * 3})
    assert status == 401 and body["error"]["code"] == "invalid_credentials"  # no hint without the password

    status, body = await api.call("PATCH", f"/api/v1/admin/accounts/{user.id}", admin, json={"disabled": False})
    assert status == 200 and "disabled_at" not in body
    status, body = await api.call("POST", "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert status == 200
    assert (await api.call("GET", "/api/v1/boards", headers=bot))[0] == 200


async def test_an_admin_cannot_be_disabled_and_unknown_accounts_are_404(api: Api) -> None:
    admin, user = await api.register(), await api.register()
    status, body = await api.call("PATCH", f"/api/v1/admin/accounts/{admin.id}", admin, json={"disabled": True})
    assert status == 403 and body["error"]["code"] == "cannot_disable_admin"
    status, body = await api.call("PATCH", "/api/v1/admin/accounts/nobody", admin, json={"disabled": True})
    assert status == 404 and body["error"]["code"] == "user_not_found"
    status, body = await api.call("PATCH", f"/api/v1/admin/accounts/{admin.id}", user, json={"disabled": True})
    assert status == 403 and body["error"]["code"] == "admin_required"
    status, body = await api.call("PATCH", f"/api/v1/admin/accounts/{user.id}", admin, json={"disabled": "yes"})
    assert status == 422, body
    assert (await api.call("GET", "/api/v1/users/me", user))[0] == 200


async def test_closing_registration_refuses_new_accounts_and_shows_in_the_figures(api: Api) -> None:
    admin = await api.register()
    member = await api.register()
    await api.task(member, member.personal_board)
    status, body = await api.call("PATCH", "/api/v1/admin/instance", admin, json={"registration_open": False})
    assert status == 200 and body["registration_open"] is False
    assert body["figures"] == {"users": 2, "disabled_users": 0, "boards": 2, "tasks": 1, "comments": 0}
    status, body = await register(api, "late@example.test")
    assert status == 403 and body["error"]["code"] == "registration_closed"
    # Signing in is not registering.
    status, _ = await api.call("POST", "/api/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    assert status == 200
    status, body = await api.call("PATCH", "/api/v1/admin/instance", admin, json={"registration_open": True})
    assert body["registration_open"] is True
    assert (await register(api, "late@example.test"))[0] == 201


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_setting_closes_registration_whatever_the_switch_says(app: Quart, settings) -> None:
    closed = create_app(settings.model_copy(update={"registration_open": False}))
    async with closed.test_app():
        api = Api(closed.test_client())
        status, body = await register(api, "first@example.test")
        assert status == 403 and body["error"]["code"] == "registration_closed"
        # An invitation or single sign-on passes allow_when_closed.
        auth = closed.extensions["taskwire"].services.auth
        user = await auth.register("first@example.test", PASSWORD, "First", "127.0.0.1", allow_when_closed=True)
        status, login = await api.call("POST", "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
        assert status == 200
        headers = {"Authorization": f"Bearer {login['access_token']}"}
        status, body = await api.call(
            "PATCH", "/api/v1/admin/instance", json={"registration_open": True}, headers=headers
        )
        assert status == 200 and body["registration_open"] is False and body["registration_closed_by_setting"] is True
