"""Events on the socket: seq order, catch-up with since, membership, deletion, presence."""

from __future__ import annotations

import asyncio

from app.domain import clock
from app.domain.models import EventDraft
from app.domain.views import board_view
from tests.realtime.client import event_seqs
from tests.realtime.conftest import LiveApp


async def _rename(live: LiveApp, account, board: str, name: str) -> None:
    status, body = await live.api.call("PATCH", f"/api/v1/boards/{board}", account, json={"name": name})
    assert status == 200, body


async def test_a_rest_change_reaches_the_socket_as_the_next_seq(live: LiveApp) -> None:
    alice = await live.api.register()
    client = await live.client(alice)
    subscribed = (await client.subscribe(alice.personal_board))[-1]
    assert subscribed == {"type": "subscribed", "board": alice.personal_board, "seq": 0, "id": "s"}
    task = await live.api.task(alice, alice.personal_board, "Write the docs")
    event = await client.recv_type("event")
    assert event["seq"] == 1 and event["event"] == "task.created" and event["actor"] == alice.id
    assert event["data"]["id"] == task["id"] and event["board"] == alice.personal_board and event["at"]
    await client.close()


async def test_subscribe_with_since_replays_exactly_the_missed_events_then_goes_live(live: LiveApp) -> None:
    alice = await live.api.register()
    board = alice.personal_board
    for number in range(5):
        await live.api.task(alice, board, f"task {number}")
    client = await live.client(alice)
    answer = await client.subscribe(board, since=2)
    assert event_seqs(answer) == [3, 4, 5]
    assert answer[-1]["type"] == "subscribed" and answer[-1]["seq"] == 5
    await live.api.task(alice, board, "live one")
    assert (await client.recv_type("event"))["seq"] == 6
    assert event_seqs(await client.quiet()) == []
    await client.close()


async def test_since_older_than_the_replay_window_gets_a_reset(live: LiveApp) -> None:
    alice = await live.api.register()
    board = alice.personal_board
    for number in range(25):  # replay_limit is 20 in these tests
        await _rename(live, alice, board, f"name {number}")
    client = await live.client(alice)
    answer = await client.subscribe(board, since=1)
    assert [message["type"] for message in answer] == ["reset", "subscribed"]
    assert answer[0] == {"type": "reset", "board": board, "seq": 25} and answer[1]["seq"] == 25
    await client.close()


async def test_replay_racing_live_writes_neither_loses_nor_repeats_an_event(live: LiveApp) -> None:
    alice = await live.api.register()
    board = alice.personal_board
    for number in range(10):
        await _rename(live, alice, board, f"before {number}")

    async def writer() -> None:
        for number in range(15):
            await _rename(live, alice, board, f"during {number}")

    clients = [await live.client(alice) for _ in range(4)]
    writing = asyncio.create_task(writer())
    for index, client in enumerate(clients):
        await client.subscribe(board, since=index * 3)
        await asyncio.sleep(0.01)
    await writing
    for index, client in enumerate(clients):
        while client.seqs.get(board, [0])[-1] < 25:
            await client.recv()
        assert client.seqs[board] == list(range(index * 3 + 1, 26))
        await client.close()


async def test_a_removed_member_stops_receiving_at_once(live: LiveApp) -> None:
    alice, bob = await live.api.register(), await live.api.register()
    board = (await live.api.board(alice))["id"]
    await live.api.add_member(alice, board, bob, "editor")
    client = await live.client(bob)
    await client.subscribe(board)
    status, _ = await live.api.call("DELETE", f"/api/v1/boards/{board}/members/{bob.id}", alice)
    assert status == 204
    assert await client.recv() == {"type": "unsubscribed", "board": board, "reason": "removed"}
    await live.api.task(alice, board, "after bob left")
    assert event_seqs(await client.quiet()) == []
    assert (await client.subscribe(board, request_id="again"))[-1]["code"] == "not_found"
    await client.close()


async def test_other_members_see_the_removal_event_and_keep_receiving(live: LiveApp) -> None:
    alice, bob = await live.api.register(), await live.api.register()
    board = (await live.api.board(alice))["id"]
    await live.api.add_member(alice, board, bob, "editor")
    client = await live.client(alice)
    await client.subscribe(board, since=0)
    await live.api.call("DELETE", f"/api/v1/boards/{board}/members/{bob.id}", alice)
    removed = await client.recv_type("event")
    while removed["event"] != "member.removed":
        removed = await client.recv_type("event")
    assert removed["data"]["user_id"] == bob.id
    await client.close()


async def test_deleting_a_board_unsubscribes_its_viewers(live: LiveApp) -> None:
    alice = await live.api.register()
    board = (await live.api.board(alice))["id"]
    client = await live.client(alice)
    await client.subscribe(board)
    status, _ = await live.api.call("DELETE", f"/api/v1/boards/{board}", alice)
    assert status == 204
    message = await client.recv_type("unsubscribed")
    assert message == {"type": "unsubscribed", "board": board, "reason": "board_deleted"}
    await client.close()


async def test_presence_tells_viewers_who_joins_and_who_leaves(live: LiveApp) -> None:
    alice, bob = await live.api.register("alice"), await live.api.register("bob")
    board = (await live.api.board(alice))["id"]
    await live.api.add_member(alice, board, bob, "viewer")
    watcher = await live.client(alice)
    await watcher.subscribe(board)
    first = await watcher.recv_type("presence")
    assert first["users"] == [{"id": alice.id, "name": "alice"}]
    visitor = await live.client(bob)
    await visitor.subscribe(board)
    joined = await watcher.recv_type("presence")
    assert joined["users"] == [{"id": alice.id, "name": "alice"}, {"id": bob.id, "name": "bob"}]
    assert (await visitor.recv_type("presence"))["users"] == joined["users"]
    await visitor.close()
    left = await watcher.recv_type("presence")
    assert left["users"] == [{"id": alice.id, "name": "alice"}] and left["count"] == 1
    await watcher.close()


async def test_unsubscribe_stops_the_stream(live: LiveApp) -> None:
    alice = await live.api.register()
    client = await live.client(alice)
    await client.subscribe(alice.personal_board)
    await client.send({"type": "unsubscribe", "board": alice.personal_board, "id": "u"})
    answer = await client.recv_until(lambda message: message["type"] == "unsubscribed")
    assert answer[-1] == {"type": "unsubscribed", "board": alice.personal_board, "reason": "client", "id": "u"}
    await live.api.task(alice, alice.personal_board)
    assert event_seqs(await client.quiet()) == []
    await client.close()


async def test_shutdown_closes_open_sockets_with_1012(live: LiveApp) -> None:
    alice = await live.api.register()
    client = await live.client(alice)
    await client.subscribe(alice.personal_board)
    await live.runtime.begin_shutdown()
    assert await client.closed_with() == 1012


async def _commit_without_publishing(live: LiveApp, account, board_id: str, name: str) -> int:
    """A change in the log that the broker never carried, as when Redis drops a message."""
    store = live.runtime.store
    board = await store.get_board(board_id)
    board.name = name
    event = await store.update_board(board, EventDraft("board.updated", account.id, clock.now(), board_view(board)))
    return event.seq


async def test_a_gap_in_the_live_stream_is_filled_from_the_log(live: LiveApp) -> None:
    alice = await live.api.register()
    board = alice.personal_board
    client = await live.client(alice)
    await client.subscribe(board)
    assert await _commit_without_publishing(live, alice, board, "lost in transit") == 1
    await _rename(live, alice, board, "published")
    first, second = await client.recv_type("event"), await client.recv_type("event")
    assert (first["seq"], first["data"]["name"]) == (1, "lost in transit")
    assert (second["seq"], second["data"]["name"]) == (2, "published")
    await client.close()


async def test_after_a_broker_resync_every_subscriber_catches_up_from_the_log(live: LiveApp) -> None:
    alice = await live.api.register()
    board = alice.personal_board
    clients = [await live.client(alice) for _ in range(3)]
    for client in clients:
        await client.subscribe(board)
    for number in range(3):
        await _commit_without_publishing(live, alice, board, f"while the broker was away {number}")
    live.runtime.hub.catch_up_all()  # what the broker's on_resync does
    for client in clients:
        while client.seqs.get(board, [0])[-1] < 3:
            await client.recv()
        assert client.seqs[board] == [1, 2, 3]
        await client.close()
