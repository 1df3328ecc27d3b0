"""Two changes to how Hypercorn (0.18) ends an HTTP/1.1 response, applied once per process.

**One write per response of known length**, instead of one for the head and one for the
body. Hypercorn writes a response's status line and headers as soon as the application
starts the response, then its body in a second write: two ``send`` system calls per
request, each of which, on loopback or a virtual NIC, costs the sender the receiver's
wake-up as well (~4 % of an instance's CPU per write under the REST benchmark, py-spy).
When the head carries a Content-Length, Quart sends the body right after it, so the head
is held back and written with the first piece of the body (or with the end of the
message, for an empty body). A streamed response (chunked: Server-Sent Events) is
written as before, head first, so a stream's headers never wait for its first event.

**A lingering close after an early answer.** A request may be answered before its body is
all in: 413 on its announced length, an upload cut off past its limit, a refusal that
never reads the body. Hypercorn then closes the connection at once (h11 cannot start the
next request with this one's body unfinished), and closing a socket with unread data in
its receive buffer sends a reset, not an orderly end: a client still sending its body
(httpx, like most clients, writes the whole body before it reads) meets "connection
reset" and may lose the answer waiting for it. So, as nginx does, the connection reads
and drops the rest of that body after the answer, for LINGER_SECONDS and LINGER_BODIES
times the largest body a route takes at most. At the body's end it serves the client's
next request (or closes, cleanly, if the answer said ``Connection: close``); past either
bound it is closed as before.

Here in the server, not in the app: answering only once the body is in would hold back
every 413, even one given on a length whose body never comes; and after the answer, the
app cannot tell when its last byte has gone out (the compression middleware sends a
response's end only with its last ASGI message, which is what lets Hypercorn close).
It costs nothing on the normal path: one look at h11's state where Hypercorn ends a
request, and the drain only where it would have closed the connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from hypercorn.events import Closed, RawData
from hypercorn.protocol.events import Body, EndBody, StreamClosed
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.protocol.http_stream import HTTPStream

_PATCHED = "_taskwire_head_with_body"
_HELD = "_taskwire_held_head"
_LINGERS = "_taskwire_lingers"
_LINGER_BYTES = "_taskwire_linger_bytes"
# How long, and how much of the largest body a route takes, a connection answered early
# goes on reading the rest of its request's body: enough for a client on a fair link to
# finish sending a body a few times over the limit, not enough to be a way to hold a
# connection or keep the server reading.
LINGER_SECONDS = 5.0
LINGER_BODIES = 4


def write_heads_with_bodies() -> None:
    """Idempotent; call once per process before serving."""
    if getattr(H11Protocol, _PATCHED, False):
        return

    async def send_h11_event(self: Any, event: Any) -> None:
        held: bytes | None = self.__dict__.pop(_HELD, None)
        try:
            data = self.connection.send(event)
        except h11.LocalProtocolError:
            if held is not None:
                await self.send(RawData(data=held))
            if self.connection.their_state != h11.ERROR:
                raise
            return
        if held is not None:
            data = held + data
        if type(event) is h11.Response and any(name == b"content-length" for name, _ in event.headers):
            self.__dict__[_HELD] = data
            return
        await self.send(RawData(data=data))

    H11Protocol._send_h11_event = send_h11_event  # type: ignore[method-assign]
    setattr(H11Protocol, _PATCHED, True)


def linger_after_early_answers(largest_body: int) -> None:
    """Call once per process before serving (a later call sets the bound anew);
    ``largest_body``: the most any route accepts."""
    setattr(H11Protocol, _LINGER_BYTES, LINGER_BODIES * largest_body)
    if getattr(H11Protocol, _LINGERS, False):
        return
    recycle = H11Protocol._maybe_recycle

    async def maybe_recycle(self: Any) -> None:
        connection = self.connection
        if (
            connection.their_state is h11.SEND_BODY
            and connection.our_state in (h11.DONE, h11.MUST_CLOSE)  # the answer is whole
            and type(self.stream) is HTTPStream
            and not self.context.terminated.is_set()
        ):
            # No await between the check and the swap: the read loop hands the rest of the
            # body, and its end, to the drain and no longer to the answered request.
            answered, self.stream = self.stream, _Drain(self, recycle, getattr(H11Protocol, _LINGER_BYTES))
            await answered.handle(StreamClosed(stream_id=answered.stream_id))
            return
        await recycle(self)

    H11Protocol._maybe_recycle = maybe_recycle  # type: ignore[method-assign]
    setattr(H11Protocol, _LINGERS, True)


class _Drain:
    """Stands in for an answered request's stream while the rest of its body is read and
    dropped: at the body's end, Hypercorn's own end of a request runs (the next request,
    or a close); past ``max_bytes`` of it or LINGER_SECONDS, the connection is closed."""

    def __init__(self, protocol: Any, recycle: Any, max_bytes: int) -> None:
        self._protocol = protocol
        self._recycle = recycle
        self._left = max_bytes
        self._over = False
        self._closing: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(LINGER_SECONDS, self._expire)

    async def handle(self, event: Any) -> None:
        if type(event) is Body:
            self._left -= len(event.data)
            if self._left < 0:
                await self._close()
        elif type(event) is EndBody:
            self._timer.cancel()
            if not self._over:
                await self._recycle(self._protocol)
        elif type(event) is StreamClosed:  # the connection ended, however
            self._timer.cancel()

    def _expire(self) -> None:
        self._closing = asyncio.create_task(self._close())

    async def _close(self) -> None:
        if self._over:
            return
        self._over = True
        self._timer.cancel()
        await self._protocol.can_read.set()
        await self._protocol.send(Closed())
