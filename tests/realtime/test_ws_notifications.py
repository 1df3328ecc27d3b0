"""The personal notification channel on the socket: a user subscribes to their own
notifications and receives each live, the same object REST lists; never anyone else's."""

from __future__ import annotations

from tests.realtime.client import Message, WsClient
from tests.realtime.conftest import LiveApp
from tests.support.apiclient import Account

NOTIFICATIONS = "/api/v1/notifications"


async def subscribe_notifications(client: WsClient, request_id: str = "n") -> Message:
    await client.send({"type": "notifications.subscribe", "id": request_id})
    return await client.recv_type("notifications.subscribed")


async def listed(live: LiveApp, account: Account, query: str = "") -> dict:
    status, body = await live.api.call("GET", NOTIFICATIONS + query, account)
    assert status == 200, body
    return body


async def test_assigned_mentioned_and_added_arrive_live_unread_then_read(live: LiveApp) -> None:
    ada, bob = await live.api.register("Ada"), await live.api.register("Bob")
    board = (await live.api.board(ada, "Launch"))["id"]
    await live.api.add_member(ada, board, bob, "editor")
    client = await live.client(bob)
    assert await subscribe_notifications(client) == {"type": "notifications.subscribed", "unread": 1, "id": "n"}

    task = await live.api.task(ada, board, "Ship it", assignees=[bob.id])
    assigned = await client.recv_type("notification")
    status, _ = await live.api.call("POST", f"/api/v1/tasks/{task['id']}/comments", ada, json={"body": "@Bob look"})
    assert status == 201
    mentioned = await client.recv_type("notification")
    other = (await live.api.board(ada, "Roadmap"))["id"]
    await live.api.add_member(ada, other, bob, "viewer")
    added = await client.recv_type("notification")

    live_ones = [message["notification"] for message in (assigned, mentioned, added)]
    assert [n["type"] for n in live_ones] == ["task.assigned", "comment.mentioned", "member.added"]
    assert all(set(message) == {"type", "notification"} for message in (assigned, mentioned, added))
    rest = await listed(live, bob)
    assert rest["items"][:3] == live_ones[::-1] and rest["unread_count"] == 4

    status, marked = await live.api.call(
        "POST", f"{NOTIFICATIONS}/read", bob, json={"ids": [n["id"] for n in live_ones]}
    )
    assert (status, marked) == (200, {"marked": 3, "unread_count": 1})
    assert [n["id"] for n in (await listed(live, bob, "?unread=true"))["items"]] == [rest["items"][3]["id"]]
    await client.close()


async def test_a_user_receives_only_their_own_notifications(live: LiveApp) -> None:
    ada, bob = await live.api.register("Ada"), await live.api.register("Bob")
    board = (await live.api.board(ada, "Launch"))["id"]
    ada_socket, bob_socket = await live.client(ada), await live.client(bob)
    await subscribe_notifications(ada_socket)
    await subscribe_notifications(bob_socket)

    await live.api.add_member(ada, board, bob, "editor")
    await live.api.task(ada, board, "Mine", assignees=[ada.id])  # yourself: nobody is told

    assert (await bob_socket.recv_type("notification"))["notification"]["type"] == "member.added"
    assert await ada_socket.quiet() == [] and await bob_socket.quiet() == []
    await ada_socket.close()
    await bob_socket.close()


async def test_after_unsubscribing_nothing_more_arrives(live: LiveApp) -> None:
    ada, bob = await live.api.register("Ada"), await live.api.register("Bob")
    board = (await live.api.board(ada, "Launch"))["id"]
    client = await live.client(bob)
    await subscribe_notifications(client)
    await subscribe_notifications(client, "again")  # a repeated subscribe answers again

    await client.send({"type": "notifications.unsubscribe", "id": 7})
    assert await client.recv() == {"type": "notifications.unsubscribed", "id": 7}
    await live.api.add_member(ada, board, bob, "editor")

    assert await client.quiet() == []
    assert (await listed(live, bob))["unread_count"] == 1  # still there over REST
    await client.close()


async def test_a_board_limited_token_socket_gets_only_its_boards_notifications(live: LiveApp) -> None:
    ada, bob = await live.api.register("Ada"), await live.api.register("Bob")
    allowed, other = (await live.api.board(ada, "A"))["id"], (await live.api.board(ada, "B"))["id"]
    await live.api.add_member(ada, allowed, bob, "editor")
    await live.api.add_member(ada, other, bob, "editor")
    status, token = await live.api.call(
        "POST", "/api/v1/tokens", bob, json={"name": "bot", "scopes": ["read"], "boards": [allowed]}
    )
    assert status == 201, token
    client = await WsClient.open(live.ws_url)
    assert (await client.auth(token["token"]))["type"] == "ready"
    assert (await subscribe_notifications(client))["unread"] == 1

    await live.api.task(ada, other, "Elsewhere", assignees=[bob.id])
    await live.api.task(ada, allowed, "Here", assignees=[bob.id])

    received = await client.recv_type("notification")
    assert received["notification"]["data"]["task_title"] == "Here"
    assert await client.quiet() == []
    await client.close()


async def test_malformed_notification_messages_get_invalid_message_and_the_socket_stays(live: LiveApp) -> None:
    bob = await live.api.register("Bob")
    client = await live.client(bob)

    for message in (
        {"type": "notifications.subscribe", "id": {"x": 1}},
        {"type": "notifications.subscribe", "id": True},
        {"type": "notifications.subscribe", "id": ""},
        {"type": "notifications.subscribed"},
        {"type": "notification"},
        {"type": "notifications.unsubscribe", "id": [1]},
    ):
        await client.send(message)
        answer = await client.recv()
        assert (answer["type"], answer["code"]) == ("error", "invalid_message"), message

    await client.send({"type": "ping", "id": "p"})
    assert await client.recv() == {"type": "pong", "id": "p"}
    await client.send({"type": "notifications.unsubscribe"})  # not subscribed: answered all the same
    assert await client.recv() == {"type": "notifications.unsubscribed"}
    await client.close()
