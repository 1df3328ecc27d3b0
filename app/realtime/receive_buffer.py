"""A bounded receive buffer for Quart WebSockets.

Quart reads every incoming frame into an unbounded queue as fast as the network delivers
it, whatever the handler does; a client that floods frames while a subscribe waits on the
store could grow our memory without limit. This buffer holds ``LIMIT`` frames; past that
it drops them and raises a flag on which the reader closes the connection (1008). It never
blocks Quart's reader, which must stay free to see the client's disconnect.
"""

from __future__ import annotations

import asyncio
from collections import deque

from quart.wrappers.base import ClientDisconnectedError
from quart.wrappers.websocket import Websocket

LIMIT = 64


class BoundedReceiveBuffer:
    """A deque and one waiter rather than an asyncio.Queue: it is kept per connection, and
    one reader is all a WebSocket has (a Queue's three deques cost ~1 KiB more each)."""

    __slots__ = ("_disconnected", "_frames", "_waiter", "overflowed")

    def __init__(self) -> None:
        self._frames: deque[bytes | str] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._disconnected = False
        self.overflowed = False

    async def put(self, data: bytes | str | None) -> None:
        if data is None:
            # Quart hands over ``event.get("bytes") or event["text"]``: an empty binary
            # frame arrives as None. It is an empty binary frame.
            data = b""
        if len(self._frames) >= LIMIT:
            self.overflowed = True
            return
        self._frames.append(data)
        self._wake()

    async def get(self) -> bytes | str:
        while not self._frames:
            if self._disconnected:
                raise ClientDisconnectedError()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._frames.popleft()

    def disconnect(self) -> None:
        self._disconnected = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class BoundedWebsocket(Websocket):
    """Install as ``app.websocket_class``."""

    buffer_class = BoundedReceiveBuffer  # type: ignore[assignment]

    async def send(self, data: str | bytes) -> None:
        """Quart's ``send`` first yields to the event loop (``asyncio.sleep(0)``, for
        handlers that send in a tight loop) and re-runs ``accept`` with fresh headers on
        every call. Our writer sends only after accepting and only what the hub queued, so
        neither is needed; without the yield, a send the socket can take at once finishes
        inside ``Connection.push`` (an eager task) and a fan-out costs no task switch per
        socket."""
        await self._send(data)
