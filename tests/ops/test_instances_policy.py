"""Production behaviour that only real processes show: limits shared through Redis by two
instances, and a SIGTERM that lets the request in flight finish and closes live
connections without waiting for them."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
import urllib.error
import urllib.request

import pytest
import redis as redis_client

from tests.realtime.client import WsClient
from tests.realtime.follower import Rest
from tests.realtime.sse_client import SseStream
from tests.support.apiclient import PASSWORD
from tests.support.servers import app_servers

pytestmark = pytest.mark.processes


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _database_of_its_own(url: str) -> str:
    """An emptied database of this worker's Redis that no other test uses: sign-ins are
    counted per IP, and other tests of this worker sign in from 127.0.0.1 as well."""
    own = url.rsplit("/", 1)[0] + "/5"
    with redis_client.Redis.from_url(own) as client:
        client.flushdb()
    return own


def test_the_eleventh_login_in_a_minute_is_refused_wherever_it_lands(tmp_path, redis) -> None:
    with app_servers(
        2,
        f"sqlite:///{tmp_path / 'shared.db'}",
        _database_of_its_own(redis.url),
        tmp_path,
        extra_env={"TASKWIRE_RATE_LIMIT_AUTH": "10"},
    ) as (one, two):
        email = f"limit-{time.time_ns()}@example.test"
        assert post(one.url + "/api/v1/auth/register", {"email": email, "password": PASSWORD, "name": "L"})[0] == 201
        statuses = [
            post((one, two)[attempt % 2].url + "/api/v1/auth/login", {"email": email, "password": PASSWORD})[0]
            for attempt in range(11)
        ]
        assert statuses == [200] * 10 + [429]
        # The budget is shared, not per instance: the other instance refuses too.
        assert post(one.url + "/api/v1/auth/login", {"email": email, "password": PASSWORD})[0] == 429


def test_sigterm_during_a_request_lets_it_finish(tmp_path, redis) -> None:
    # A costly password hash makes registration a request that is surely in flight.
    slow_hash = {"TASKWIRE_ARGON2_TIME_COST": "16", "TASKWIRE_ARGON2_MEMORY_KIB": "131072"}
    with app_servers(1, f"sqlite:///{tmp_path / 'one.db'}", "", tmp_path, extra_env=slow_hash, stop_timeout=15) as (
        server,
    ):
        result: dict = {}
        body = {"email": f"term-{time.time_ns()}@example.test", "password": PASSWORD, "name": "T"}
        worker = threading.Thread(target=lambda: result.update(answer=post(server.url + "/api/v1/auth/register", body)))
        worker.start()
        time.sleep(0.5)  # the hash alone takes over a second: the request is in flight
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        worker.join(30)
        exit_code = server.proc.wait(15)
        assert result["answer"][0] == 201 and result["answer"][1]["access_token"]
        assert exit_code == 0 and time.monotonic() - started < 15


async def test_sigterm_with_live_connections_closes_them_with_1012_and_exits_at_once(tmp_path) -> None:
    # hypercorn.toml as shipped: pings every 20 s, which used to hold the exit that long.
    with app_servers(1, f"sqlite:///{tmp_path / 'one.db'}", "", tmp_path, stop_timeout=30) as (server,):
        rest = Rest(server.url)
        owner = await rest.register("closing")
        board = await rest.board(owner["token"])
        sockets = [await WsClient.open(server.ws_url) for _ in range(3)]
        for socket in sockets:
            await socket.auth(owner["token"])
            await socket.subscribe(board)
        stream = await SseStream.open(server.url, board, owner["token"])
        await stream.until("subscribed")
        await rest.close()

        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert [await socket.closed_with() for socket in sockets] == [1012] * 3
        assert await stream.next() is None  # the event stream ended too; the client resumes elsewhere
        await stream.close()
        exit_code = await asyncio.to_thread(server.proc.wait, 15)
        assert exit_code == 0 and time.monotonic() - started < 5, time.monotonic() - started
