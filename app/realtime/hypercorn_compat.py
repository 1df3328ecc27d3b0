"""Two fixes to Hypercorn's (0.18) WebSockets and one way around its send path, applied
once per process before serving.

**Stop pinging a closed socket at once.** With ``websocket_ping_interval`` set, each
WebSocket gets a ping task that loops ``ping; sleep(interval)`` while the stream is open.
Once the socket closes, the task still sleeps out the rest of its interval, and Hypercorn
waits for it before the connection (and a graceful shutdown) ends: every SIGTERM with
sockets open took up to the interval (20 s) more. The ping task is cancelled as soon as
the stream closes.

**Turn off permessage-deflate.** Hypercorn accepts it whenever a client offers it, which
every browser does, and has no setting to refuse it. Compression runs per socket, so it undoes
the fan-out's "serialise once, same text to every socket": measured with 500 sockets per
instance, zlib took more CPU than everything else in the send path together (~0.3 ms per
message per socket), and each connection kept ~300 KiB of zlib state after its first
message. Our frames are small JSON; bandwidth is not what limits us.

The handshake is told that the client offered no extension, so none is negotiated. Only
WebSockets are affected (HTTP compression is a separate middleware).

**Frames straight to the transport.** A message sent through ASGI goes through Quart's
send, Hypercorn's stream, wsproto's framing and a lock and a drain in Hypercorn's TCP
server: about 60 % of an instance's CPU under fan-out, measured with py-spy, for bytes that
are the same for every socket. Each accepted stream is put in its ASGI scope (an
extension, as ASGI intends for server-specific features), and ``direct_frames`` gives the
fan-out its transport (``app.realtime.frames``). Only for HTTP/1.1 on the asyncio (or
uvloop) worker, where a frame is bytes on the TCP stream; Hypercorn still writes its own
frames (pings, pongs, close) on the same transport, each whole in one write, so frames
never interleave. Anything else (HTTP/2, trio, another server) keeps the ASGI send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.protocol import ws_stream
from hypercorn.protocol.h11 import H11Protocol
from wsproto.connection import ConnectionState
from wsproto.events import Ping

from app.realtime.frames import FrameOutlet

# Set on WSStream once the patches below are in; a second create_app() must not wrap twice.
_PATCHED = "_taskwire_patched"
_PINGER = "_taskwire_pinger"
STREAM_EXTENSION = "taskwire.hypercorn_ws_stream"


def patch_hypercorn_websockets() -> None:
    """Idempotent; call once per process before serving."""
    if getattr(ws_stream.WSStream, _PATCHED, False):
        return
    _refuse_websocket_compression()
    _stop_pinging_closed_sockets()
    _expose_accepted_streams()
    setattr(ws_stream.WSStream, _PATCHED, True)


def _stop_pinging_closed_sockets() -> None:
    stream_class = ws_stream.WSStream
    original_handle = stream_class.handle

    async def send_pings(self: Any) -> None:
        setattr(self, _PINGER, asyncio.current_task())
        try:
            while not self.closed:
                await self._send_wsproto_event(Ping())
                await self.context.sleep(self.config.websocket_ping_interval)
        except asyncio.CancelledError:
            if not self.closed:  # not ours: the connection or the server is being torn down
                raise

    async def handle(self: Any, event: Any) -> None:
        await original_handle(self, event)
        # handle() is where Hypercorn marks the stream closed, whatever closed it.
        if self.closed and (pinger := getattr(self, _PINGER, None)) is not None:
            setattr(self, _PINGER, None)
            if pinger is not asyncio.current_task():
                pinger.cancel()

    stream_class._send_pings = send_pings  # type: ignore[method-assign]
    stream_class.handle = handle  # type: ignore[method-assign]


def _refuse_websocket_compression() -> None:
    handshake = ws_stream.Handshake
    original_init = handshake.__init__

    def init_without_extensions(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.extensions = None

    handshake.__init__ = init_without_extensions  # type: ignore[method-assign]


def _expose_accepted_streams() -> None:
    stream_class = ws_stream.WSStream
    original_accept = stream_class._accept

    async def accept(self: Any, message: Any) -> None:
        await original_accept(self, message)
        # The app holds this very dict (Quart keeps the scope it was called with).
        self.scope["extensions"][STREAM_EXTENSION] = self

    stream_class._accept = accept  # type: ignore[method-assign]


def direct_frames(scope: Mapping[str, Any]) -> FrameOutlet | None:
    """The transport of an accepted WebSocket, when frames can be written to it directly."""
    stream = (scope.get("extensions") or {}).get(STREAM_EXTENSION)
    if stream is None:
        return None
    protocol = getattr(stream.send, "__self__", None)
    server = getattr(getattr(protocol, "send", None), "__self__", None)
    if not isinstance(protocol, H11Protocol) or not isinstance(server, TCPServer):
        return None  # HTTP/2 wraps frames in its own; the trio worker has no asyncio transport
    wsproto_connection = stream.connection

    def is_open() -> bool:
        return wsproto_connection.state is ConnectionState.OPEN

    return FrameOutlet(server.writer.transport, server.writer.drain, is_open)
