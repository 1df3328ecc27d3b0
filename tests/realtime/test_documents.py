"""Co-editing a task's description across two real server processes sharing one SQLite
file and one real Redis: concurrent typing converges with every keystroke kept, the task's
description follows the document, REST edits merge, offline edits merge on return, a
killed instance loses no acknowledged update, and only editors write."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections.abc import AsyncIterator, Iterator

import pytest
from websockets.asyncio.client import connect

from tests.realtime.doc_client import DocClient
from tests.realtime.follower import Rest, shared_board
from tests.support.servers import AppServer, app_servers
from tests.support.services import RedisServer

pytestmark = pytest.mark.processes

SETTLE_SECONDS = 0.3


@pytest.fixture(scope="module")
def instances(redis: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[AppServer]]:
    workdir = tmp_path_factory.mktemp("documents")
    with app_servers(
        2,
        f"sqlite:///{workdir / 'shared.db'}",
        redis.url,
        workdir,
        # Every keystroke its own message here, to interleave finely; the dashboard sends
        # a few merged updates a second, well within the default limit.
        {"TASKWIRE_DOCUMENT_SETTLE_SECONDS": str(SETTLE_SECONDS), "TASKWIRE_RATE_LIMIT_WS": "1000000"},
    ) as servers:
        yield servers


@pytest.fixture
async def cluster(instances: list[AppServer]) -> AsyncIterator[tuple[list[AppServer], Rest]]:
    for server in instances:
        if server.proc is None or server.proc.poll() is not None:
            await asyncio.to_thread(server.start)
    rest = Rest(instances[0].url)
    try:
        yield instances, rest
    finally:
        await rest.close()


async def new_task(rest: Rest, token: str, board: str, description: str = "") -> dict:
    return await rest.call(
        "POST", f"/api/v1/boards/{board}/tasks", token, {"title": "Shared notes", "description": description}
    )


async def description_becomes(rest: Rest, token: str, task_id: str, expected: str, timeout: float = 15.0) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            task = await rest.call("GET", f"/api/v1/tasks/{task_id}", token)
            if task["description"] == expected:
                return task
            await asyncio.sleep(0.1)


async def converged(clients: list[DocClient], timeout: float = 15.0) -> str:
    async with asyncio.timeout(timeout):
        while len({client.value for client in clients}) != 1:
            await asyncio.sleep(0.05)
    return clients[0].value


async def type_randomly(client: DocClient, marker: str, count: int, seed: int) -> None:
    """``count`` one-character inserts at random places, each a distinct letter run, with
    a deletion of one of our own characters every tenth keystroke."""
    rng = random.Random(seed)
    for number in range(count):
        position = rng.randint(0, len(client.value.encode()))
        # Keep inside characters: every char here is one UTF-8 byte.
        await client.insert(position, marker)
        if number % 10 == 9:
            mine = client.value.find(marker)
            await client.edit(lambda text, at=mine: text.__delitem__(slice(at, at + 1)))
        await asyncio.sleep(rng.uniform(0, 0.004))


async def test_two_people_on_two_instances_typing_at_once_converge_with_every_keystroke(cluster) -> None:
    servers, rest = cluster
    owner, members, board = await shared_board(rest, members=1)
    task = await new_task(rest, owner["token"], board, "Start. ")
    ada = DocClient(servers[0].ws_url, owner["token"], board, task["id"])
    bob = DocClient(servers[1].ws_url, members[0]["token"], board, task["id"])
    for client in (ada, bob):
        await client.connect()
    assert ada.value == bob.value == "Start. "
    await asyncio.gather(type_randomly(ada, "x", 120, 1), type_randomly(bob, "y", 120, 2))
    await asyncio.gather(ada.wait_acked(timeout=180), bob.wait_acked(timeout=180))
    final = await converged([ada, bob])
    # 120 typed, 12 deleted again, by each; the seed text intact around them.
    assert final.count("x") == 108 and final.count("y") == 108
    assert final.replace("x", "").replace("y", "") == "Start. "
    updated = await description_becomes(rest, owner["token"], task["id"], final)
    assert updated["version"] > task["version"]
    for client in (ada, bob):
        assert client.errors == []
        await client.disconnect()


async def test_a_rest_edit_during_live_editing_is_merged_not_written_over(cluster) -> None:
    servers, rest = cluster
    owner, members, board = await shared_board(rest, members=1)
    task = await new_task(rest, owner["token"], board, "Hello world")
    ada = DocClient(servers[0].ws_url, owner["token"], board, task["id"])
    await ada.connect()
    # Ada types; before her burst settles, someone PATCHes the version they read.
    await ada.insert(len(ada.value.encode()), "!")
    await ada.wait_acked()
    patched = await rest.call(
        "PATCH",
        f"/api/v1/tasks/{task['id']}",
        members[0]["token"],
        {"description": "Hello brave world", "version": task["version"]},
    )
    assert patched["description"] == "Hello brave world!"
    async with asyncio.timeout(10):
        while ada.value != "Hello brave world!":
            await asyncio.sleep(0.05)
    await description_becomes(rest, owner["token"], task["id"], "Hello brave world!")
    await ada.disconnect()


async def test_edits_made_offline_merge_on_return(cluster) -> None:
    servers, rest = cluster
    owner, members, board = await shared_board(rest, members=1)
    task = await new_task(rest, owner["token"], board, "Plan: ")
    ada = DocClient(servers[0].ws_url, owner["token"], board, task["id"])
    bob = DocClient(servers[1].ws_url, members[0]["token"], board, task["id"])
    for client in (ada, bob):
        await client.connect()
    await ada.disconnect()  # offline; both keep typing
    await ada.insert(len(ada.value.encode()), "ada-offline ")
    await bob.insert(0, "[bob] ")
    await bob.wait_acked()
    await ada.connect()  # opens with its state vector, sends what the server lacks
    await ada.wait_acked()
    final = await converged([ada, bob])
    assert final == "[bob] Plan: ada-offline "
    await description_becomes(rest, owner["token"], task["id"], final)
    for client in (ada, bob):
        await client.disconnect()


async def test_killing_the_writers_instance_loses_no_acknowledged_update(cluster) -> None:
    servers, rest = cluster
    owner, members, board = await shared_board(rest, members=1)
    task = await new_task(rest, owner["token"], board)
    writer = DocClient(servers[1].ws_url, members[0]["token"], board, task["id"])
    watcher = DocClient(servers[0].ws_url, owner["token"], board, task["id"])
    for client in (writer, watcher):
        await client.connect()
    for number in range(50):
        await writer.insert(len(writer.value.encode()), f"{number},")
    await writer.wait_acked()
    acknowledged = writer.value
    servers[1].kill()  # before its burst settles
    await writer.disconnect()
    # The other instance settles the burst it relayed, and a fresh reader sees it all.
    await description_becomes(rest, owner["token"], task["id"], acknowledged, timeout=20)
    fresh = DocClient(servers[0].ws_url, owner["token"], board, task["id"])
    await fresh.connect()
    assert fresh.value == acknowledged
    for client in (watcher, fresh):
        await client.disconnect()


async def test_a_viewer_follows_but_cannot_write(cluster) -> None:
    servers, rest = cluster
    owner, _, board = await shared_board(rest, members=0)
    viewer = await rest.register("viewer")
    await rest.add_member(owner["token"], board, viewer["email"], "viewer")
    task = await new_task(rest, owner["token"], board, "Read me")
    ada = DocClient(servers[0].ws_url, owner["token"], board, task["id"])
    vic = DocClient(servers[1].ws_url, viewer["token"], board, task["id"])
    for client in (ada, vic):
        await client.connect()
    assert ada.writable is True and vic.writable is False
    await vic.insert(0, "vandal ")
    async with asyncio.timeout(10):
        while not vic.errors:
            await asyncio.sleep(0.02)
    assert vic.errors[0]["code"] == "forbidden"
    await ada.insert(0, "Please ")
    await ada.wait_acked()
    async with asyncio.timeout(10):
        while "Please" not in vic.value:
            await asyncio.sleep(0.02)
    await description_becomes(rest, owner["token"], task["id"], "Please Read me")
    for client in (ada, vic):
        await client.disconnect()


async def test_bad_document_messages_get_clear_errors_and_leak_nothing(cluster) -> None:
    servers, rest = cluster
    owner, _, board = await shared_board(rest, members=0)
    task = await new_task(rest, owner["token"], board, "secret plans")
    stranger = await rest.register("stranger")
    stranger_board = await rest.board(stranger["token"], "Elsewhere")
    async with connect(servers[0].ws_url) as socket:

        async def ask(message: dict) -> dict:
            await socket.send(json.dumps(message))
            while True:
                for line in str(await asyncio.wait_for(socket.recv(), 10)).split("\n"):
                    answer = json.loads(line)
                    if answer.get("id") == message.get("id") and answer["type"] != "subscribed":
                        return answer

        await socket.send(json.dumps({"type": "auth", "token": stranger["token"]}))
        await socket.send(json.dumps({"type": "subscribe", "board": stranger_board, "id": "s"}))
        not_member = await ask({"type": "doc.open", "task": task["id"], "id": 1})
        assert (not_member["type"], not_member["code"]) == ("error", "board_not_found")
        assert "secret" not in json.dumps(not_member)
        missing = await ask({"type": "doc.open", "task": "no-such-task", "id": 2})
        assert missing["code"] == "task_not_found"
        not_open = await ask({"type": "doc.update", "task": task["id"], "update": "AAA=", "id": 3})
        assert not_open["code"] == "document_not_open"
        bad_base64 = await ask({"type": "doc.update", "task": task["id"], "update": "***", "id": 4})
        assert bad_base64["code"] == "invalid_message"
        no_task = await ask({"type": "doc.open", "id": 5})
        assert no_task["code"] == "invalid_message"

    async with connect(servers[0].ws_url) as socket:
        await socket.send(json.dumps({"type": "auth", "token": owner["token"]}))
        await socket.send(json.dumps({"type": "doc.open", "task": task["id"], "id": 6}))
        answer = json.loads(str(await asyncio.wait_for(socket.recv(), 10)).split("\n")[-1])
        if answer["type"] == "ready":
            answer = json.loads(str(await asyncio.wait_for(socket.recv(), 10)).split("\n")[-1])
        assert answer["code"] == "not_subscribed"
        await socket.send(json.dumps({"type": "subscribe", "board": board, "id": "s"}))
        await socket.send(json.dumps({"type": "doc.open", "task": task["id"], "id": 7}))
        await socket.send(
            json.dumps(
                {"type": "doc.update", "task": task["id"], "update": base64.b64encode(b"\x05garbage").decode(), "id": 8}
            )
        )
        answers = []
        async with asyncio.timeout(10):
            while not any(a.get("id") == 8 for a in answers):
                answers += [json.loads(line) for line in str(await socket.recv()).split("\n")]
        assert next(a for a in answers if a.get("id") == 8)["code"] == "invalid_update"
    # Nothing bad was kept: the document still reads as the description.
    reader = DocClient(servers[1].ws_url, owner["token"], board, task["id"])
    await reader.connect()
    assert reader.value == "secret plans"
    await reader.disconnect()


async def test_removal_from_the_board_closes_the_document(cluster) -> None:
    servers, rest = cluster
    owner, members, board = await shared_board(rest, members=1)
    task = await new_task(rest, owner["token"], board, "x")
    bob = DocClient(servers[1].ws_url, members[0]["token"], board, task["id"])
    await bob.connect()
    await rest.call("DELETE", f"/api/v1/boards/{board}/members/{members[0]['id']}", owner["token"])
    closed = await bob._wait_for(lambda m: m.get("type") == "doc.closed")
    assert closed["task"] == task["id"]
    await bob.insert(0, "after removal ")
    async with asyncio.timeout(10):
        while not bob.errors:
            await asyncio.sleep(0.02)
    assert bob.errors[0]["code"] == "document_not_open"
    await bob.disconnect()
