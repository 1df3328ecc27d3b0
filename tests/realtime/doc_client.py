"""A co-editing client for the tests: a WebSocket speaking the v1 contract's ``doc.*``
messages, holding its own copy of a task's description as a pycrdt document, as the
browser holds a Yjs one."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
from typing import Any

from pycrdt import Doc, Text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

Message = dict[str, Any]
_ids = itertools.count(1)
WINDOW = 16  # updates sent and not yet acknowledged


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class DocClient:
    """One person editing one task's description on one instance."""

    def __init__(self, url: str, token: str, board: str, task: str) -> None:
        self.url, self.token, self.board, self.task = url, token, board, task
        self.doc: Doc[Any] = Doc()
        self.text = self.doc.get("description", type=Text)
        self.connection: ClientConnection | None = None
        self.acked: set[int] = set()
        self.errors: list[Message] = []
        self.received: list[Message] = []
        self.opened = asyncio.Event()
        self.close_code: int | None = None
        self.writable: bool | None = None
        self._reader: asyncio.Task[None] | None = None
        self._unacked: dict[int, bytes] = {}

    async def connect(self) -> None:
        """Sign in, follow the board, open the document with what we already hold."""
        self.connection = await connect(self.url, open_timeout=10, max_size=None)
        await self.connection.send(json.dumps({"type": "auth", "token": self.token}))
        await self.connection.send(json.dumps({"type": "subscribe", "board": self.board, "id": "s"}))
        self.opened.clear()
        self._reader = asyncio.create_task(self._read())
        await self._wait_for(lambda m: m.get("type") == "subscribed")
        await self.open()

    async def open(self) -> None:
        await self._request_open()
        async with asyncio.timeout(10):
            await self.opened.wait()

    async def _request_open(self) -> None:
        self.opened.clear()
        await self._send({"type": "doc.open", "task": self.task, "state_vector": b64(self.doc.get_state()), "id": "o"})

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()
        self.connection = None

    # -- editing ---------------------------------------------------------------------------
    async def edit(self, change: Any) -> int:
        """Apply ``change(text)`` locally and send the update; its request id."""
        before = self.doc.get_state()
        change(self.text)
        return await self.send_update(self.doc.get_update(before))

    async def send_update(self, update: bytes) -> int:
        request_id = next(_ids)
        if self.connection is not None:
            # A window, as a real client keeps: a server that falls behind a flood of frames
            # closes the socket (1008) rather than buffer without bound.
            async with asyncio.timeout(120):
                while len(self._unacked) >= WINDOW and self._reader is not None and not self._reader.done():
                    await asyncio.sleep(0.005)
        self._unacked[request_id] = update
        if self.connection is not None:
            with contextlib.suppress(ConnectionClosed):
                await self._send({"type": "doc.update", "task": self.task, "update": b64(update), "id": request_id})
        return request_id

    async def insert(self, position: int, content: str) -> int:
        return await self.edit(lambda text: text.insert(position, content))

    async def wait_acked(self, timeout: float = 60.0) -> None:
        try:
            async with asyncio.timeout(timeout):
                while self._unacked:
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise AssertionError(
                f"{len(self._unacked)} updates not acknowledged (socket closed: {self.close_code}); errors {self.errors[:3]}, last {self.received[-3:]}"
            ) from None

    @property
    def value(self) -> str:
        return str(self.text)

    # -- the wire ----------------------------------------------------------------------------
    async def _send(self, message: Message) -> None:
        assert self.connection is not None
        await self.connection.send(json.dumps(message))

    async def _wait_for(self, done: Any, timeout: float = 10.0) -> Message:
        async with asyncio.timeout(timeout):
            while True:
                for message in self.received:
                    if done(message):
                        return message
                await asyncio.sleep(0.01)

    async def _read(self) -> None:
        assert self.connection is not None
        try:
            async for frame in self.connection:
                for line in str(frame).split("\n"):
                    await self._take(json.loads(line))
        except ConnectionClosed as closed:
            self.close_code = closed.rcvd.code if closed.rcvd else None

    async def _take(self, message: Message) -> None:
        self.received.append(message)
        kind = message.get("type")
        if kind == "doc.opened":
            self.doc.apply_update(base64.b64decode(message["update"]))
            self.writable = message["writable"]
            # What we hold and the server lacks: edits made offline, or sent but never acked.
            missing = self.doc.get_update(base64.b64decode(message["state_vector"]))
            self.opened.set()
            if self.writable and len(missing) > 2:
                await self.send_update(missing)
            for request_id, update in list(self._unacked.items()):
                await self._send({"type": "doc.update", "task": self.task, "update": b64(update), "id": request_id})
        elif kind == "doc.update":
            self.doc.apply_update(base64.b64decode(message["update"]))
        elif kind == "doc.ack":
            self._unacked.pop(message["id"], None)
            self.acked.add(message["id"])
        elif kind == "doc.resync":
            await self._request_open()
        elif kind == "error":
            self.errors.append(message)
            if isinstance(message.get("id"), int):
                self._unacked.pop(message["id"], None)
