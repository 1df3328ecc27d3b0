"""A test client over the ``websockets`` library that speaks the v1 WebSocket contract:
it splits packed frames on newlines and keeps what it received per board."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

Message = dict[str, Any]


class WsClient:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._lines: deque[str] = deque()
        self.seqs: dict[str, list[int]] = {}  # every event seq received, per board, in order

    @classmethod
    async def open(cls, url: str, origin: str | None = None, **options: Any) -> WsClient:
        headers = {"Origin": origin} if origin else None
        return cls(await connect(url, additional_headers=headers, open_timeout=10, **options))

    async def close(self) -> None:
        await self.connection.close()

    async def send(self, message: Message | str | bytes) -> None:
        await self.connection.send(message if isinstance(message, (str, bytes)) else json.dumps(message))

    async def recv(self, timeout: float = 5.0) -> Message:
        while not self._lines:
            frame = await asyncio.wait_for(self.connection.recv(), timeout)
            self._lines.extend(frame.split("\n"))
        message = json.loads(self._lines.popleft())
        if message.get("type") == "event":
            self.seqs.setdefault(message["board"], []).append(message["seq"])
        return message

    async def recv_until(self, done: Callable[[Message], bool], timeout: float = 5.0) -> list[Message]:
        """Every message up to and including the first for which ``done`` is true."""
        received: list[Message] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no matching message within {timeout}s; got {received[-5:]}")
            received.append(await self.recv(remaining))
            if done(received[-1]):
                return received

    async def recv_type(self, kind: str, timeout: float = 5.0) -> Message:
        return (await self.recv_until(lambda message: message.get("type") == kind, timeout))[-1]

    async def auth(self, token: str) -> Message:
        await self.send({"type": "auth", "token": token})
        return await self.recv()

    async def subscribe(self, board: str, since: int | None = None, request_id: str = "s") -> list[Message]:
        """Subscribe and return every message up to the answer (subscribed or error)."""
        await self.send({"type": "subscribe", "board": board, "since": since, "id": request_id})
        return await self.recv_until(
            lambda message: message.get("type") in ("subscribed", "error") and message.get("id") == request_id
        )

    async def quiet(self, seconds: float = 0.3) -> list[Message]:
        """What arrives within ``seconds`` (an empty list: nothing did)."""
        received: list[Message] = []
        try:
            while True:
                received.append(await self.recv(seconds))
        except TimeoutError:
            return received

    async def closed_with(self, timeout: float = 5.0) -> int:
        """Read until the server closes; the close code it sent."""
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else -1


def event_seqs(messages: list[Message]) -> list[int]:
    return [message["seq"] for message in messages if message.get("type") == "event"]
