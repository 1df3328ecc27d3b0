"""A slow consumer is cut off (4408) instead of growing memory or slowing the others."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket

import pytest

from app.settings import Settings
from tests.realtime.conftest import LiveApp

SLOW_CONSUMER_CLOSE = bytes([0x88, 0x02]) + (4408).to_bytes(2, "big")


@pytest.fixture
def ws_settings(ws_settings: Settings) -> Settings:
    return ws_settings.model_copy(update=dict(ws_send_queue=8))


def _client_frame(message: dict) -> bytes:
    """One masked text frame (RFC 6455 5.2); the zero mask keeps it readable."""
    payload = json.dumps(message).encode()
    assert len(payload) < 65536
    length = bytes([0x80 | len(payload)]) if len(payload) < 126 else bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    return bytes([0x81]) + length + b"\0\0\0\0" + payload


class StalledReader:
    """A raw WebSocket client that sends its messages and then never reads, with a tiny
    receive buffer so that the server's socket backs up quickly."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.setblocking(False)

    async def start(self, token: str, board: str) -> None:
        loop = asyncio.get_running_loop()
        await loop.sock_connect(self.sock, ("127.0.0.1", self.port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        await loop.sock_sendall(self.sock, request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += await loop.sock_recv(self.sock, 1)  # byte by byte: leave the frames unread
        assert head.startswith(b"HTTP/1.1 101"), head
        await loop.sock_sendall(self.sock, _client_frame({"type": "auth", "token": token}))
        await loop.sock_sendall(self.sock, _client_frame({"type": "subscribe", "board": board, "id": "s"}))

    async def read_to_close(self, timeout: float = 20.0) -> bytes:
        loop, received = asyncio.get_running_loop(), bytearray()
        async with asyncio.timeout(timeout):
            while not received.endswith(SLOW_CONSUMER_CLOSE):
                chunk = await loop.sock_recv(self.sock, 1 << 20)
                if not chunk:
                    break
                received += chunk
        self.sock.close()
        return bytes(received)


async def test_a_reader_that_stalls_is_closed_with_4408_and_others_get_everything(live: LiveApp) -> None:
    alice = await live.api.register()
    board = alice.personal_board
    stalled = StalledReader(live.port)
    await stalled.start(alice.access_token, board)
    healthy = await live.client(alice)
    await healthy.subscribe(board)
    bulky = "x" * 20000
    count = 0
    while live.runtime.hub.connection_count > 1 and count < 1000:
        count += 1
        await live.api.task(alice, board, f"bulky {count}", description=bulky)
        while healthy.seqs.get(board, [0])[-1] < count:
            await healthy.recv()
    assert live.runtime.hub.connection_count == 1, "the stalled reader was never cut off"
    assert healthy.seqs[board] == list(range(1, count + 1))
    assert (await stalled.read_to_close()).endswith(SLOW_CONSUMER_CLOSE)
    await healthy.close()
