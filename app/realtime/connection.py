"""One WebSocket connection as the hub sees it: who it is, what it is subscribed to, and a
bounded outbox drained by one send at a time.

``push`` never blocks and never waits for the network: the hub calls it for every local
socket inside the broker's receive callback, so one slow reader must not slow the others.
Where the server lets us (``frames.FrameOutlet``), a message goes straight to the socket's
transport as a frame built once per message, while the transport has room; only a socket
that pushes back queues, and gets a task that waits for room and sends what queued in one
packed frame. A full outbox closes that connection with 4408 instead (it catches up on
reconnect).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

from app.domain.models import User
from app.observability import metrics
from app.realtime.frames import FrameOutlet, text_frame
from app.realtime.protocol import Outbound
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

# Sends one batch of queued messages (WebSocket: as one packed frame; SSE: as events).
SendBatch = Callable[[list[Outbound]], Awaitable[None]]


def packed_text(batch: list[Outbound]) -> str:
    """A batch as one frame's text: one JSON message per line (the contract)."""
    return batch[0].text if len(batch) == 1 else "\n".join(message.text for message in batch)


def text_sender(send_text: Callable[[str], Awaitable[None]]) -> SendBatch:
    """A WebSocket's send (bound now, in the handler's context: the hub calls it from the
    broker's) as a SendBatch: one packed frame per batch."""

    async def send(batch: list[Outbound]) -> None:
        await send_text(packed_text(batch))

    return send


def frame_of(message: Outbound | str) -> bytes:
    if isinstance(message, str):
        return text_frame(message)
    frame = message.frame
    if frame is None:
        frame = message.frame = text_frame(message.text)
    return frame


class WriteCoalescer:
    """An optional write delay (``TASKWIRE_WS_WRITE_DELAY``, off by default): what a socket
    is sent within ``delay`` of its first message goes out together, one packed frame per
    socket per tick, at one timer per instance. Sockets that got the same messages share
    the bytes of that frame. Fewer, larger writes under a high event rate, for up to
    ``delay`` more latency."""

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._due: list[Connection] = []
        self._timer: asyncio.TimerHandle | None = None

    def schedule(self, conn: Connection) -> None:
        self._due.append(conn)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._delay, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._due.clear()

    def _tick(self) -> None:
        self._timer = None
        due, self._due = self._due, []
        shared: dict[tuple[int, ...], bytes] = {}  # a batch's frame by its messages' identities
        for conn in due:
            conn.write_due(shared)


class Connection:
    def __init__(self, send: SendBatch, queue_limit: int, frames: FrameOutlet | None = None) -> None:
        self.number = next(_numbers)
        self.user: User | None = None
        self.session_id: str | None = None  # closed with 4401 when this session ends
        self.subscriptions: dict[str, BoardSubscription[Connection]] = {}
        self._send = send
        self._frames = frames
        self._coalescer: WriteCoalescer | None = None
        self._queue_limit = queue_limit
        # A list, not a deque: most of the time it is empty, and an empty list is 10x
        # smaller; frames are taken from its head in slices.
        self._outbox: list[Outbound] = []
        self._flushing: asyncio.Task[None] | None = None
        self._loop = asyncio.get_running_loop()
        self._room: asyncio.Event | None = None  # only while a replay waits for room
        self._close_requested = asyncio.Event()
        self.close_code: int | None = None

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    @property
    def writes_frames_directly(self) -> bool:
        return self._frames is not None

    @property
    def queued(self) -> int:
        """Messages waiting for the socket to take them."""
        return len(self._outbox)

    def coalesce_writes(self, coalescer: WriteCoalescer) -> None:
        if self._frames is not None:
            self._coalescer = coalescer

    def push(self, message: Outbound | str) -> None:
        """Send one message now if the socket takes it, else queue it; close with 4408 when
        the reader cannot keep up."""
        if self.close_code is not None:
            return
        frames = self._frames
        # Nothing flushing means nothing queued (without a write delay): writing now keeps
        # the order.
        if frames is not None and self._flushing is None and self._coalescer is None and frames.has_room():
            frames.write(frame_of(message))
            return
        if len(self._outbox) >= self._queue_limit:
            metrics.WS_SLOW_CONSUMERS.inc()
            self.request_close(CLOSE_SLOW_CONSUMER)
            return
        self._outbox.append(Outbound(message) if isinstance(message, str) else message)
        if self._coalescer is not None and self._flushing is None:
            if len(self._outbox) == 1:
                self._coalescer.schedule(self)
        elif self._flushing is None:
            # Eager: a send that need not wait finishes right here, without a task switch;
            # only a socket that pushes back gets a task of its own.
            flushing = asyncio.Task(self._flush(), loop=self._loop, eager_start=True)
            if not flushing.done():
                self._flushing = flushing

    async def _flush(self) -> None:
        """Send until the outbox is empty. Messages queued meanwhile go out as one frame,
        one per line, so a burst costs one socket write per connection, not one per message."""
        frames = self._frames
        try:
            while self._outbox and self.close_code is None:
                if frames is None:
                    await self._send(self._take_batch())
                else:
                    await frames.drain()
                    if self.closing:  # while it waited
                        break
                    if not frames.has_room():  # drained, so the WebSocket is closing: the peer is gone
                        self.request_close(CLOSE_INTERNAL)
                        break
                    batch = self._take_batch()
                    frames.write(frame_of(batch[0]) if len(batch) == 1 else text_frame(packed_text(batch)))
                self._made_room()
        except Exception:  # the peer is gone: the handler closes and cleans up
            self.request_close(CLOSE_INTERNAL)
        finally:
            self._flushing = None

    def _made_room(self) -> None:
        if self._room is not None and len(self._outbox) < self._queue_limit // 2:
            self._room.set()

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

    def write_due(self, shared: dict[tuple[int, ...], bytes]) -> None:
        """The write delay is over: send what queued, as far as the transport takes it."""
        frames = self._frames
        if frames is None or self._flushing is not None or self.close_code is not None:
            return
        while self._outbox and frames.has_room():
            batch = self._take_batch()
            if len(batch) == 1:
                frames.write(frame_of(batch[0]))
                continue
            key = tuple(map(id, batch))  # the messages are alive in ``batch``: ids are unique
            if (frame := shared.get(key)) is None:
                frame = shared[key] = text_frame(packed_text(batch))
            frames.write(frame)
        self._made_room()
        if self._outbox:  # the socket pushes back: its own task waits for room
            flushing = asyncio.Task(self._flush(), loop=self._loop, eager_start=True)
            if not flushing.done():
                self._flushing = flushing

    def _take_batch(self) -> list[Outbound]:
        outbox = self._outbox
        if len(outbox) == 1:
            return [outbox.pop()]
        count, size = 0, 0
        for message in outbox:
            if count == MAX_PACKED_MESSAGES or (count and size + len(message.text) >= MAX_PACKED_CHARS):
                break
            count, size = count + 1, size + len(message.text) + 1
        batch = outbox[:count]
        del outbox[:count]
        return batch
