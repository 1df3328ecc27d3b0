"""Server-to-client WebSocket frames written straight to the connection's transport.

A server's frames are never masked (RFC 6455 5.1), so the bytes of a frame do not depend
on the socket: the fan-out builds each event's frame once and hands the same bytes to
every local socket. A socket whose transport has room then costs one ``transport.write``:
no coroutine, no task, no trip through the server's and the framework's send path. The
server (``hypercorn_compat.direct_frames``) says whether a connection can be written to
this way; when it cannot, the connection falls back to the ASGI send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

_TEXT_FIN = 0x81  # FIN, opcode 1 (text)


def text_frame(text: str) -> bytes:
    """One unfragmented, unmasked text frame (RFC 6455 5.2)."""
    # "replace": a lone surrogate cannot be UTF-8; one bad character must not fail the
    # frame, which is shared by every socket the event goes to.
    payload = text.encode("utf-8", "replace")
    length = len(payload)
    if length < 126:
        return bytes((_TEXT_FIN, length)) + payload
    if length < 65536:
        return bytes((_TEXT_FIN, 126)) + length.to_bytes(2, "big") + payload
    return bytes((_TEXT_FIN, 127)) + length.to_bytes(8, "big") + payload


class FrameOutlet:
    """Whole frames to one connection's transport, and a wait for room when it pushes back.

    ``has_room`` is the transport's own flow control: a write is taken at once while the
    bytes it holds stay under its high-water mark (where ``drain`` would start to wait),
    and only while the WebSocket is open on our side (no data after a close frame)."""

    __slots__ = ("_drain", "_high_water", "_open", "_transport")

    def __init__(
        self, transport: asyncio.WriteTransport, drain: Callable[[], Awaitable[None]], is_open: Callable[[], bool]
    ) -> None:
        self._transport = transport
        self._drain = drain
        self._high_water = transport.get_write_buffer_limits()[1]
        self._open = is_open

    def has_room(self) -> bool:
        transport = self._transport
        return transport.get_write_buffer_size() <= self._high_water and not transport.is_closing() and self._open()

    def write(self, frame: bytes) -> None:
        self._transport.write(frame)

    async def drain(self) -> None:
        """Until the transport is under its low-water mark; raises once the peer is gone."""
        await self._drain()
