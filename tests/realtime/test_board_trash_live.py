"""A board moved to the trash and back, on the socket: its viewers are unsubscribed as from
a deleted board, and each member's notification channel is told their boards list changed,
both ways; nobody else's is."""

from __future__ import annotations

from tests.realtime.conftest import LiveApp
from tests.realtime.test_ws_notifications import subscribe_notifications


async def test_members_hear_their_board_go_to_the_trash_and_come_back(live: LiveApp) -> None:
    ada, bob, eve = await live.api.register("Ada"), await live.api.register("Bob"), await live.api.register("Eve")
    board = (await live.api.board(ada, "Launch"))["id"]
    await live.api.add_member(ada, board, bob, "editor")
    bob_socket, eve_socket = await live.client(bob), await live.client(eve)
    await subscribe_notifications(bob_socket)
    await subscribe_notifications(eve_socket)
    await bob_socket.subscribe(board)

    assert (await live.api.call("DELETE", f"/api/v1/boards/{board}", ada))[0] == 204

    # Two channels (the board's, Bob's own): in either order.
    received = await bob_socket.recv_until(lambda message: message["type"] in ("unsubscribed", "boards.changed"))
    received += await bob_socket.recv_until(
        lambda message: message["type"] in ("unsubscribed", "boards.changed") and message != received[-1]
    )
    told = [message for message in received if message["type"] in ("unsubscribed", "boards.changed")]
    assert sorted(told, key=lambda message: message["type"]) == [
        {"type": "boards.changed", "board": board, "reason": "board_deleted"},
        {"type": "unsubscribed", "board": board, "reason": "board_deleted"},
    ]

    status, _ = await live.api.call("POST", f"/api/v1/boards/trash/{board}/restore", ada)
    assert status == 200
    changed = await bob_socket.recv_type("boards.changed")
    assert changed["reason"] == "board_restored"
    answer = await bob_socket.subscribe(board)  # a member again: the board streams once more
    assert answer[-1]["type"] == "subscribed"

    assert [message for message in await eve_socket.quiet() if message["type"] == "boards.changed"] == []
    await bob_socket.close()
    await eve_socket.close()
