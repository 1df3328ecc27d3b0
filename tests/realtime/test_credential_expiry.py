"""Open streams end with their credential. An access-token socket is told ahead
(``auth.expiring``) and may renew in-band with a fresh access token of its session; one
that does not is closed with 4401 when the token expires. An API token's socket is closed
when the token expires. An event stream ends with ``event: error`` ``session_expired``.
Access tokens live 3 s here."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from app.domain import clock
from app.settings import Settings
from tests.realtime.client import WsClient
from tests.realtime.conftest import LiveApp
from tests.realtime.sse_client import SseStream
from tests.support.apiclient import PASSWORD, Account

TOKEN_SECONDS = 4


@pytest.fixture
def ws_settings(ws_settings: Settings) -> Settings:
    return ws_settings.model_copy(update=dict(access_token_ttl_seconds=TOKEN_SECONDS, ws_auth_timeout_seconds=5))


def _left(expires_at: str) -> float:
    return clock.parse_time(expires_at).timestamp() - time.time()


async def _socket(live: LiveApp, account: Account) -> tuple[WsClient, dict]:
    client = await WsClient.open(live.ws_url)
    ready = await client.auth(account.access_token)
    assert ready["type"] == "ready" and 0 < _left(ready["expires_at"]) <= TOKEN_SECONDS, ready
    await client.subscribe(account.personal_board)
    return client, ready


async def _fresh_access_token(live: LiveApp, account: Account) -> str:
    status, body = await live.api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert status == 200, body
    account.refresh_token = body["refresh_token"]
    return body["access_token"]


async def test_an_access_token_socket_is_asked_to_renew_then_closed_with_4401_when_it_does_not(live: LiveApp) -> None:
    alice = await live.api.register()
    client, ready = await _socket(live, alice)
    expiring = await client.recv_type("auth.expiring", timeout=TOKEN_SECONDS)
    assert expiring == {"type": "auth.expiring", "expires_at": ready["expires_at"]}
    assert _left(expiring["expires_at"]) > 0  # ahead of the expiry
    assert await client.closed_with(timeout=TOKEN_SECONDS + 1) == 4401
    assert _left(ready["expires_at"]) < 0.5


async def test_renewing_in_band_with_a_fresh_token_of_the_session_keeps_the_socket_open(live: LiveApp) -> None:
    alice = await live.api.register()
    client, ready = await _socket(live, alice)
    await asyncio.sleep(1.1)  # the fresh token's exp (whole seconds) lies beyond the first one's
    # Fetched before the notice, so that the renewal answers it at once: between the notice
    # and the expiry there may be only a second, less than a refresh takes on a loaded box.
    fresh = await _fresh_access_token(live, alice)
    await client.recv_type("auth.expiring", timeout=TOKEN_SECONDS)
    await client.send({"type": "auth", "token": fresh, "id": "renew"})
    renewed = await client.recv_type("auth.renewed")
    assert renewed["id"] == "renew" and renewed["expires_at"] > ready["expires_at"]
    await asyncio.sleep(max(_left(ready["expires_at"]), 0) + 0.3)  # past the first token's end
    await client.send({"type": "ping", "id": "still"})
    assert (await client.recv_type("pong"))["id"] == "still"
    status, _ = await live.api.call(
        "POST",
        f"/api/v1/boards/{alice.personal_board}/tasks",
        json={"title": "live"},
        headers={"Authorization": f"Bearer {await _fresh_access_token(live, alice)}"},
    )
    assert status == 201 and (await client.recv_type("event"))["event"] == "task.created"
    assert await client.closed_with(timeout=TOKEN_SECONDS + 1) == 4401  # the renewed token runs out too


async def test_a_token_of_another_session_or_an_api_token_does_not_renew(live: LiveApp) -> None:
    alice = await live.api.register()
    client, ready = await _socket(live, alice)
    status, other_session = await live.api.call(
        "POST", "/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD}
    )
    assert status == 200
    await client.send({"type": "auth", "token": other_session["access_token"], "id": "other"})
    refused = await client.recv_type("error")
    assert (refused["code"], refused["id"]) == ("invalid_token", "other")
    status, api_token = await live.api.call("POST", "/api/v1/tokens", alice, json={"name": "t", "scopes": ["read"]})
    await client.send({"type": "auth", "token": api_token["token"], "id": "api"})
    refused = await client.recv_type("error")
    assert (refused["code"], refused["id"]) == ("invalid_message", "api")
    assert await client.closed_with(timeout=TOKEN_SECONDS + 1) == 4401
    assert _left(ready["expires_at"]) < 0.5


async def test_an_api_token_socket_is_closed_with_4401_when_the_token_expires(live: LiveApp) -> None:
    alice = await live.api.register()
    expires_at = clock.format_time(datetime.now(UTC) + timedelta(seconds=2))
    status, token = await live.api.call(
        "POST", "/api/v1/tokens", alice, json={"name": "short", "scopes": ["read"], "expires_at": expires_at}
    )
    assert status == 201, token
    client = await WsClient.open(live.ws_url)
    ready = await client.auth(token["token"])
    assert ready["type"] == "ready" and ready["expires_at"] == token["expires_at"]
    await client.subscribe(alice.personal_board)
    assert await client.closed_with(timeout=4) == 4401
    assert _left(token["expires_at"]) < 0.5


async def test_an_event_stream_ends_with_session_expired_when_its_token_expires(live: LiveApp) -> None:
    alice = await live.api.register()
    stream = await SseStream.open(f"http://127.0.0.1:{live.port}", alice.personal_board, alice.access_token)
    assert stream.response.status_code == 200
    await stream.until("subscribed")
    ended = await stream.until("error", timeout=TOKEN_SECONDS + 1)
    assert ended[-1].data["code"] == "session_expired"
    assert await stream.next() is None
    await stream.close()
