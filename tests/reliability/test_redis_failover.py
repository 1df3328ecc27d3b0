"""Failovers of the Redis behind Taskwire, on real processes: a Redis Cluster (three
primaries, three replicas) and a primary watched by three sentinels. Two instances, clients
on both, a burst of writes through both; mid-burst the primary serving the board's channel
is killed with SIGKILL and a replica is promoted. Every client still ends with every seq
exactly once and in order, live delivery resumes, and what instances share through Redis
(rate limits, presence) still works on the new primary.

Each test prints how long delivery took to resume after the kill (``-s`` shows it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from tests.realtime.client import WsClient
from tests.realtime.follower import Rest, expect_every_seq_once, followers_on, shared_board, write_steadily
from tests.support.redis_topologies import RedisClusterNodes, RedisSentinels, redis_cluster, redis_sentinels
from tests.support.servers import AppServer, app_servers

pytestmark = pytest.mark.processes

API_LIMIT = 100  # requests per user per minute: low enough to reach, above what the burst uses
ENV = {"TASKWIRE_RATE_LIMIT_API": str(API_LIMIT)}


@pytest.fixture
def cluster_nodes() -> Iterator[RedisClusterNodes]:
    with redis_cluster(primaries=3, replicas_each=1, node_timeout_ms=1500) as nodes:
        yield nodes


@pytest.fixture
def sentinel_nodes() -> Iterator[RedisSentinels]:
    with redis_sentinels(down_after_ms=1000) as nodes:
        yield nodes


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


async def test_a_cluster_failover_mid_burst_loses_and_repeats_nothing(
    cluster_nodes: RedisClusterNodes, workdir: Path
) -> None:
    async def kill_the_boards_primary(board: str) -> None:
        victim = cluster_nodes.primary_of(f"taskwire:board:{board}")
        victim.kill()

    with app_servers(2, f"sqlite:///{workdir / 'shared.db'}", cluster_nodes.url, workdir, ENV) as servers:
        resumed = await _failover_mid_burst(servers, kill_the_boards_primary)
    print(f"\ncluster failover: every client caught up {resumed:.1f}s after the primary was killed")


async def test_a_sentinel_failover_mid_burst_loses_and_repeats_nothing(
    sentinel_nodes: RedisSentinels, workdir: Path
) -> None:
    async def kill_the_primary(board: str) -> None:
        sentinel_nodes.primary.kill()

    with app_servers(2, f"sqlite:///{workdir / 'shared.db'}", sentinel_nodes.url, workdir, ENV) as servers:
        resumed = await _failover_mid_burst(servers, kill_the_primary)
    assert sentinel_nodes.current_primary_port() == sentinel_nodes.replica.port
    print(f"\nsentinel failover: every client caught up {resumed:.1f}s after the primary was killed")


async def _failover_mid_burst(servers: list[AppServer], kill_primary: Callable[[str], Awaitable[None]]) -> float:
    """The scenario; returns the seconds from the kill until every client held every seq."""
    rest_a, rest_b = Rest(servers[0].url), Rest(servers[1].url)
    try:
        owner, members, board = await shared_board(rest_a, members=1)
        followers = await followers_on(servers, [owner, *members], board, per_instance=2)

        writing = asyncio.gather(
            write_steadily(rest_a, owner["token"], board, 25, pause=0.02),
            write_steadily(rest_b, members[0]["token"], board, 25, pause=0.02),
        )
        await asyncio.sleep(0.3)
        loop = asyncio.get_running_loop()
        killed_at = loop.time()
        await kill_primary(board)
        await writing
        latest = await rest_a.latest_seq(owner["token"], board)
        for follower in followers:
            await follower.wait_for(latest, timeout=40)
        resumed = max(follower.arrived[-1] for follower in followers) - killed_at

        # Live again: one more write reaches everybody without any reconnect or resync.
        await rest_b.task(members[0]["token"], board, "after the failover")
        await expect_every_seq_once(followers, latest + 1)

        await _rate_limit_is_shared(rest_a, rest_b)
        await _presence_crosses_instances(servers, owner, members[0], board)
        return resumed
    finally:
        await rest_a.close()
        await rest_b.close()


async def _rate_limit_is_shared(rest_a: Rest, rest_b: Rest) -> None:
    """API_LIMIT requests of one user through both instances pass, the next is refused."""
    user = await rest_a.register("limited")
    headers = {"Authorization": f"Bearer {user['token']}"}
    statuses = []
    for number in range(API_LIMIT + 1):
        rest = (rest_a, rest_b)[number % 2]
        statuses.append((await rest.http.get("/api/v1/boards", headers=headers)).status_code)
    assert statuses[:API_LIMIT] == [200] * API_LIMIT and statuses[-1] == 429, statuses


async def _presence_crosses_instances(servers: list[AppServer], owner: dict, member: dict, board: str) -> None:
    viewer = await WsClient.open(servers[0].ws_url)
    other = await WsClient.open(servers[1].ws_url)
    try:
        await viewer.auth(owner["token"])
        await viewer.subscribe(board)
        await other.auth(member["token"])
        await other.subscribe(board)
        seen = await viewer.recv_until(
            lambda message: message["type"] == "presence" and message["count"] == 2, timeout=10
        )
        assert {user["id"] for user in seen[-1]["users"]} == {owner["id"], member["id"]}
    finally:
        await viewer.close()
        await other.close()
