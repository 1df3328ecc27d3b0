"""Clients for the multi-process tests: a REST helper over httpx, and a ``Follower`` that
follows one board like a well-behaved real client, resuming from its last seq on another
instance whenever its connection drops."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.support.servers import AppServer

PASSWORD = "correct horse battery"
_numbers = itertools.count()


class Rest:
    """Just the REST calls these tests make, against one instance."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self, method: str, path: str, token: str | None = None, json_body: Any = None, retry_unavailable: bool = True
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for _ in range(200):
            try:
                response = await self.http.request(method, path, json=json_body, headers=headers)
            except httpx.TransportError:
                if not retry_unavailable:
                    raise
                await asyncio.sleep(0.1)
                continue
            if response.status_code == 503 and retry_unavailable:  # Redis is restarting
                await asyncio.sleep(0.1)
                continue
            assert response.status_code < 400, (method, path, response.status_code, response.text)
            return response.json() if response.content else None
        raise AssertionError(f"{method} {path} kept failing")

    async def register(self, name: str = "user") -> dict[str, Any]:
        number = next(_numbers)
        body = await self.call(
            "POST",
            "/api/v1/auth/register",
            json_body={
                "email": f"{name}.{number}.{id(self)}@example.test",
                "password": PASSWORD,
                "name": f"{name}{number}",
            },
        )
        return {"id": body["user"]["id"], "email": body["user"]["email"], "token": body["access_token"]}

    async def board(self, token: str, name: str = "Shared") -> str:
        return (await self.call("POST", "/api/v1/boards", token, {"name": name}))["id"]

    async def add_member(self, token: str, board: str, email: str, role: str = "editor") -> None:
        await self.call("POST", f"/api/v1/boards/{board}/members", token, {"email": email, "role": role})

    async def task(self, token: str, board: str, title: str) -> None:
        await self.call("POST", f"/api/v1/boards/{board}/tasks", token, {"title": title})

    async def latest_seq(self, token: str, board: str) -> int:
        return (await self.call("GET", f"/api/v1/boards/{board}", token))["seq"]


class Follower:
    """Receives every event of one board; on a dropped connection it reconnects (to the
    next URL) and subscribes with ``since`` = the last seq it holds."""

    def __init__(self, urls: list[str], token: str, board: str) -> None:
        self.urls = urls
        self.token = token
        self.board = board
        self.seqs: list[int] = []
        self.arrived: list[float] = []  # loop time each seq arrived, beside ``seqs``
        self.connections = 0
        self.close_codes: list[int | None] = []
        self.subscribed = asyncio.Event()
        self.unexpected: list[dict[str, Any]] = []
        self._task: asyncio.Task | None = None

    @property
    def last(self) -> int:
        return self.seqs[-1] if self.seqs else 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def wait_for(self, seq: int, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while self.last < seq:
                await asyncio.sleep(0.02)

    async def _run(self) -> None:
        for attempt in itertools.count():
            url = self.urls[self.connections % len(self.urls)] if attempt else self.urls[0]
            try:
                await self._follow(url)
            except (ConnectionClosed, OSError, InvalidHandshake, TimeoutError) as error:
                self.close_codes.append(getattr(getattr(error, "rcvd", None), "code", None))
            self.subscribed.clear()
            await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))

    async def _follow(self, url: str) -> None:
        async with connect(url, open_timeout=5, max_size=None) as connection:
            self.connections += 1
            await connection.send(json.dumps({"type": "auth", "token": self.token}))
            await connection.send(json.dumps({"type": "subscribe", "board": self.board, "since": self.last}))
            async for frame in connection:
                for line in frame.split("\n"):
                    self._take(json.loads(line))

    def _take(self, message: dict[str, Any]) -> None:
        if message["type"] == "event":
            self.seqs.append(message["seq"])
            self.arrived.append(asyncio.get_running_loop().time())
        elif message["type"] == "subscribed":
            self.subscribed.set()
        elif message["type"] in ("reset", "error", "unsubscribed"):
            self.unexpected.append(message)


# -- scenarios shared by the multi-process tests -----------------------------------------
async def shared_board(rest: Rest, members: int = 1) -> tuple[dict, list[dict], str]:
    owner = await rest.register("owner")
    board = await rest.board(owner["token"])
    others = [await rest.register("member") for _ in range(members)]
    for member in others:
        await rest.add_member(owner["token"], board, member["email"])
    return owner, others, board


async def followers_on(servers: list[AppServer], accounts: list[dict], board: str, per_instance: int) -> list[Follower]:
    followers = []
    for index in range(per_instance * len(servers)):
        server_order = servers[index % len(servers) :] + servers[: index % len(servers)]
        follower = Follower([server.ws_url for server in server_order], accounts[index % len(accounts)]["token"], board)
        follower.start()
        followers.append(follower)
    for follower in followers:
        await asyncio.wait_for(follower.subscribed.wait(), 10)
    return followers


async def write_steadily(rest: Rest, token: str, board: str, count: int, pause: float = 0.01) -> None:
    """``count`` tasks one after the other, as a busy user would, through one instance."""
    for number in range(count):
        await rest.task(token, board, f"steady {number}")
        await asyncio.sleep(pause)


async def expect_every_seq_once(followers: list[Follower], latest: int) -> None:
    try:
        for follower in followers:
            await follower.wait_for(latest)
        await asyncio.sleep(0.3)  # anything extra (a duplicate) would arrive by now
        for follower in followers:
            assert follower.seqs == list(range(1, latest + 1)), follower.seqs
            assert follower.unexpected == []
    finally:
        for follower in followers:
            await follower.stop()
