"""Two real server processes sharing one SQLite file and one real redis-server: whichever
instance writes the events, one webhook is delivered by one instance at a time (never two
requests in flight for it), and killing the delivering instance with SIGKILL does not
stop delivery: the other takes over when the lease runs out."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integrations.receiver import Receiver
from tests.realtime.follower import Rest
from tests.support.servers import AppServer, app_servers
from tests.support.services import RedisServer

pytestmark = pytest.mark.processes

LEASE_TTL = 1.5
WEBHOOK_ENV = {
    "TASKWIRE_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
    "TASKWIRE_WEBHOOK_LEASE_TTL": str(LEASE_TTL),
    "TASKWIRE_WEBHOOK_POLL_INTERVAL": "0.2",
    "TASKWIRE_WEBHOOK_RETRY_BASE": "0.05",
    "TASKWIRE_WEBHOOK_RETRY_CAP": "0.2",
}


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("webhook-instances") / "shared.db"


@pytest.fixture(scope="module")
def instances(redis: RedisServer, shared_db: Path) -> Iterator[list[AppServer]]:
    with app_servers(2, f"sqlite:///{shared_db}", redis.url, shared_db.parent, extra_env=WEBHOOK_ENV) as servers:
        yield servers


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _board_with_webhook(rest: Rest, url: str) -> tuple[str, str, dict]:
    owner = await rest.register("owner")
    board = await rest.board(owner["token"])
    hook = await rest.call("POST", f"/api/v1/boards/{board}/webhooks", owner["token"], {"url": url})
    return owner["token"], board, hook


async def _delivering_instance(database: Path, webhook_id: str, instances: list[AppServer]) -> AppServer:
    """The instance holding the webhook's lease, read from the shared file (the lease
    owner is host:pid:suffix); waits out the moment between two holders."""
    for _ in range(100):
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT lease_owner FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()
        pid = None if row is None or row[0] is None else int(row[0].split(":")[1])
        for server in instances:
            if server.pid == pid:
                return server
        await asyncio.sleep(0.02)
    raise AssertionError("no instance holds the lease")


async def test_events_written_through_both_instances_are_delivered_once_each_one_at_a_time(
    instances: list[AppServer], receiver: Receiver
) -> None:
    receiver.delay = 0.03  # holds each request open long enough for an overlap to show
    rests = [Rest(server.url) for server in instances]
    try:
        token, board, hook = await _board_with_webhook(rests[0], receiver.url)
        start = hook["last_delivered_seq"]
        await asyncio.gather(
            *(rest.task(token, board, f"{n} via {i}") for n in range(15) for i, rest in enumerate(rests))
        )
        latest = await rests[1].latest_seq(token, board)
        assert latest == start + 30
        await receiver.wait_for(lambda: len(receiver.received(hook["id"])) >= 30, timeout=20)
        await asyncio.sleep(0.3)  # a duplicate would have arrived by now
    finally:
        for rest in rests:
            await rest.close()
    assert [r.seq for r in receiver.received(hook["id"])] == list(range(start + 1, latest + 1))
    assert receiver.max_in_flight[hook["id"]] == 1


async def test_killing_the_delivering_instance_does_not_stop_delivery(
    instances: list[AppServer], shared_db: Path, receiver: Receiver
) -> None:
    receiver.delay = 0.15  # the backlog keeps one instance busy, holding the lease
    rests = [Rest(server.url) for server in instances]
    try:
        token, board, hook = await _board_with_webhook(rests[0], receiver.url)
        for n in range(16):
            await rests[n % 2].task(token, board, f"task {n}")
        await receiver.wait_for(lambda: len(receiver.received(hook["id"])) >= 2)
        delivering = await _delivering_instance(shared_db, hook["id"], instances)
        survivor = rests[1 - instances.index(delivering)]
        killed_at = time.monotonic()
        await asyncio.to_thread(delivering.kill)
        await survivor.task(token, board, "after the kill")
        latest = await survivor.latest_seq(token, board)
        await receiver.wait_for(
            lambda: any(r.seq == latest and r.status == 200 for r in receiver.received(hook["id"])), timeout=20
        )
    finally:
        for rest in rests:
            await rest.close()
    got = [r.seq for r in receiver.received(hook["id"])]
    # At least once: the event in flight when the instance died may come again, never out of order.
    assert [seq for n, seq in enumerate(got) if n == 0 or seq != got[n - 1]] == list(
        range(hook["last_delivered_seq"] + 1, latest + 1)
    )
    assert len(got) - len(set(got)) <= 1
    assert receiver.max_in_flight[hook["id"]] == 1
    resumed = [r for r in receiver.received(hook["id"]) if r.started > killed_at]
    assert resumed and resumed[0].started - killed_at < LEASE_TTL + 3
