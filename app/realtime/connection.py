"""One WebSocket connection as the hub sees it: who it is, what it is subscribed to, and a
bounded outbox drained by one send at a time.

``push`` never blocks and never waits for the network: the hub calls it for every local
socket inside the broker's receive callback, so one slow reader must not slow the others.
A full outbox closes that connection with 4408 instead (it catches up on reconnect).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Awaitable, Callable

from app.domain.models import User
from app.observability import metrics
from app.realtime.subscription import BoardSubscription

CLOSE_POLICY = 1008  # the client floods us with frames faster than we read them
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_RESTARTING = 1012
CLOSE_TRY_AGAIN = 1013  # the store or broker is down while authenticating
CLOSE_UNAUTHORIZED = 4401
CLOSE_SLOW_CONSUMER = 4408

# Frames the writer packs under load (contract: one JSON object per line). A frame is
# kept well under the 1 MiB default limit of common clients.
MAX_PACKED_MESSAGES = 256
MAX_PACKED_CHARS = 256 * 1024

_numbers = itertools.count(1)

SendText = Callable[[str], Awaitable[None]]


class Connection:
    def __init__(self, send_text: SendText, queue_limit: int) -> None:
        self.number = next(_numbers)
        self.user: User | None = None
        self.session_id: str | None = None  # closed with 4401 when this session ends
        self.subscriptions: dict[str, BoardSubscription[Connection]] = {}
        self._send_text = send_text
        self._queue_limit = queue_limit
        # A list, not a deque: most of the time it is empty, and an empty list is 10x
        # smaller; frames are taken from its head in slices.
        self._outbox: list[str] = []
        self._flushing: asyncio.Task | None = None
        self._loop = asyncio.get_running_loop()
        self._room: asyncio.Event | None = None  # only while a replay waits for room
        self._close_requested = asyncio.Event()
        self.close_code: int | None = None

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    def push(self, text: str) -> None:
        """Queue one message and start sending it at once; close with 4408 when the reader
        cannot keep up."""
        if self.close_code is not None:
            return
        if len(self._outbox) >= self._queue_limit:
            metrics.WS_SLOW_CONSUMERS.inc()
            self.request_close(CLOSE_SLOW_CONSUMER)
            return
        self._outbox.append(text)
        if self._flushing is None:
            # Eager: the send runs right here and, unless the socket pushes back, finishes
            # without a task switch; a fan-out to hundreds of sockets then costs no
            # wake-ups. Only a send that has to wait becomes a task of its own.
            flushing = asyncio.Task(self._flush(), loop=self._loop, eager_start=True)
            if not flushing.done():
                self._flushing = flushing

    async def _flush(self) -> None:
        """Send until the outbox is empty. Messages queued meanwhile go out as one frame,
        one per line, so a burst costs one socket write per connection, not one per message."""
        try:
            while self._outbox and self.close_code is None:
                await self._send_text(self._take_frame())
                if self._room is not None and len(self._outbox) < self._queue_limit // 2:
                    self._room.set()
        except Exception:  # the peer is gone: the handler closes and cleans up
            self.request_close(CLOSE_INTERNAL)
        finally:
            self._flushing = None

    async def wait_for_room(self) -> None:
        """Wait while the outbox is half full: a replay is paced by its reader rather than
        taken for a slow consumer."""
        while len(self._outbox) >= self._queue_limit // 2 and self.close_code is None:
            self._room = asyncio.Event()
            try:
                await self._room.wait()
            finally:
                self._room = None

    def request_close(self, code: int) -> None:
        """Ask the handler to close with ``code``; the first request wins."""
        if self.close_code is None:
            self.close_code = code
            self._outbox.clear()
            if self._room is not None:
                self._room.set()
            self._close_requested.set()

    async def wait_close_requested(self) -> int:
        await self._close_requested.wait()
        assert self.close_code is not None
        return self.close_code

    async def stop_sending(self) -> None:
        """Cancel a send in flight: it may be stuck on a reader that stopped reading."""
        if (flushing := self._flushing) is not None:
            flushing.cancel()
            await asyncio.gather(flushing, return_exceptions=True)

    def _take_frame(self) -> str:
        outbox = self._outbox
        if len(outbox) == 1:
            return outbox.pop()
        count, size = 0, 0
        for text in outbox:
            if count == MAX_PACKED_MESSAGES or (count and size + len(text) >= MAX_PACKED_CHARS):
                break
            count, size = count + 1, size + len(text) + 1
        frame = "\n".join(outbox[:count])
        del outbox[:count]
        return frame
