"""The WebSocket handshake and message rules: auth, junk, limits, Origin."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus

from tests.realtime.conftest import LiveApp


async def test_a_client_that_does_not_authenticate_in_time_is_closed_with_4401(live: LiveApp) -> None:
    client = await live.client()
    assert await client.closed_with(timeout=3) == 4401


async def test_a_bad_token_closes_with_4401(live: LiveApp) -> None:
    client = await live.client()
    await client.send({"type": "auth", "token": "not-a-token"})
    assert await client.closed_with() == 4401


async def test_a_first_message_other_than_auth_closes_with_4401(live: LiveApp) -> None:
    client = await live.client()
    await client.send({"type": "ping"})
    assert await client.closed_with() == 4401


async def test_auth_answers_ready_with_the_user(live: LiveApp) -> None:
    alice = await live.api.register("alice")
    client = await live.client()
    ready = await client.auth(alice.access_token)
    assert ready == {
        "type": "ready",
        "user": {"id": alice.id, "name": "alice", "email": alice.email},
        "expires_at": ready["expires_at"],
    }
    assert ready["expires_at"].endswith("Z")  # when the access token expires: renew before
    await client.close()


async def test_ping_answers_pong_with_the_request_id(live: LiveApp) -> None:
    alice = await live.api.register()
    client = await live.client(alice)
    await client.send({"type": "ping", "id": "p1"})
    assert await client.recv() == {"type": "pong", "id": "p1"}
    await client.close()


async def test_subscribing_to_another_users_board_is_not_found_like_an_unknown_board(live: LiveApp) -> None:
    alice, mallory = await live.api.register(), await live.api.register()
    client = await live.client(mallory)
    refused = (await client.subscribe(alice.personal_board, request_id="a"))[-1]
    unknown = (await client.subscribe("01ARZ3NDEKTSV4RRFFQ69G5FAV", request_id="b"))[-1]
    assert {key: refused[key] for key in ("type", "code")} == {"type": "error", "code": "not_found"}
    assert refused == {**unknown, "id": "a"}
    await live.api.task(alice, alice.personal_board, "secret plan")
    assert await client.quiet() == []
    await client.close()


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        "42",
        '"text"',
        "{}",
        '{"type": "dance"}',
        '{"type": "subscribe"}',
        '{"type": "subscribe", "board": 7}',
        '{"type": "subscribe", "board": "x", "since": "3"}',
        '{"type": "subscribe", "board": "x", "since": true}',
        '{"type": "subscribe", "board": "x", "since": -1}',
        '{"type": "ping", "id": {"a": 1}}',
        '{"type": "ping"',
        r'"\ud800"',
        r'{"type": "ping", "id": "\ud800"}',
        r'{"type": "subscribe", "board": "\udfff", "id": 1}',
        b"\x00\x01binary",
    ],
)
async def test_junk_frames_get_invalid_message_and_the_connection_stays_up(live: LiveApp, frame) -> None:
    alice = await live.api.register()
    client = await live.client(alice)
    await client.send(frame)
    answer = await client.recv()
    assert answer["type"] == "error" and answer["code"] == "invalid_message", answer
    await client.send({"type": "ping"})
    assert await client.recv() == {"type": "pong"}
    await client.close()


async def test_deeply_nested_json_is_refused_without_harm(live: LiveApp) -> None:
    alice = await live.api.register()
    client = await live.client(alice)
    await client.send("[" * 2000 + "]" * 2000)
    assert (await client.recv())["code"] == "invalid_message"
    await client.send({"type": "ping"})
    assert await client.recv() == {"type": "pong"}
    await client.close()


async def test_an_oversized_frame_closes_with_1009(live: LiveApp) -> None:
    alice = await live.api.register()
    client = await live.client(alice)
    await client.send({"type": "ping", "id": "x" * 5000})
    assert await client.closed_with() == 1009


async def test_subscriptions_per_connection_are_capped(live: LiveApp) -> None:
    alice = await live.api.register()
    boards = [alice.personal_board] + [(await live.api.board(alice, f"b{n}"))["id"] for n in range(3)]
    client = await live.client(alice)
    for number, board in enumerate(boards[:3]):
        assert (await client.subscribe(board, request_id=str(number)))[-1]["type"] == "subscribed"
    answer = (await client.subscribe(boards[3], request_id="x"))[-1]
    assert answer["code"] == "too_many_subscriptions"
    await client.close()


async def test_a_foreign_origin_is_refused_before_the_upgrade(live: LiveApp) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await live.client(origin="https://evil.example")
    assert refused.value.response.status_code == 403


async def test_the_same_origin_may_connect(live: LiveApp) -> None:
    alice = await live.api.register()
    client = await live.client(alice, origin=f"http://127.0.0.1:{live.port}")
    await client.close()


async def test_a_flood_of_frames_faster_than_we_read_is_closed_not_buffered(live: LiveApp) -> None:
    alice = await live.api.register()
    client = await live.client(alice)
    board = alice.personal_board
    frames = [f'{{"type":"subscribe","board":"{board}","since":0,"id":"{n}"}}' for n in range(3000)]
    for frame in frames:
        await client.connection.send(frame)
    code = await client.closed_with(timeout=10)
    assert code in (1008, 4408)


async def test_messages_past_the_per_user_rate_limit_are_refused_and_the_socket_stays(live: LiveApp) -> None:
    alice = await live.api.register()
    client = await live.client(alice)
    limit = live.runtime.settings.rate_limit_ws_messages_per_minute
    for number in range(limit):
        await client.send({"type": "ping", "id": number})
    for number in range(limit):
        assert await client.recv() == {"type": "pong", "id": number}
    await client.send({"type": "ping", "id": "over"})
    refused = await client.recv()
    assert refused["type"] == "error" and refused["code"] == "rate_limited"
    await client.close()
