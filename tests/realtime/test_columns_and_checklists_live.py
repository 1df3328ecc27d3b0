"""Column and checklist changes travel like every other event: over a real socket to a
WebSocket subscriber and an event stream, each with the board's next seq, and replayed to
a client that reconnects with ``since``."""

from __future__ import annotations

from tests.realtime.client import event_seqs
from tests.realtime.conftest import LiveApp
from tests.realtime.sse_client import SseStream


async def test_column_and_checklist_events_reach_sockets_and_streams_in_order(live: LiveApp) -> None:
    alice, bob = await live.api.register(), await live.api.register()
    board = (await live.api.board(alice))["id"]
    await live.api.add_member(alice, board, bob, "editor")
    task = await live.api.task(alice, board, "Ship it")
    socket = await live.client(bob)
    subscribed = (await socket.subscribe(board))[-1]
    stream = await SseStream.open(f"http://127.0.0.1:{live.port}", board, bob.access_token)
    await stream.until("subscribed")
    start = subscribed["seq"]

    writes = [
        ("POST", f"/api/v1/boards/{board}/columns", {"name": "Code Review 👀", "wip_limit": 2}),
        ("PATCH", f"/api/v1/boards/{board}/columns/code_review", {"name": "Review"}),
        ("POST", f"/api/v1/tasks/{task['id']}/checklist", {"text": "Write the notes"}),
    ]
    for method, path, body in writes:
        status, answer = await live.api.call(method, path, alice, json=body)
        assert status in (200, 201), answer
    item = answer["checklist"][0]
    status, _ = await live.api.call(
        "PATCH", f"/api/v1/tasks/{task['id']}/checklist/{item['id']}", bob, json={"done": True}
    )
    assert status == 200

    expected = ["column.created", "column.updated", "checklist_item.created", "checklist_item.updated"]
    received = [await socket.recv_type("event") for _ in expected]
    assert [m["event"] for m in received] == expected
    assert [m["seq"] for m in received] == list(range(start + 1, start + 5))
    assert received[1]["data"]["board"]["column_names"]["code_review"] == "Review"
    assert received[3]["data"]["item"] == {**item, "done": True} and received[3]["actor"] == bob.id
    streamed = await stream.events(4)
    assert [(m.data["event"], m.id) for m in streamed] == [(e, str(start + n)) for n, e in enumerate(expected, 1)]

    # A client that was away gets them replayed from the log.
    late = await live.client(alice)
    assert event_seqs(await late.subscribe(board, since=start)) == list(range(start + 1, start + 5))
    for client in (socket, late):
        await client.close()
    await stream.close()
