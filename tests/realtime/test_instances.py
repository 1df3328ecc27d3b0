"""Two real server processes sharing one SQLite file and one real Redis: whatever happens
to the broker or to an instance, every client ends up with every seq exactly once; and
what else crosses instances live: event streams, session ends, notifications, and
comments, archive, invitations and the board trash, event by event in seq order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.realtime.client import WsClient
from tests.realtime.follower import PASSWORD, Rest, expect_every_seq_once, followers_on, shared_board, write_steadily
from tests.realtime.sse_client import SseStream
from tests.support.servers import AppServer, app_servers
from tests.support.services import RedisServer

pytestmark = pytest.mark.processes


@pytest.fixture(scope="module", params=[1, 2], ids=["one-process", "two-workers"])
def instances(
    request: pytest.FixtureRequest, redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[AppServer]]:
    """Two instances; each also as two worker processes (TASKWIRE_WORKERS=2), where events
    cross between the workers of one instance as they do between instances."""
    workdir = tmp_path_factory.mktemp("instances")
    # A trash kept for 8.6 s, and every process trying to purge it five times a second.
    trash = {"TASKWIRE_TRASH_RETENTION_DAYS": "0.0001", "TASKWIRE_TRASH_PURGE_INTERVAL": "0.2"}
    with app_servers(
        2, f"sqlite:///{workdir / 'shared.db'}", redis.url, workdir, {"TASKWIRE_WORKERS": str(request.param), **trash}
    ) as servers:
        yield servers


@pytest.fixture
async def cluster(instances: list[AppServer], redis: RedisServer) -> AsyncIterator[tuple[list[AppServer], Rest, Rest]]:
    """Both instances up (a test may have killed one), a REST client for each."""
    for server in instances:
        if server.proc is None or server.proc.poll() is not None:
            await asyncio.to_thread(server.start)
    rests = Rest(instances[0].url), Rest(instances[1].url)
    try:
        yield instances, *rests
    finally:
        for rest in rests:
            await rest.close()


async def test_a_change_through_one_instance_reaches_clients_of_both(cluster) -> None:
    servers, rest_a, rest_b = cluster
    owner, _, board = await shared_board(rest_a, members=0)
    clients = [await WsClient.open(server.ws_url) for server in servers]
    for client in clients:
        await client.auth(owner["token"])
        await client.subscribe(board)
    await rest_a.task(owner["token"], board, "from instance A")
    for client in clients:
        event = await client.recv_type("event")
        assert event["event"] == "task.created" and event["data"]["title"] == "from instance A"
        await client.close()


async def test_the_trash_works_across_instances_and_every_process_purging_purges_each_task_once(cluster) -> None:
    servers, rest_a, rest_b = cluster
    owner, _, board = await shared_board(rest_a, members=0)
    token = owner["token"]
    tasks = f"/api/v1/boards/{board}/tasks"
    ids = [(await rest_a.call("POST", tasks, token, {"title": f"old {n}"}))["id"] for n in range(6)]
    client = await WsClient.open(servers[1].ws_url)
    await client.auth(token)
    await client.subscribe(board)
    await rest_a.call("DELETE", f"/api/v1/tasks/{ids[0]}", token)
    await rest_b.call("POST", f"/api/v1/boards/{board}/trash/{ids[0]}/restore", token)
    assert (await client.recv_type("event"))["event"] == "task.deleted"
    restored = await client.recv_type("event")
    assert (restored["event"], restored["data"]["id"], restored["data"]["version"]) == ("task.restored", ids[0], 2)
    await client.close()

    for number, task_id in enumerate(ids):
        await (rest_a, rest_b)[number % 2].call("DELETE", f"/api/v1/tasks/{task_id}", token)

    async def purged() -> list[str]:
        events = (await rest_b.call("GET", f"/api/v1/boards/{board}/events?limit=1000", token))["items"]
        return [event["data"]["id"] for event in events if event["type"] == "task.purged"]

    for _ in range(300):
        if len(await purged()) >= len(ids):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # a double purge would show by now: every process tries 5 times a second
    assert sorted(await purged()) == sorted(ids)
    assert (await rest_a.call("GET", f"/api/v1/boards/{board}/trash", token))["items"] == []


async def test_an_event_stream_on_one_instance_gets_a_burst_written_through_both(cluster) -> None:
    servers, rest_a, rest_b = cluster
    owner, members, board = await shared_board(rest_a, members=1)
    stream = await SseStream.open(servers[1].url, board, members[0]["token"], after=0)
    assert stream.response.status_code == 200
    await stream.until("subscribed")
    writers = [
        rest.task(account["token"], board, f"burst {number}")
        for number in range(20)
        for rest, account in ((rest_a, owner), (rest_b, members[0]))
    ]
    await asyncio.gather(*writers)
    latest = await rest_a.latest_seq(owner["token"], board)
    got = [int(message.id or 0) for message in await stream.events(latest - int(stream.last_event_id or 0))]
    await stream.close()
    assert got[-1] == latest and got == list(range(latest - len(got) + 1, latest + 1))


async def test_a_burst_through_both_instances_arrives_complete_and_in_order_everywhere(cluster) -> None:
    servers, rest_a, rest_b = cluster
    owner, members, board = await shared_board(rest_a, members=1)
    followers = await followers_on(servers, [owner, *members], board, per_instance=3)
    writers = [
        rest.task(account["token"], board, f"burst {number}")
        for number in range(40)
        for rest, account in ((rest_a, owner), (rest_b, members[0]))
    ]
    await asyncio.gather(*writers)
    await expect_every_seq_once(followers, await rest_a.latest_seq(owner["token"], board))


async def test_reconnecting_with_since_replays_exactly_the_missed_events(cluster) -> None:
    servers, rest_a, rest_b = cluster
    owner, _, board = await shared_board(rest_a, members=0)
    client = await WsClient.open(servers[0].ws_url)
    await client.auth(owner["token"])
    await client.subscribe(board)
    for number in range(3):
        await rest_a.task(owner["token"], board, f"seen {number}")
    while client.seqs.get(board, [0])[-1] < 3:
        await client.recv()
    await client.close()
    for number in range(4):
        await rest_b.task(owner["token"], board, f"missed {number}")
    again = await WsClient.open(servers[1].ws_url)
    await again.auth(owner["token"])
    answer = await again.subscribe(board, since=3)
    assert [message["seq"] for message in answer if message["type"] == "event"] == [4, 5, 6, 7]
    assert answer[-1]["seq"] == 7
    await rest_a.task(owner["token"], board, "live")
    assert (await again.recv_type("event"))["seq"] == 8
    await again.close()


async def test_a_redis_restart_mid_stream_loses_nothing(cluster, redis: RedisServer) -> None:
    servers, rest_a, rest_b = cluster
    owner, members, board = await shared_board(rest_a, members=1)
    followers = await followers_on(servers, [owner, *members], board, per_instance=2)

    writing = asyncio.gather(
        write_steadily(rest_a, owner["token"], board, 60), write_steadily(rest_b, members[0]["token"], board, 60)
    )
    await asyncio.sleep(0.4)
    await asyncio.to_thread(redis.stop)
    await asyncio.sleep(0.5)
    await asyncio.to_thread(redis.restart)
    await writing
    for server in servers:
        await asyncio.to_thread(server.wait_ready)
    await expect_every_seq_once(followers, await rest_a.latest_seq(owner["token"], board))


async def test_clients_of_a_killed_instance_resume_on_the_other_without_loss(cluster) -> None:
    servers, rest_a, rest_b = cluster
    owner, members, board = await shared_board(rest_b, members=1)
    followers = await followers_on(servers, [owner, *members], board, per_instance=3)

    writing = asyncio.create_task(write_steadily(rest_b, owner["token"], board, 80))
    await asyncio.sleep(0.3)
    await asyncio.to_thread(servers[0].kill)
    await writing
    await expect_every_seq_once(followers, await rest_b.latest_seq(owner["token"], board))
    assert all(follower.connections >= 2 for follower in followers[::2]), "A's clients never reconnected"


async def test_a_non_member_is_refused_on_every_instance(cluster) -> None:
    servers, rest_a, _ = cluster
    owner, _, board = await shared_board(rest_a, members=0)
    stranger = await rest_a.register("stranger")
    for server in servers:
        client = await WsClient.open(server.ws_url)
        await client.auth(stranger["token"])
        answer = (await client.subscribe(board))[-1]
        assert answer["type"] == "error" and answer["code"] == "not_found"
        await client.close()


async def test_logging_out_on_one_instance_closes_the_sessions_socket_on_the_other(cluster) -> None:
    servers, rest_a, _ = cluster
    owner = await rest_a.register("leaving")
    client = await WsClient.open(servers[1].ws_url)
    assert (await client.auth(owner["token"]))["type"] == "ready"
    # Logging out with the access token alone ends its session (no refresh token needed).
    await rest_a.call("POST", "/api/v1/auth/logout", owner["token"], {})
    assert await client.closed_with() == 4401


async def _listening_to_notifications(server: AppServer, token: str) -> WsClient:
    client = await WsClient.open(server.ws_url)
    assert (await client.auth(token))["type"] == "ready"
    await client.send({"type": "notifications.subscribe", "id": "n"})
    assert (await client.recv_type("notifications.subscribed"))["unread"] == 0
    return client


async def test_a_notification_made_on_one_instance_reaches_its_user_on_the_other(cluster) -> None:
    instances, first, second = cluster
    ada, bob = await first.register("ada"), await first.register("bob")
    board = await first.board(ada["token"], "Launch")
    bob_socket = await _listening_to_notifications(instances[1], bob["token"])
    ada_socket = await _listening_to_notifications(instances[1], ada["token"])

    await first.add_member(ada["token"], board, bob["email"])
    task = await first.call(
        "POST", f"/api/v1/boards/{board}/tasks", ada["token"], {"title": "Ship it", "assignees": [bob["id"]]}
    )

    received = [(await bob_socket.recv_type("notification"))["notification"] for _ in range(2)]
    assert [(n["type"], n["task_id"]) for n in received] == [("member.added", None), ("task.assigned", task["id"])]
    listed = await second.call("GET", "/api/v1/notifications", bob["token"])
    assert listed["items"] == received[::-1] and listed["unread_count"] == 2
    assert await ada_socket.quiet() == []
    await bob_socket.close()
    await ada_socket.close()


async def test_a_broker_reconnect_tells_notification_sockets_to_refetch(cluster, redis: RedisServer) -> None:
    instances, first, _ = cluster
    bob = await first.register("bob")
    client = await _listening_to_notifications(instances[1], bob["token"])

    await asyncio.to_thread(redis.restart)

    assert await client.recv_type("notifications.refetch", timeout=30) == {"type": "notifications.refetch"}
    await client.close()


async def test_comments_archive_invitations_and_the_board_trash_reach_the_other_instance_in_order(cluster) -> None:
    servers, rest_a, rest_b = cluster
    owner, (member,), board = await shared_board(rest_a, members=1)
    token, tasks = owner["token"], f"/api/v1/boards/{board}/tasks"
    owner_socket = await _listening_to_notifications(servers[1], token)
    client = await WsClient.open(servers[1].ws_url)
    await client.auth(member["token"])
    start = (await client.subscribe(board))[-1]["seq"]

    async def next_events(count: int) -> list[tuple[str, dict]]:
        received = [await client.recv_type("event", timeout=10) for _ in range(count)]
        return [(event["event"], event["data"]) for event in received]

    async def task_ids(query: str = "") -> list[str]:
        return [task["id"] for task in (await rest_b.call("GET", tasks + query, member["token"]))["items"]]

    async def board_ids(path: str, account: dict) -> list[str]:
        return [listed["id"] for listed in (await rest_b.call("GET", path, account["token"]))["items"]]

    task = await rest_a.call("POST", tasks, token, {"title": "Ship it"})
    comment = await rest_a.call("POST", f"/api/v1/tasks/{task['id']}/comments", token, {"body": "First draft"})
    await rest_a.call("PATCH", f"/api/v1/comments/{comment['id']}", token, {"body": "Second draft"})
    await rest_a.call("DELETE", f"/api/v1/comments/{comment['id']}", token)
    got = await next_events(4)
    assert [(kind, data.get("body")) for kind, data in got] == [
        ("task.created", None),
        ("comment.created", "First draft"),
        ("comment.updated", "Second draft"),
        ("comment.deleted", "Second draft"),
    ]
    assert {data["id"] for _, data in got[1:]} == {comment["id"]}
    assert (await rest_b.call("GET", f"/api/v1/tasks/{task['id']}/comments", member["token"]))["items"] == []

    await rest_a.call("POST", f"/api/v1/tasks/{task['id']}/archive", token, {})
    ((kind, data),) = await next_events(1)
    assert (kind, data["id"], "archived_at" in data) == ("task.archived", task["id"], True)
    assert await task_ids() == [] and await task_ids("?archived=true") == [task["id"]]
    await rest_a.call("POST", f"/api/v1/tasks/{task['id']}/unarchive", token, {})
    ((kind, data),) = await next_events(1)
    assert (kind, data["id"], "archived_at" in data) == ("task.unarchived", task["id"], False)
    assert await task_ids() == [task["id"]] and await task_ids("?archived=true") == []

    email = f"newcomer.{board.lower()}@example.test"
    invitation = await rest_a.call(
        "POST", f"/api/v1/boards/{board}/invitations", token, {"email": email, "role": "commenter"}
    )
    newcomer = await rest_a.call(
        "POST", "/api/v1/auth/register", json_body={"email": email, "password": PASSWORD, "name": "Newcomer"}
    )
    invited = {"token": invitation["link"].split("#", 1)[1]}
    await rest_a.call("POST", "/api/v1/invitations/accept", newcomer["access_token"], invited)
    (created, created_data), (added, added_data) = await next_events(2)
    assert (created, created_data["id"], created_data["email"], "link" in created_data) == (
        "invitation.created",
        invitation["id"],
        email,
        False,
    )
    joined = (added_data["user_id"], added_data["role"], added_data["invitation_id"])
    assert (added, *joined) == ("member.added", newcomer["user"]["id"], "commenter", invitation["id"])
    members = (await rest_b.call("GET", f"/api/v1/boards/{board}/members", member["token"]))["items"]
    assert {listed["user_id"]: listed["role"] for listed in members}[newcomer["user"]["id"]] == "commenter"

    # The fixture's trash keeps a board 8.6 s: restore well before the purge would take it.
    await rest_a.call("DELETE", f"/api/v1/boards/{board}", token)
    ended = await client.recv_until(lambda message: message["type"] == "unsubscribed", timeout=10)
    told = [(m["type"], m.get("event"), m.get("reason")) for m in ended if m["type"] in ("event", "unsubscribed")]
    assert told == [("event", "board.deleted", None), ("unsubscribed", None, "board_deleted")]
    assert (await owner_socket.recv_type("boards.changed"))["reason"] == "board_deleted"
    assert board not in await board_ids("/api/v1/boards", member)
    assert await board_ids("/api/v1/boards/trash", owner) == [board]

    await rest_a.call("POST", f"/api/v1/boards/trash/{board}/restore", token)
    assert (await owner_socket.recv_type("boards.changed"))["reason"] == "board_restored"
    answer = await client.subscribe(board, since=client.seqs[board][-1], request_id="again")
    assert [m["event"] for m in answer if m["type"] == "event"] == ["board.restored"]
    assert answer[-1]["type"] == "subscribed"
    assert board in await board_ids("/api/v1/boards", member) and await task_ids() == [task["id"]]
    assert await board_ids("/api/v1/boards/trash", owner) == []
    members = (await rest_b.call("GET", f"/api/v1/boards/{board}/members", member["token"]))["items"]
    assert newcomer["user"]["id"] in {listed["user_id"] for listed in members}
    assert client.seqs[board] == list(range(start + 1, await rest_b.latest_seq(token, board) + 1))
    await client.close()
    await owner_socket.close()
