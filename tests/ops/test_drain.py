"""A SIGTERM always ends the process within Hypercorn's ``graceful_timeout``, whatever the
clients do: sockets open at the signal, sockets still dialling when it comes, sockets
that never authenticate."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
import tomllib

import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.realtime.client import WsClient
from tests.realtime.follower import Rest
from tests.support.servers import AppServer, app_servers
from tests.support.services import REPO_ROOT, RedisServer

pytestmark = pytest.mark.processes

GRACEFUL_TIMEOUT = tomllib.loads((REPO_ROOT / "hypercorn.toml").read_text())["graceful_timeout"]


async def _keep_dialling(server: AppServer, token: str, board: str, opened: list[WsClient]) -> None:
    """Open, authenticate and subscribe sockets one after another until the server stops
    taking them: some of them land in the moment of the signal, or after it."""
    while server.proc is not None and server.proc.poll() is None:
        try:
            socket = await WsClient.open(server.ws_url)
        except (OSError, InvalidHandshake, TimeoutError):
            return
        opened.append(socket)
        with contextlib.suppress(ConnectionClosed, TimeoutError, OSError):
            await socket.auth(token)
            await socket.subscribe(board)


async def _seconds_from_sigterm_to_exit(server: AppServer) -> float:
    """SIGTERM, then wait well past graceful_timeout; how long the process took to end."""
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        await asyncio.to_thread(server.proc.wait, GRACEFUL_TIMEOUT + 25)
    return time.monotonic() - started


async def _sigterm_with_sockets_in_every_state(server: AppServer, token: str, board: str) -> float:
    sockets = []
    for _ in range(4):  # 200 sockets, 50 at a time
        opened = await asyncio.gather(*(WsClient.open(server.ws_url) for _ in range(50)))
        await asyncio.gather(*(socket.auth(token) for socket in opened))
        sockets.extend(opened)
    # Connected, never authenticating: it holds its handler in the auth phase.
    silent = await WsClient.open(server.ws_url)
    dialled: list[WsClient] = []
    dialler = asyncio.create_task(_keep_dialling(server, token, board, dialled))
    # The signal must come while it dials: once its first socket is open (on a loaded box
    # the first open can take longer than any fixed pause), and a little later still.
    async with asyncio.timeout(15):
        while not dialled and not dialler.done():
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    try:
        elapsed = await _seconds_from_sigterm_to_exit(server)
    finally:
        dialler.cancel()
        await asyncio.gather(dialler, return_exceptions=True)
        for socket in [*sockets, silent, *dialled]:
            socket.connection.transport.abort()
    assert dialled, "no socket was dialling at the signal"
    return elapsed


@pytest.mark.parametrize("run", [1, 2, 3])
async def test_sigterm_ends_the_process_within_graceful_timeout_whatever_the_sockets_do(
    tmp_path, redis: RedisServer, run: int
) -> None:
    with app_servers(1, f"sqlite:///{tmp_path / 'one.db'}", redis.url, tmp_path, stop_timeout=1) as (server,):
        rest = Rest(server.url)
        owner = await rest.register("drain")
        board = await rest.board(owner["token"])
        await rest.close()
        elapsed = await _sigterm_with_sockets_in_every_state(server, owner["token"], board)
        print(f"run {run}: exited {elapsed:.2f} s after SIGTERM (graceful_timeout {GRACEFUL_TIMEOUT} s)")
        assert elapsed < GRACEFUL_TIMEOUT and server.proc.returncode == 0, (elapsed, server.log_tail())


async def test_sigterm_ends_the_process_within_graceful_timeout_while_a_request_body_never_arrives(tmp_path) -> None:
    # Hypercorn would let this request run until read_timeout (30 s), and wait for it. The
    # in-process broker: the login's rate-limit hit must not count against other tests.
    with app_servers(1, f"sqlite:///{tmp_path / 'one.db'}", "", tmp_path, stop_timeout=1) as (server,):
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"email": '
        )
        await writer.drain()
        await asyncio.sleep(0.5)
        try:
            elapsed = await _seconds_from_sigterm_to_exit(server)
        finally:
            writer.transport.abort()
        print(f"exited {elapsed:.2f} s after SIGTERM with a request body still missing")
        assert elapsed < GRACEFUL_TIMEOUT, (elapsed, server.log_tail())
