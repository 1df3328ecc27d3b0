"""Redis gone (kill -9) or frozen (SIGSTOP) under two real instances: REST goes on.

Reads and writes are served, rate limits still hold (each instance counts on its own),
a session ended during the outage is refused on every instance (the store knows it) and
stays refused after Redis comes back empty, new WebSockets are accepted, and live fan-out
across instances pauses and then catches up from the log. A frozen Redis costs one
command timeout, not one per request. Each test has a redis-server of its own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.realtime.client import WsClient
from tests.realtime.follower import PASSWORD, Rest
from tests.reliability.instances import alive, running
from tests.support.servers import AppServer
from tests.support.services import RedisServer, redis_server

pytestmark = pytest.mark.processes

API_LIMIT = 60  # per user and minute: low enough to reach, high enough for the test's own calls


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def pair(own_redis: RedisServer, tmp_path: Path) -> Iterator[list[AppServer]]:
    with running(
        tmp_path, count=2, redis_url=own_redis.url, env={"TASKWIRE_RATE_LIMIT_API": str(API_LIMIT)}
    ) as servers:
        yield servers


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _second_session(url: str, email: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.json()


async def _timed(
    client: httpx.AsyncClient, method: str, path: str, token: str, body: Any = None, times: list[float] | None = None
) -> httpx.Response:
    started = time.monotonic()
    response = await client.request(method, path, json=body, headers=bearer(token))
    if times is not None:
        times.append(time.monotonic() - started)
    return response


async def _rate_limited_calls(url: str, token: str, calls: int) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        return [(await client.get("/api/v1/users/me", headers=bearer(token))).status_code for _ in range(calls)]


async def test_with_redis_killed_rest_sessions_and_sockets_go_on_and_fan_out_catches_up(
    pair: list[AppServer], own_redis: RedisServer
) -> None:
    one, two = pair
    rest = Rest(one.url)
    owner = await rest.register("outage")
    board = await rest.board(owner["token"])
    second = await _second_session(one.url, owner["email"])
    follower = await WsClient.open(two.ws_url)
    await follower.auth(owner["token"])
    await follower.subscribe(board)

    await asyncio.to_thread(own_redis.kill)
    times: list[float] = []
    async with httpx.AsyncClient(base_url=one.url, timeout=30) as client:
        for number in range(5):
            created = await _timed(
                client,
                "POST",
                f"/api/v1/boards/{board}/tasks",
                owner["token"],
                {"title": f"during the outage {number}"},
                times,
            )
            assert created.status_code == 201, created.text
            listed = await _timed(client, "GET", f"/api/v1/boards/{board}/tasks", owner["token"], times=times)
            assert listed.status_code == 200 and len(listed.json()["items"]) == number + 1
        ended = await client.post(
            "/api/v1/auth/logout",
            json={"refresh_token": second["refresh_token"]},
            headers=bearer(second["access_token"]),
        )
        assert ended.status_code == 204, ended.text
        ready = (await client.get("/readyz")).json()
        assert ready["status"] == "degraded" and ready["checks"]["broker"].startswith("unavailable"), ready
    for server in pair:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            refused = await client.get("/api/v1/users/me", headers=bearer(second["access_token"]))
            assert (refused.status_code, refused.json()["error"]["code"]) == (401, "session_revoked")
    late = await WsClient.open(two.ws_url)  # no 1013: authentication needs no Redis
    assert (await late.auth(owner["token"]))["type"] == "ready"
    assert (await late.subscribe(board))[-1]["type"] == "subscribed"
    limited = await Rest(one.url).register("limited")
    statuses = await _rate_limited_calls(one.url, limited["token"], API_LIMIT + 5)
    assert set(statuses) == {200, 429} and statuses.count(200) == API_LIMIT, statuses

    await asyncio.to_thread(own_redis.restart)  # empty: every key it held is gone
    await asyncio.wait_for(_until_seq(follower, board, 5), 20)  # caught up from the log
    await rest.task(owner["token"], board, "after the outage")
    await asyncio.wait_for(_until_seq(follower, board, 6), 20)
    await asyncio.wait_for(_until_seq(late, board, 6), 20)
    assert follower.seqs[board] == [1, 2, 3, 4, 5, 6] and late.seqs[board] == [6]
    for server in pair:  # still ended, though Redis lost its mark
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            refused = await client.get("/api/v1/users/me", headers=bearer(second["access_token"]))
            assert (refused.status_code, refused.json()["error"]["code"]) == (401, "session_revoked")
            refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
            assert refreshed.status_code == 401
    print(
        f"redis killed: {len(times)} calls served meanwhile, slowest {max(times) * 1000:.0f} ms; "
        f"rate limit fell back to {statuses.count(200)} per instance, then 429"
    )
    for client in (follower, late):
        await client.close()
    await rest.close()
    assert all(alive(server) for server in pair)


async def _until_seq(client: WsClient, board: str, seq: int) -> None:
    while client.seqs.get(board, [0])[-1] < seq:
        await client.recv(timeout=20)


async def test_with_redis_frozen_rest_answers_without_waiting_for_it(
    pair: list[AppServer], own_redis: RedisServer
) -> None:
    one, _ = pair
    rest = Rest(one.url)
    owner = await rest.register("frozen")
    board = await rest.board(owner["token"])
    os.kill(own_redis.proc.pid, signal.SIGSTOP)
    try:
        first: list[float] = []
        after: list[float] = []
        async with httpx.AsyncClient(base_url=one.url, timeout=30) as client:
            response = await _timed(client, "GET", f"/api/v1/boards/{board}/tasks", owner["token"], times=first)
            assert response.status_code == 200, response.text
            for number in range(10):
                created = await _timed(
                    client,
                    "POST",
                    f"/api/v1/boards/{board}/tasks",
                    owner["token"],
                    {"title": f"frozen {number}"},
                    after,
                )
                assert created.status_code == 201, created.text
                listed = await _timed(client, "GET", f"/api/v1/boards/{board}/tasks", owner["token"], times=after)
                assert listed.status_code == 200, listed.text
        socket = await WsClient.open(one.ws_url)  # no 1013 either
        assert (await socket.auth(owner["token"]))["type"] == "ready"
        assert (await socket.subscribe(board))[-1]["type"] == "subscribed"
    finally:
        os.kill(own_redis.proc.pid, signal.SIGCONT)
    await rest.task(owner["token"], board, "thawed")
    await asyncio.wait_for(_until_seq(socket, board, 11), 20)
    await socket.close()
    print(
        f"redis frozen: first call {first[0] * 1000:.0f} ms (finds it out), the next {len(after)} "
        f"took {sum(after) * 1000:.0f} ms together, slowest {max(after) * 1000:.0f} ms"
    )
    # Not one command timeout (3 s) each: Redis is known down after the first.
    assert sum(after) < 3.0, after
    await rest.close()
