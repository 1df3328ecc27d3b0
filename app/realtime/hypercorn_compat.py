"""Turn off permessage-deflate on Hypercorn's WebSockets.

Hypercorn (0.18) accepts permessage-deflate whenever a client offers it, which every
browser does, and has no setting to refuse it. Compression runs per socket, so it undoes
the fan-out's "serialise once, same text to every socket": measured with 500 sockets per
instance, zlib took more CPU than everything else in the send path together (~0.3 ms per
message per socket), and each connection kept ~300 KiB of zlib state after its first
message. Our frames are small JSON; bandwidth is not what limits us.

The handshake is told that the client offered no extension, so none is negotiated. Only
WebSockets are affected (HTTP compression is a separate middleware).
"""

from __future__ import annotations

from typing import Any

from hypercorn.protocol import ws_stream

_PATCHED = "_taskwire_no_deflate"


def refuse_websocket_compression() -> None:
    """Idempotent; call once per process before serving."""
    handshake = ws_stream.Handshake
    if getattr(handshake, _PATCHED, False):
        return
    original_init = handshake.__init__

    def init_without_extensions(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.extensions = None

    handshake.__init__ = init_without_extensions  # type: ignore[method-assign]
    setattr(handshake, _PATCHED, True)
