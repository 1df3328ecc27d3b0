"""Faults under load, on real processes: an instance killed with SIGKILL, Redis gone for five
seconds, the SQLite file locked by another process, the MongoDB server gone and back, the
disk of the SQLite file full.

After each, what a user relies on must hold: every follower of a board holds every seq
exactly once (it reconnects, to the other instance if need be, with ``since``), and the
tasks REST shows are exactly what the board's event log says. A backing service that is
down is answered with 503 ``unavailable``, and the instance recovers without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.realtime.follower import Follower
from tests.reliability.instances import alive, running
from tests.reliability.load import (
    Score,
    Writer,
    account_with_board,
    assert_rest_state_equals_the_event_log,
    expect_every_seq_exactly_once,
)
from tests.support.servers import AppServer
from tests.support.services import RedisServer, free_port, stop_process, wait_for_port

pytestmark = pytest.mark.processes

# -- two instances over one SQLite file and a real Redis ---------------------------------


@pytest.fixture
def pair(redis: RedisServer, tmp_path: Path) -> Iterator[list[AppServer]]:
    with running(tmp_path, count=2, redis_url=redis.url) as servers:
        yield servers


async def _load(
    servers: list[AppServer], boards: int, followers_per_board: int
) -> tuple[list[Writer], list[Follower], list[tuple[str, str]], Score]:
    urls = [server.url for server in servers]
    ws_urls = [server.ws_url for server in servers]
    score = Score()
    accounts = [await account_with_board(urls[number % 2], f"owner{number}") for number in range(boards)]
    writers = [Writer(urls, token, board, score, seed=number) for number, (token, board) in enumerate(accounts)]
    followers = []
    for number in range(boards * followers_per_board):
        token, board = accounts[number % boards]
        order = ws_urls[number % 2 :] + ws_urls[: number % 2]  # half start on each instance
        follower = Follower(order, token, board)
        follower.start()
        followers.append(follower)
    for follower in followers:
        await asyncio.wait_for(follower.subscribed.wait(), 10)
    return writers, followers, accounts, score


async def _finish(
    servers_alive: AppServer, writers: list[Writer], followers: list[Follower], accounts: list[tuple[str, str]]
) -> dict[str, int]:
    for writer in writers:
        await writer.close()
    totals: Counter = Counter()
    for number, (token, board) in enumerate(accounts):
        latest = await assert_rest_state_equals_the_event_log(servers_alive.url, token, board)
        board_followers = followers[number :: len(accounts)]
        totals.update(await expect_every_seq_exactly_once(board_followers, latest))
        totals["events"] += latest
    return dict(totals)


async def test_clients_of_an_instance_killed_under_load_catch_up_on_the_other_and_lose_nothing(
    pair: list[AppServer],
) -> None:
    writers, followers, accounts, score = await _load(pair, boards=3, followers_per_board=4)
    stop = asyncio.Event()
    load = [asyncio.create_task(writer.run_until(stop)) for writer in writers]
    await asyncio.sleep(2)
    pair[0].kill()
    killed_at = time.monotonic()
    await asyncio.sleep(3)
    stop.set()
    await asyncio.gather(*load)
    totals = await _finish(pair[1], writers, followers, accounts)
    print(
        f"kill -9: {score.line()}; {totals}; "
        f"first write served after the kill: {score.first_success_after_failure - killed_at:.2f}s"
    )
    assert totals["lost"] == 0 and totals["repeated"] == 0
    assert totals["reconnects"] >= len(followers) // 2, "the killed instance's clients never moved"
    assert sum(score.ok.values()) > 50 and alive(pair[1])


async def test_redis_gone_for_five_seconds_mid_stream_costs_no_503_and_loses_nothing(
    pair: list[AppServer], redis: RedisServer
) -> None:
    writers, followers, accounts, score = await _load(pair, boards=3, followers_per_board=4)
    stop = asyncio.Event()
    load = [asyncio.create_task(writer.run_until(stop)) for writer in writers]
    await asyncio.sleep(1.5)
    await asyncio.to_thread(redis.stop)
    stopped_at = time.monotonic()
    await asyncio.sleep(5)
    await asyncio.to_thread(redis.restart)
    back_at = time.monotonic()
    await asyncio.sleep(2.5)
    stop.set()
    await asyncio.gather(*load)
    totals = await _finish(pair[0], writers, followers, accounts)
    print(
        f"redis down {back_at - stopped_at:.1f}s: {score.line()}; {totals}; answers while it was down: "
        f"{score.served_between(stopped_at + 0.5, back_at)}; after it came back: first write served "
        f"{min((t for t in score.served_at if t > back_at), default=back_at) - back_at:.2f}s later"
    )
    assert totals["lost"] == 0 and totals["repeated"] == 0
    # REST needs no Redis: writes go on, and only the fan-out between instances waits for it.
    assert score.unavailable == 0 and score.served_between(stopped_at + 0.5, back_at) > 0
    assert all(alive(server) for server in pair)


# -- the store unreachable: 503 unavailable, then recovery without a restart --------------

# SQLite's WAL locks are bytes 120..127 of the -shm file (write, checkpoint, recovery and the
# five read marks). A process holding all of them shuts out every reader and writer of the
# database, as a stuck backup tool or a hung process on a shared volume would.
_HOLD_WAL_LOCKS = r"""
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
while True:
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 8, 120)
        break
    except BlockingIOError:
        time.sleep(0.001)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


@contextlib.contextmanager
def sqlite_locked_by_another_process(database: Path, seconds: float) -> Iterator[subprocess.Popen]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_WAL_LOCKS, f"{database}-shm", str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        stop_process(holder)


async def _during_outage(url: str, token: str, board: str, outage: float) -> tuple[Counter, list[int]]:
    """A few readers and writers plus /readyz polling while the store is out."""
    statuses: Counter = Counter()
    readiness: list[int] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as client:

        async def request(method: str, path: str, body: Any = None) -> None:
            response = await client.request(method, path, json=body)
            statuses[
                (
                    response.status_code,
                    response.json().get("error", {}).get("code", "") if response.status_code >= 400 else "",
                )
            ] += 1

        async def poll_readiness() -> None:
            deadline = time.monotonic() + outage - 1
            while time.monotonic() < deadline:
                readiness.append((await client.get("/readyz")).status_code)
                await asyncio.sleep(0.5)

        await asyncio.gather(
            request("GET", f"/api/v1/boards/{board}/tasks"),
            request("GET", "/api/v1/users/me"),
            request("POST", f"/api/v1/boards/{board}/tasks", {"title": "during the outage"}),
            poll_readiness(),
        )
    return statuses, readiness


async def _recovers(url: str, token: str, board: str, timeout: float = 30) -> float:
    """Seconds until a write and a read succeed again, polling; the instance is not restarted."""
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=20, headers=headers) as client:
        while time.monotonic() - started < timeout:
            created = await client.post(f"/api/v1/boards/{board}/tasks", json={"title": "after the outage"})
            if created.status_code == 201 and (await client.get("/readyz")).status_code == 200:
                return time.monotonic() - started
            assert created.status_code == 503, created.text
            await asyncio.sleep(0.2)
    raise AssertionError("the instance did not recover")


async def test_a_locked_sqlite_file_is_503_unavailable_and_the_instance_recovers_by_itself(tmp_path: Path) -> None:
    with running(tmp_path) as [server]:
        token, board = await account_with_board(server.url, "locked")
        outage = 14.0
        with sqlite_locked_by_another_process(tmp_path / "taskwire.db", outage):
            statuses, readiness = await _during_outage(server.url, token, board, outage)
        recovered_in = await _recovers(server.url, token, board)
        print(
            f"sqlite locked {outage:.0f}s: answers {dict(statuses)}, /readyz {Counter(readiness)}, "
            f"recovered {recovered_in:.2f}s after the lock went"
        )
        assert statuses == Counter({(503, "unavailable"): 3})
        assert 503 in readiness
        await assert_rest_state_equals_the_event_log(server.url, token, board)
        assert alive(server)


_MONGO_WIRE = r"""
import asyncio, signal, sys
from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.wire import AsyncMongoEcoProxyServer

async def serve():
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with AsyncMongoEcoProxyServer(engine=SQLiteEngine(path=sys.argv[1]), host="127.0.0.1",
                                        port=int(sys.argv[2])):
        print("ready", flush=True)
        await stop.wait()

asyncio.run(serve())
"""


class PersistentMongoWire:
    """mongoeco's wire server on a fixed port over a SQLite file, so that it can be killed
    and started again with its data, as a real mongod would be."""

    def __init__(self, workdir: Path) -> None:
        self.path, self.port = workdir / "mongo.sqlite", free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/taskwire?directConnection=true"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _MONGO_WIRE, str(self.path), str(self.port)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"
        wait_for_port(self.port, proc=self.proc)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def mongo_wire_to_kill(tmp_path: Path) -> Iterator[PersistentMongoWire]:
    server = PersistentMongoWire(tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None:
            stop_process(server.proc)


async def test_mongodb_gone_and_back_is_503_unavailable_then_recovers_by_itself(
    tmp_path: Path, mongo_wire_to_kill: PersistentMongoWire
) -> None:
    with running(tmp_path, database_url=mongo_wire_to_kill.url) as [server]:
        token, board = await account_with_board(server.url, "mongo")
        outage = 8.0
        mongo_wire_to_kill.kill()
        statuses, readiness = await _during_outage(server.url, token, board, outage)
        await asyncio.to_thread(mongo_wire_to_kill.start)
        recovered_in = await _recovers(server.url, token, board)
        print(
            f"mongodb down: answers {dict(statuses)}, /readyz {Counter(readiness)}, "
            f"recovered {recovered_in:.2f}s after it came back"
        )
        assert statuses == Counter({(503, "unavailable"): 3})
        assert 503 in readiness
        await assert_rest_state_equals_the_event_log(server.url, token, board)
        assert alive(server)
