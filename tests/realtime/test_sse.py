"""The Server-Sent Events fallback over a real socket: the same events as a WebSocket
subscription, ``id:`` = seq, resumed with ``Last-Event-ID`` without missing or repeating
one, and the same refusals as the REST API."""

from __future__ import annotations

import asyncio
import json
import sys

import httpx

from tests.realtime.conftest import REPO_ROOT, LiveApp
from tests.realtime.sse_client import SseStream
from tests.support.apiclient import Account


def _base(live: LiveApp) -> str:
    return f"http://127.0.0.1:{live.port}"


async def _stream(live: LiveApp, account: Account, board: str, **options) -> SseStream:
    stream = await SseStream.open(_base(live), board, account.access_token, **options)
    assert stream.response.status_code == 200, await stream.response.aread()
    return stream


async def _board_shared_with_bob(live: LiveApp, role: str) -> tuple[Account, Account, str]:
    alice = await live.api.register()
    bob = await live.api.register()
    board = (await live.api.board(alice))["id"]
    await live.api.add_member(alice, board, bob, role)
    return alice, bob, board


async def _tasks(live: LiveApp, account: Account, board: str, count: int, prefix: str = "task") -> None:
    for number in range(count):
        await live.api.task(account, board, f"{prefix} {number}")


async def test_the_stream_replays_from_after_then_goes_live(live: LiveApp) -> None:
    alice = await live.api.register()
    board = alice.personal_board
    await _tasks(live, alice, board, 3)
    stream = await _stream(live, alice, board, after=1)
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    assert stream.response.headers["cache-control"] == "no-store"

    replayed = await stream.until("subscribed")
    assert [(m.event, m.id) for m in replayed] == [("message", "2"), ("message", "3"), ("subscribed", "3")]
    assert stream.retry_ms == 2000
    # data is exactly the WebSocket event message
    assert replayed[0].data["type"] == "event" and replayed[0].data["seq"] == 2
    assert replayed[0].data["event"] == "task.created" and replayed[0].data["data"]["title"] == "task 1"
    status, log = await live.api.call("GET", f"/api/v1/boards/{board}/events?after=1", alice)
    assert [m.data["data"] for m in replayed[:2]] == [event["data"] for event in log["items"]]

    await _tasks(live, alice, board, 2, "live")
    live_events = await stream.events(2)
    assert [(m.id, m.data["data"]["title"]) for m in live_events] == [("4", "live 0"), ("5", "live 1")]
    await stream.close()


async def test_a_client_that_reconnects_with_last_event_id_misses_nothing(live: LiveApp) -> None:
    alice, bob, board = await _board_shared_with_bob(live, "editor")
    stream = await _stream(live, bob, board)
    subscribed = await stream.until("subscribed")
    assert [m.event for m in subscribed] == ["subscribed"]  # no position: from the next event on
    await _tasks(live, alice, board, 3, "before")
    seen = await stream.events(3)
    await stream.close()  # the connection drops ...

    await _tasks(live, alice, board, 4, "while away")  # ... and the board moves on
    again = await _stream(live, bob, board, last_event_id=seen[-1].id, after=0)  # the header wins
    caught_up = await again.until("subscribed")
    await _tasks(live, alice, board, 1, "after")
    caught_up += await again.events(1)
    seqs = [int(m.data["seq"]) for m in seen + caught_up if m.event == "message"]
    assert seqs == list(range(seqs[0], seqs[0] + 8))  # every seq once, in order
    assert [m.data["data"]["title"] for m in caught_up if m.event == "message"] == [
        "while away 0",
        "while away 1",
        "while away 2",
        "while away 3",
        "after 0",
    ]
    await again.close()


async def test_a_position_older_than_the_replay_limit_gets_reset(live: LiveApp) -> None:
    alice = await live.api.register()
    await _tasks(live, alice, alice.personal_board, 25)  # the test server replays at most 20
    stream = await _stream(live, alice, alice.personal_board, last_event_id="2")
    messages = await stream.until("subscribed")
    assert [(m.event, m.id) for m in messages] == [("reset", "25"), ("subscribed", "25")]
    assert messages[0].data == {"type": "reset", "board": alice.personal_board, "seq": 25}
    await stream.close()


async def test_an_idle_stream_sends_keepalive_comments(live: LiveApp) -> None:
    alice = await live.api.register()
    stream = await _stream(live, alice, alice.personal_board)
    await stream.until("subscribed")
    await asyncio.sleep(0.8)  # the test server's keep-alive is 0.3 s
    await _tasks(live, alice, alice.personal_board, 1)
    assert (await stream.events(1))[0].id == "1"
    assert stream.comments.count("keepalive") >= 2
    await stream.close()


async def test_a_removed_member_is_told_and_the_stream_ends(live: LiveApp) -> None:
    alice, bob, board = await _board_shared_with_bob(live, "viewer")
    stream = await _stream(live, bob, board)
    await stream.until("subscribed")
    status, _ = await live.api.call("DELETE", f"/api/v1/boards/{board}/members/{bob.id}", alice)
    assert status == 204
    ending = await stream.until("unsubscribed")
    assert ending[-1].data == {"type": "unsubscribed", "board": board, "reason": "removed"}
    assert await stream.next() is None  # the server closed the stream
    await stream.close()

    again = await SseStream.open(_base(live), board, bob.access_token, last_event_id=ending[-1].id or "0")
    assert again.response.status_code == 404  # EventSource stops reconnecting on it
    await again.close()


async def test_the_stream_refuses_like_the_rest_of_the_api(live: LiveApp) -> None:
    alice = await live.api.register()
    stranger = await live.api.register()
    board = alice.personal_board
    async with httpx.AsyncClient(base_url=_base(live), timeout=5) as http:
        path = f"/api/v1/boards/{board}/events/stream"
        answers = {
            "anonymous": await http.get(path),
            "stranger": await http.get(path, headers={"Authorization": f"Bearer {stranger.access_token}"}),
            "bad id": await http.get(
                path, headers={"Authorization": f"Bearer {alice.access_token}", "Last-Event-ID": "seven"}
            ),
            "bad after": await http.get(f"{path}?after=-1", headers={"Authorization": f"Bearer {alice.access_token}"}),
            "no board": await http.get(
                "/api/v1/boards/nope/events/stream", headers={"Authorization": f"Bearer {alice.access_token}"}
            ),
        }
    codes = {name: (response.status_code, response.json()["error"]["code"]) for name, response in answers.items()}
    assert codes == {
        "anonymous": (401, "unauthorized"),
        "stranger": (404, "board_not_found"),
        "bad id": (422, "validation_error"),
        "bad after": (422, "validation_error"),
        "no board": (404, "board_not_found"),
    }


async def test_api_tokens_stream_only_the_boards_they_cover(live: LiveApp) -> None:
    alice = await live.api.register()
    other = (await live.api.board(alice, "Other"))["id"]
    status, token = await live.api.call(
        "POST", "/api/v1/tokens", alice, json={"name": "feed", "scopes": ["read"], "boards": [alice.personal_board]}
    )
    assert status == 201, token
    bot = Account(alice.id, alice.email, alice.name, token["token"], "")
    stream = await _stream(live, bot, alice.personal_board)
    await stream.until("subscribed")
    await _tasks(live, alice, alice.personal_board, 1)
    assert (await stream.events(1))[0].data["data"]["title"] == "task 0"
    await stream.close()

    refused = await SseStream.open(_base(live), other, token["token"])
    assert refused.response.status_code == 404
    await refused.close()


async def test_streams_are_counted_and_end_when_the_client_goes(live: LiveApp) -> None:
    alice = await live.api.register()
    streams = [await _stream(live, alice, alice.personal_board) for _ in range(3)]
    for stream in streams:
        await stream.until("subscribed")
    async with httpx.AsyncClient(base_url=_base(live)) as http:
        assert "taskwire_sse_streams 3.0" in (await http.get("/metrics")).text
        for stream in streams:
            await stream.close()
        for _ in range(100):
            if "taskwire_sse_streams 0.0" in (await http.get("/metrics")).text:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the streams were not let go")
    assert live.runtime.hub.connection_count == 0


async def test_the_example_client_follows_a_board_from_a_position(live: LiveApp) -> None:
    alice = await live.api.register()
    status, token = await live.api.call("POST", "/api/v1/tokens", alice, json={"name": "example", "scopes": ["read"]})
    assert status == 201
    await _tasks(live, alice, alice.personal_board, 2, "before")
    example = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO_ROOT / "examples" / "sse_client.py"),
        "--url",
        _base(live),
        "--token",
        token["token"],
        "--board",
        alice.personal_board,
        "--after",
        "1",
        "--count",
        "3",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    first = json.loads(await asyncio.wait_for(example.stdout.readline(), 10))  # type: ignore[union-attr]
    await _tasks(live, alice, alice.personal_board, 2, "live")  # the third line comes live
    out, err = await asyncio.wait_for(example.communicate(), 10)
    printed = [first, *(json.loads(line) for line in out.decode().splitlines())]
    assert example.returncode == 0, err.decode()
    assert [(event["seq"], event["data"]["title"]) for event in printed] == [
        (2, "before 1"),
        (3, "live 0"),
        (4, "live 1"),
    ]
