"""Notifications across two real server processes sharing one SQLite file and one real
Redis: made through one instance, received live by a socket on the other; and a socket is
told to refetch when the broker may have lost some."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from tests.realtime.client import WsClient
from tests.realtime.follower import Rest
from tests.support.servers import AppServer, app_servers
from tests.support.services import RedisServer

pytestmark = pytest.mark.processes


@pytest.fixture(scope="module")
def instances(redis: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[AppServer]]:
    workdir = tmp_path_factory.mktemp("notification-instances")
    with app_servers(2, f"sqlite:///{workdir / 'shared.db'}", redis.url, workdir) as servers:
        yield servers


@pytest.fixture
async def rests(instances: list[AppServer]) -> AsyncIterator[tuple[Rest, Rest]]:
    first, second = Rest(instances[0].url), Rest(instances[1].url)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def _listening(server: AppServer, token: str) -> WsClient:
    client = await WsClient.open(server.ws_url)
    assert (await client.auth(token))["type"] == "ready"
    await client.send({"type": "notifications.subscribe", "id": "n"})
    assert (await client.recv_type("notifications.subscribed"))["unread"] == 0
    return client


async def test_a_notification_made_on_one_instance_reaches_its_user_on_the_other(
        instances: list[AppServer], rests: tuple[Rest, Rest]) -> None:
    first, second = rests
    ada, bob = await first.register("ada"), await first.register("bob")
    board = await first.board(ada["token"], "Launch")
    bob_socket = await _listening(instances[1], bob["token"])
    ada_socket = await _listening(instances[1], ada["token"])

    await first.add_member(ada["token"], board, bob["email"])
    task = await first.call("POST", f"/api/v1/boards/{board}/tasks", ada["token"],
                            {"title": "Ship it", "assignees": [bob["id"]]})

    received = [(await bob_socket.recv_type("notification"))["notification"] for _ in range(2)]
    assert [(n["type"], n["task_id"]) for n in received] == [("member.added", None), ("task.assigned", task["id"])]
    listed = await second.call("GET", "/api/v1/notifications", bob["token"])
    assert listed["items"] == received[::-1] and listed["unread_count"] == 2
    assert await ada_socket.quiet() == []
    await bob_socket.close()
    await ada_socket.close()


async def test_a_broker_reconnect_tells_listening_sockets_to_refetch(
        instances: list[AppServer], rests: tuple[Rest, Rest], redis: RedisServer) -> None:
    first, _ = rests
    bob = await first.register("bob")
    client = await _listening(instances[1], bob["token"])

    await asyncio.to_thread(redis.restart)

    assert await client.recv_type("notifications.refetch", timeout=30) == {"type": "notifications.refetch"}
    await client.close()
