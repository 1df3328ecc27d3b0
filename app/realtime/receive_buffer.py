"""A bounded receive buffer for Quart WebSockets.

Quart reads every incoming frame into an unbounded queue as fast as the network delivers
it, whatever the handler does; a client that floods frames while a subscribe waits on the
store could grow our memory without limit. This buffer holds ``LIMIT`` frames; past that
it drops them and raises a flag on which the reader closes the connection (1008). It never
blocks Quart's reader, which must stay free to see the client's disconnect.
"""

from __future__ import annotations

import asyncio

from quart.wrappers.base import ClientDisconnectedError
from quart.wrappers.websocket import Websocket

LIMIT = 64


class BoundedReceiveBuffer:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[bytes | str] = asyncio.Queue()
        self.overflowed = False

    async def put(self, data: bytes | str | None) -> None:
        if data is None:
            # Quart hands over ``event.get("bytes") or event["text"]``: an empty binary
            # frame arrives as None. It is an empty binary frame.
            data = b""
        if self._queue.qsize() >= LIMIT:
            self.overflowed = True
            return
        self._queue.put_nowait(data)

    async def get(self) -> bytes | str:
        try:
            return await self._queue.get()
        except asyncio.QueueShutDown:
            raise ClientDisconnectedError() from None

    def disconnect(self) -> None:
        self._queue.shutdown()


class BoundedWebsocket(Websocket):
    """Install as ``app.websocket_class``."""

    buffer_class = BoundedReceiveBuffer  # type: ignore[assignment]
