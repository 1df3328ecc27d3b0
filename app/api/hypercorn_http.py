"""One write per HTTP/1.1 response of known length, instead of one for the head and one
for the body.

Hypercorn (0.18) writes a response's status line and headers as soon as the application
starts the response, then its body in a second write: two ``send`` system calls per
request, each of which, on loopback or a virtual NIC, costs the sender the receiver's
wake-up as well (~4 % of an instance's CPU per write under the REST benchmark, py-spy).
When the head carries a Content-Length, Quart sends the body right after it, so the head
is held back and written with the first piece of the body (or with the end of the
message, for an empty body). A streamed response (chunked: Server-Sent Events) is
written as before, head first, so a stream's headers never wait for its first event.
"""

from __future__ import annotations

from typing import Any

import h11
from hypercorn.events import RawData
from hypercorn.protocol.h11 import H11Protocol

_PATCHED = "_taskwire_head_with_body"
_HELD = "_taskwire_held_head"


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
