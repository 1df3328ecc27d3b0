"""Single sign-on against a real OpenID Provider (panva/oidc-provider on Node, started on
loopback), on both stores: the first sign-in creates the account, later ones find it by
``sub``, a verified email links an existing account; and every way a sign-in is refused:
wrong or missing state, a replayed callback, a replayed code, an expired ID token (the
service's clock set ahead), an ID token for another audience, an unverified email, a
domain not allowed, a rotated signing key."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from quart import Quart

from app.domain import clock
from app.factory import create_app
from app.services.oidc import SignOnError
from app.settings import OidcProvider
from tests.oidc.provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    OTHER_CLIENT_ID,
    OTHER_CLIENT_SECRET,
    OpenIDProvider,
    openid_provider,
    sign_in_at_provider,
    signing_key,
)
from tests.support.apiclient import PASSWORD, Api

pytestmark = pytest.mark.processes

PUBLIC_URL = "http://taskwire.test"
CALLBACK = f"{PUBLIC_URL}/api/v1/auth/sso/testidp/callback"
OTHER_REDIRECT = "http://another-app.test/callback"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIDProvider]:
    with openid_provider(tmp_path_factory.mktemp("openid-provider"), [CALLBACK, OTHER_REDIRECT]) as running:
        yield running


@pytest.fixture
async def sso_app(settings, provider: OpenIDProvider) -> AsyncIterator[Quart]:
    entry = OidcProvider(**provider.settings(allowed_domains=("example.test",)))
    app = create_app(settings.model_copy(update={"oidc_providers": (entry,), "public_url": PUBLIC_URL}))
    async with app.test_app():
        yield app


@pytest.fixture
def api(sso_app: Quart) -> Api:
    return Api(sso_app.test_client())


async def to_provider(api: Api) -> str:
    response = await api.client.get("/api/v1/auth/sso/testidp/start")
    assert response.status_code == 303
    assert "taskwire_sso=" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    return response.headers["Location"]


async def at_provider(provider: OpenIDProvider, authorization_url: str, login: str) -> str:
    async with httpx.AsyncClient(base_url=provider.issuer) as http:
        return await sign_in_at_provider(http, authorization_url, login)


async def back_at_taskwire(api: Api, callback_url: str) -> str:
    assert callback_url.startswith(CALLBACK), callback_url
    response = await api.client.get(callback_url.removeprefix(PUBLIC_URL))
    assert response.status_code == 303
    return response.headers["Location"]


async def sso(api: Api, provider: OpenIDProvider, login: str) -> str:
    """A whole sign-in; where the dashboard lands."""
    return await back_at_taskwire(api, await at_provider(provider, await to_provider(api), login))


async def session_user(api: Api) -> dict | None:
    response = await api.client.post("/api/v1/auth/refresh", json={}, headers={"X-Taskwire-Session": "cookie"})
    return (await response.get_json())["user"] if response.status_code == 200 else None


def error_of(location: str) -> str:
    assert location.startswith("/signin?"), location
    return parse_qs(urlsplit(location).query)["sso_error"][0]


async def test_the_providers_are_listed_for_the_sign_in_page(api: Api) -> None:
    status, body = await api.call("GET", "/api/v1/auth/sso/providers")
    assert status == 200
    assert body["items"] == [{"id": "testidp", "name": "Test IdP", "start_url": "/api/v1/auth/sso/testidp/start"}]
    status, body = await api.call("GET", "/api/v1/auth/sso/nobody/start")
    assert status == 404 and body["error"]["code"] == "sso_provider_not_found"


async def test_the_authorization_request_uses_pkce_state_and_nonce(api: Api, provider: OpenIDProvider) -> None:
    url = urlsplit(await to_provider(api))
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}" == provider.issuer
    assert query["response_type"] == "code" and query["client_id"] == "taskwire"
    assert query["redirect_uri"] == CALLBACK and query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32 and query["code_challenge"]
    assert "openid" in query["scope"].split()


async def test_the_first_sign_in_creates_the_account_and_later_ones_find_it(api: Api, provider) -> None:
    assert await sso(api, provider, "ada") == "/?signed_in=sso"
    user = await session_user(api)
    assert user["email"] == "ada@example.test" and user["name"] == "Ada Lovelace"
    response = await api.client.post("/api/v1/auth/refresh", json={}, headers={"X-Taskwire-Session": "cookie"})
    body = await response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900  # the usual session
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    status, boards = await api.call("GET", "/api/v1/boards", headers=headers)
    assert status == 200 and [board["role"] for board in boards["items"]] == ["owner"]  # a personal board
    # The account has a password nobody knows: signing in with any is refused.
    status, _ = await api.call("POST", "/api/v1/auth/login", json={"email": "ada@example.test", "password": PASSWORD})
    assert status == 401

    assert await sso(api, provider, "ada") == "/?signed_in=sso"
    assert (await session_user(api))["id"] == user["id"]


async def test_a_verified_email_links_the_existing_account_once_confirmed_here(
    sso_app: Quart, api: Api, provider
) -> None:
    account = await api.register(name="Linker", email="linker@example.test")
    # Whoever registered the address never proved it is theirs: no link to its owner's provider account.
    assert error_of(await sso(api, provider, "linker")) == "sso_account_unverified"
    store = sso_app.extensions["taskwire"].store
    assert await store.get_identity("testidp", "linker") is None
    await store.mark_email_verified(account.id, account.email, clock.now())  # as its confirmation link does
    assert await sso(api, provider, "linker") == "/?signed_in=sso"
    assert (await session_user(api))["id"] == account.id
    status, _ = await api.call("POST", "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
    assert status == 200  # the password still works too


async def test_an_unverified_email_neither_creates_nor_links_an_account(sso_app: Quart, api: Api, provider) -> None:
    victim = await api.register(name="Victim", email="victim@example.test")
    assert error_of(await sso(api, provider, "unverified-linker")) == "sso_email_not_verified"
    assert error_of(await sso(api, provider, "mallory")) == "sso_email_not_verified"
    store = sso_app.extensions["taskwire"].store
    assert await store.get_user_by_email("mallory@example.test") is None
    assert await store.get_identity("testidp", "unverified-linker") is None
    assert (await store.get_user(victim.id)).email == "victim@example.test"


async def test_an_email_domain_that_is_not_allowed_is_refused(sso_app: Quart, api: Api, provider) -> None:
    assert error_of(await sso(api, provider, "outsider")) == "sso_email_domain_not_allowed"
    assert await sso_app.extensions["taskwire"].store.get_user_by_email("eve@elsewhere.test") is None


async def test_a_wrong_or_missing_state_is_refused(api: Api, provider) -> None:
    callback = await at_provider(provider, await to_provider(api), "ada")
    state = parse_qs(urlsplit(callback).query)["state"][0]
    assert error_of(await back_at_taskwire(api, callback.replace(state, "forged" + state[6:]))) == "sso_invalid_state"
    # The same callback in a browser that did not start the sign-in (no binding cookie).
    callback = await at_provider(provider, await to_provider(api), "ada")
    api.client.cookie_jar.clear()
    assert error_of(await back_at_taskwire(api, callback)) == "sso_invalid_state"
    assert await session_user(api) is None


async def test_a_replayed_callback_and_a_replayed_code_are_refused(api: Api, provider) -> None:
    callback = await at_provider(provider, await to_provider(api), "grace")
    assert await back_at_taskwire(api, callback) == "/?signed_in=sso"
    assert error_of(await back_at_taskwire(api, callback)) == "sso_invalid_state"
    # The spent code with a fresh state of this browser: the provider refuses the code.
    fresh = await to_provider(api)
    fresh_state = parse_qs(urlsplit(fresh).query)["state"][0]
    old_state = parse_qs(urlsplit(callback).query)["state"][0]
    assert error_of(await back_at_taskwire(api, callback.replace(old_state, fresh_state))) == "sso_code_rejected"


async def test_an_expired_id_token_is_refused(sso_app: Quart, api: Api, provider) -> None:
    oidc = sso_app.extensions["taskwire"].services.oidc
    callback = await at_provider(provider, await to_provider(api), "ada")
    real = oidc.clock
    oidc.clock = lambda: real() + 2 * 3600  # the ID token lives an hour
    assert error_of(await back_at_taskwire(api, callback)) == "sso_id_token_expired"
    assert await session_user(api) is None


async def id_token(
    provider: OpenIDProvider,
    nonce: str,
    client: tuple[str, str] = (OTHER_CLIENT_ID, OTHER_CLIENT_SECRET),
    redirect_uri: str = OTHER_REDIRECT,
) -> str:
    """A real ID token the provider issued to ``client`` (by default another app: its audience)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    async with httpx.AsyncClient(base_url=provider.issuer) as http:
        url = str(
            httpx.URL(
                f"{provider.issuer}/auth",
                params={
                    "client_id": client[0],
                    "response_type": "code",
                    "scope": "openid email",
                    "redirect_uri": redirect_uri,
                    "state": "s",
                    "nonce": nonce,
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                },
            )
        )
        back = await sign_in_at_provider(http, url, "ada")
        code = parse_qs(urlsplit(back).query)["code"][0]
        response = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=client,
        )
        return response.json()["id_token"]


async def test_an_id_token_for_another_audience_is_refused(sso_app: Quart, provider) -> None:
    oidc = sso_app.extensions["taskwire"].services.oidc
    token = await id_token(provider, "n-1")
    with pytest.raises(SignOnError) as refused:
        await oidc.check_id_token("testidp", token, "n-1")
    assert refused.value.code == "sso_invalid_id_token"
    with pytest.raises(SignOnError):
        await oidc.check_id_token("testidp", token + "x", "n-1")  # a broken signature


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_rotated_signing_key_is_fetched_and_the_retired_one_refused(
    sso_app: Quart, api: Api, provider: OpenIDProvider
) -> None:
    oidc = sso_app.extensions["taskwire"].services.oidc
    assert await sso(api, provider, "ada") == "/?signed_in=sso"  # the JWKS holds key-1 now
    retired = await id_token(provider, "n-2", (CLIENT_ID, CLIENT_SECRET), CALLBACK)
    assert (await oidc.check_id_token("testidp", retired, "n-2"))["sub"] == "ada"
    provider.restart(keys=[signing_key("key-2")])
    try:
        api.client.cookie_jar.clear()
        assert await sso(api, provider, "ada") == "/?signed_in=sso"  # signed with key-2: fetched
        assert (await session_user(api))["email"] == "ada@example.test"
        # A token signed with the retired key: the provider no longer publishes it.
        with pytest.raises(SignOnError) as refused:
            await oidc.check_id_token("testidp", retired, "n-2")
        assert refused.value.code == "sso_invalid_id_token"
    finally:
        provider.restart(keys=[signing_key("key-1")])


async def session_headers(api: Api) -> dict[str, str]:
    response = await api.client.post("/api/v1/auth/refresh", json={}, headers={"X-Taskwire-Session": "cookie"})
    return {"Authorization": f"Bearer {(await response.get_json())['access_token']}"}


async def test_an_account_made_by_single_sign_on_has_no_password_and_confirms_by_a_recent_sign_in(
    sso_app: Quart, api: Api, provider
) -> None:
    assert await sso(api, provider, "grace") == "/?signed_in=sso"
    headers = await session_headers(api)
    status, me = await api.call("GET", "/api/v1/users/me", headers=headers)
    assert (me["has_password"], me["email_verified"]) == (False, True)
    # Within ten minutes of signing in, the sign-in stands in for the password nobody has.
    status, body = await api.call("POST", "/api/v1/users/me/two-factor", json={}, headers=headers)
    assert status == 201 and body["secret"]
    status, body = await api.call(
        "PUT", "/api/v1/users/me/email", json={"email": "grace.h@example.test"}, headers=headers
    )
    assert (status, body["email"]) == (200, "grace.h@example.test")  # no SMTP here: at once

    clock.travel(timedelta(minutes=11))
    try:
        headers = await session_headers(api)  # a refreshed session is as old as its sign-in
        for path, payload in (
            ("/api/v1/users/me/two-factor", {}),
            ("/api/v1/users/me/email", {"email": "grace@example.test"}),
            ("/api/v1/users/me/delete", {}),
        ):
            status, body = await api.call(
                "PUT" if path.endswith("email") else "POST", path, json=payload, headers=headers
            )
            assert (status, body["error"]["code"]) == (403, "reauthentication_required"), path
            assert body["error"]["details"] == {"providers": ["testidp"], "max_age_seconds": 600}
        # A password given for an account that has none does not help.
        status, body = await api.call(
            "POST", "/api/v1/users/me/two-factor", json={"password": PASSWORD}, headers=headers
        )
        assert (status, body["error"]["code"]) == (403, "reauthentication_required")

        # Signing in again: the provider is asked to ask again, and the browser comes back to the account page.
        response = await api.client.get("/api/v1/auth/sso/testidp/start?reauthenticate=true")
        authorization = response.headers["Location"]
        assert parse_qs(urlsplit(authorization).query)["prompt"] == ["login"]
        landing = await back_at_taskwire(api, await at_provider(provider, authorization, "grace"))
        assert landing == "/account?signed_in=sso"
        headers = await session_headers(api)
        status, body = await api.call("POST", "/api/v1/users/me/two-factor", json={}, headers=headers)
        assert status == 201
        # A first password, set with the recent sign-in; then the password is what confirms.
        status, _ = await api.call(
            "PATCH", "/api/v1/users/me", json={"password": "a first real passphrase"}, headers=headers
        )
        assert status == 200
        status, body = await api.call("POST", "/api/v1/users/me/two-factor", json={}, headers=headers)
        assert (status, body["error"]["code"]) == (422, "current_password_required")
    finally:
        clock.travel(-timedelta(minutes=11))
    status, _ = await api.call(
        "POST", "/api/v1/auth/login", json={"email": "grace.h@example.test", "password": "a first real passphrase"}
    )
    assert status == 200


async def test_an_api_token_cannot_stand_in_for_a_recent_sign_in(api: Api, provider) -> None:
    assert await sso(api, provider, "ada") == "/?signed_in=sso"
    headers = await session_headers(api)
    status, token = await api.call(
        "POST", "/api/v1/tokens", json={"name": "ci", "scopes": ["read", "write"]}, headers=headers
    )
    assert status == 201, token
    token_headers = {"Authorization": f"Bearer {token['token']}"}
    status, body = await api.call("POST", "/api/v1/users/me/two-factor", json={}, headers=token_headers)
    assert (status, body["error"]["code"]) == (403, "session_required")
