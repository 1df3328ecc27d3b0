"""Ending a session ends its live connections at once: a logout or a revoked API token
closes that session's sockets with 4401 and ends its event streams, and leaves the user's
other sessions alone."""

from __future__ import annotations

from tests.realtime.conftest import LiveApp
from tests.realtime.sse_client import SseStream
from tests.support.apiclient import PASSWORD


async def test_logging_out_closes_the_sessions_sockets_but_not_the_others(live: LiveApp) -> None:
    alice = await live.api.register()
    status, laptop = await live.api.call(
        "POST", "/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD}
    )
    assert status == 200
    phone = await live.client(alice)
    await phone.subscribe(alice.personal_board)
    laptop_socket = await live.client()
    assert (await laptop_socket.auth(laptop["access_token"]))["type"] == "ready"
    await laptop_socket.subscribe(alice.personal_board)

    status, _ = await live.api.call("POST", "/api/v1/auth/logout", json={"refresh_token": alice.refresh_token})
    assert status == 204
    assert await phone.closed_with() == 4401

    status, _ = await live.api.call(
        "POST",
        f"/api/v1/boards/{alice.personal_board}/tasks",
        json={"title": "later"},
        headers={"Authorization": f"Bearer {laptop['access_token']}"},
    )
    assert status == 201  # the other session still works, live
    assert (await laptop_socket.recv_type("event"))["event"] == "task.created"
    await laptop_socket.close()


async def test_revoking_an_api_token_ends_its_socket_and_its_event_stream(live: LiveApp) -> None:
    alice = await live.api.register()
    status, token = await live.api.call("POST", "/api/v1/tokens", alice, json={"name": "bot", "scopes": ["read"]})
    assert status == 201
    socket = await live.client()
    assert (await socket.auth(token["token"]))["type"] == "ready"
    stream = await SseStream.open(f"http://127.0.0.1:{live.port}", alice.personal_board, token["token"])
    await stream.until("subscribed")
    session_socket = await live.client(alice)

    status, _ = await live.api.call("DELETE", f"/api/v1/tokens/{token['id']}", alice)
    assert status == 204
    assert await socket.closed_with() == 4401
    ending = await stream.until("error")
    assert ending[-1].data["code"] == "session_ended"
    assert await stream.next() is None
    await stream.close()
    await session_socket.send({"type": "ping", "id": "p"})
    assert (await session_socket.recv_type("pong"))["id"] == "p"  # the user's own session is untouched
    await session_socket.close()


async def test_a_password_change_closes_the_other_sessions_sockets_and_streams_but_not_its_own(live: LiveApp) -> None:
    alice = await live.api.register()
    status, thief = await live.api.call("POST", "/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD})
    assert status == 200
    thief_socket = await live.client()
    assert (await thief_socket.auth(thief["access_token"]))["type"] == "ready"
    thief_stream = await SseStream.open(f"http://127.0.0.1:{live.port}", alice.personal_board, thief["access_token"])
    await thief_stream.until("subscribed")
    own_socket = await live.client(alice)

    status, _ = await live.api.call(
        "PATCH", "/api/v1/users/me", alice, json={"password": "a brand new passphrase", "current_password": PASSWORD}
    )
    assert status == 200
    assert await thief_socket.closed_with() == 4401
    assert (await thief_stream.until("error"))[-1].data["code"] == "session_ended"
    assert await thief_stream.next() is None
    await thief_stream.close()
    await own_socket.send({"type": "ping", "id": "p"})
    assert (await own_socket.recv_type("pong"))["id"] == "p"
    await own_socket.close()
