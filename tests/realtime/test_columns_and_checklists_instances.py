"""Columns and checklists across two real server processes sharing one SQLite file and
one real Redis: a change made through either instance reaches the clients of both, and
changes racing through both instances are all kept (the compare-and-set holds across
processes, not only within one)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.realtime.client import WsClient
from tests.realtime.follower import Rest, shared_board
from tests.support.servers import AppServer, app_servers
from tests.support.services import RedisServer

pytestmark = pytest.mark.processes


@pytest.fixture(scope="module")
def servers(redis: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[AppServer]]:
    workdir = tmp_path_factory.mktemp("columns-instances")
    with app_servers(2, f"sqlite:///{workdir / 'shared.db'}", redis.url, workdir) as started:
        yield started


async def test_column_and_checklist_changes_cross_instances_and_races_keep_every_change(
    servers: list[AppServer],
) -> None:
    rest_a, rest_b = Rest(servers[0].url), Rest(servers[1].url)
    try:
        owner, (member,), board = await shared_board(rest_a)
        await rest_a.call("PATCH", f"/api/v1/boards/{board}/members/{member['id']}", owner["token"], {"role": "admin"})
        clients = [await WsClient.open(server.ws_url) for server in servers]
        for client, account in zip(clients, (owner, member), strict=True):
            await client.auth(account["token"])
            await client.subscribe(board)

        await rest_a.call("POST", f"/api/v1/boards/{board}/columns", owner["token"], {"name": "Code Review 👀"})
        task = await rest_a.call("POST", f"/api/v1/boards/{board}/tasks", owner["token"], {"title": "Ship it"})
        added = await rest_b.call("POST", f"/api/v1/tasks/{task['id']}/checklist", member["token"], {"text": "Notes"})
        item = added["checklist"][0]["id"]
        await rest_b.call("PATCH", f"/api/v1/tasks/{task['id']}/checklist/{item}", member["token"], {"done": True})
        for client in clients:
            got = [(await client.recv_type("event"))["event"] for _ in range(4)]
            assert got == ["column.created", "task.created", "checklist_item.created", "checklist_item.updated"]

        # Both admins add columns and ticks at once, half through each instance.
        names = [f"Lane {n}" for n in range(8)]
        writes = [(rest_a, owner) if n % 2 else (rest_b, member) for n in range(len(names))]
        await asyncio.gather(
            *(
                rest.call("POST", f"/api/v1/boards/{board}/columns", account["token"], {"name": name})
                for (rest, account), name in zip(writes, names, strict=True)
            ),
            *(
                rest.call("POST", f"/api/v1/tasks/{task['id']}/checklist", account["token"], {"text": name})
                for (rest, account), name in zip(writes, names, strict=True)
            ),
        )
        read = await rest_b.call("GET", f"/api/v1/boards/{board}", owner["token"])
        assert sorted(name for name in read["column_names"].values() if name.startswith("Lane")) == names
        current = await rest_a.call("GET", f"/api/v1/tasks/{task['id']}", owner["token"])
        assert sorted(i["text"] for i in current["checklist"]) == sorted(["Notes", *names])
        # Every one of those 16 changes reached both instances' clients, in seq order.
        for client in clients:
            seqs = [(await client.recv_type("event", timeout=10))["seq"] for _ in range(16)]
            assert seqs == sorted(seqs) and len(set(seqs)) == 16
            await client.close()
    finally:
        await rest_a.close()
        await rest_b.close()
