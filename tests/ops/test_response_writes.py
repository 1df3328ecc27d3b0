"""A response of known length leaves in one write (head and body together); a streamed
one still sends its head at once. Driven through Hypercorn's own HTTP/1.1 protocol code
with the h11 connection it uses, capturing what it would write to the socket."""

from __future__ import annotations

from types import SimpleNamespace

import h11
from hypercorn.events import RawData
from hypercorn.protocol.h11 import H11Protocol

from app.api.hypercorn_http import write_heads_with_bodies


def protocol(request: bytes = b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n") -> tuple[SimpleNamespace, list[bytes]]:
    writes: list[bytes] = []

    async def send(event: RawData) -> None:
        if event.data:
            writes.append(event.data)

    connection = h11.Connection(h11.SERVER)
    connection.receive_data(request)
    while connection.next_event() not in (h11.NEED_DATA, h11.PAUSED):
        pass
    return SimpleNamespace(connection=connection, send=send), writes


async def test_a_response_with_a_content_length_is_one_write() -> None:
    write_heads_with_bodies()
    proto, writes = protocol()
    await H11Protocol._send_h11_event(proto, h11.Response(status_code=200, headers=[(b"content-length", b"2")]))
    assert writes == []
    await H11Protocol._send_h11_event(proto, h11.Data(data=b"{}"))
    await H11Protocol._send_h11_event(proto, h11.EndOfMessage())
    assert len(writes) == 1 and writes[0].startswith(b"HTTP/1.1 200 ") and writes[0].endswith(b"\r\n\r\n{}")


async def test_an_empty_response_leaves_with_the_end_of_the_message() -> None:
    write_heads_with_bodies()
    proto, writes = protocol(b"HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n")
    await H11Protocol._send_h11_event(proto, h11.Response(status_code=200, headers=[(b"content-length", b"20")]))
    await H11Protocol._send_h11_event(proto, h11.EndOfMessage())
    assert len(writes) == 1 and writes[0].startswith(b"HTTP/1.1 200 ")


async def test_a_streamed_response_sends_its_head_before_any_event() -> None:
    write_heads_with_bodies()
    proto, writes = protocol()
    await H11Protocol._send_h11_event(
        proto, h11.Response(status_code=200, headers=[(b"transfer-encoding", b"chunked")])
    )
    assert len(writes) == 1 and writes[0].startswith(b"HTTP/1.1 200 ")
    await H11Protocol._send_h11_event(proto, h11.Data(data=b"event: x\n\n"))
    assert len(writes) == 2
