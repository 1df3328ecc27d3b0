"""A WebSocket client on a bare socket, for tests that must control how fast frames are read
(a small receive buffer, reads paced by the test) and see every frame as sent: data frames,
packed lines, pings and the close frame."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import socket

OP_TEXT, OP_CLOSE, OP_PING = 0x1, 0x8, 0x9


def client_frame(message: dict) -> bytes:
    """One masked text frame (RFC 6455 5.2); the zero mask keeps it readable."""
    payload = json.dumps(message).encode()
    assert len(payload) < 65536
    length = (
        bytes([0x80 | len(payload)]) if len(payload) < 126 else bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    )
    return bytes([0x81]) + length + b"\0\0\0\0" + payload


@dataclasses.dataclass
class Frame:
    opcode: int
    payload: bytes

    @property
    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.payload.decode().split("\n")]


def parse_frames(buffer: bytearray) -> list[Frame]:
    """Take the whole server frames (unmasked, unfragmented) off the head of ``buffer``."""
    frames = []
    while len(buffer) >= 2:
        first, length = buffer[0], buffer[1] & 0x7F
        assert first & 0x80, "a fragmented frame"
        assert not buffer[1] & 0x80, "a masked server frame"
        head = 2
        if length == 126:
            if len(buffer) < 4:
                break
            length, head = int.from_bytes(buffer[2:4], "big"), 4
        elif length == 127:
            if len(buffer) < 10:
                break
            length, head = int.from_bytes(buffer[2:10], "big"), 10
        if len(buffer) < head + length:
            break
        frames.append(Frame(first & 0x0F, bytes(buffer[head : head + length])))
        del buffer[: head + length]
    return frames


class RawWebSocket:
    def __init__(self, port: int, receive_buffer: int = 4096) -> None:
        self.port = port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.setblocking(False)
        self._buffer = bytearray()

    async def start(self, token: str, board: str) -> None:
        """Upgrade, authenticate and subscribe, leaving every server frame unread."""
        loop = asyncio.get_running_loop()
        await loop.sock_connect(self.sock, ("127.0.0.1", self.port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await loop.sock_sendall(self.sock, request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += await loop.sock_recv(self.sock, 1)  # byte by byte: leave the frames unread
        assert head.startswith(b"HTTP/1.1 101"), head
        await loop.sock_sendall(self.sock, client_frame({"type": "auth", "token": token}))
        await loop.sock_sendall(self.sock, client_frame({"type": "subscribe", "board": board, "id": "s"}))

    async def read_frames(self, chunk: int = 1 << 20, timeout: float = 5.0) -> list[Frame]:
        """At least one whole frame, reading at most ``chunk`` bytes at a time; an empty list
        once the server has closed the TCP connection."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while not (frames := parse_frames(self._buffer)):
                data = await loop.sock_recv(self.sock, chunk)
                if not data:
                    return []
                self._buffer += data
        return frames

    def close(self) -> None:
        self.sock.close()
