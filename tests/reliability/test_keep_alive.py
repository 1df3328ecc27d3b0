"""A keep-alive connection survives an answer given before its request's body was in:
a request refused at once (no token) still has its body read to its end, so the client
may send its next request on the same connection and gets that one answered too. (Had
the server answered first, Hypercorn would close the connection under the client, which
sees a disconnect where it should see the answer to its next request.)"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.reliability.instances import running

BODY = json.dumps({"name": "Roadmap"}).encode()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines[1:] if line)}
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 10)
    return status, json.loads(body)


def post(path: str, body: bytes, *, with_body: bool = True) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: taskwire.test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body if with_body else head


async def test_a_refused_request_whose_body_comes_late_leaves_the_connection_usable(tmp_path: Path) -> None:
    with running(tmp_path) as [server]:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(post("/api/v1/boards", BODY, with_body=False))  # the head alone
            await writer.drain()
            await asyncio.sleep(0.3)  # long enough for the refusal to be decided
            writer.write(BODY)
            await writer.drain()
            status, answer = await read_response(reader)
            assert (status, answer["error"]["code"]) == (401, "unauthorized")

            writer.write(post("/api/v1/auth/login", json.dumps({"email": "x", "password": "y"}).encode()))
            await writer.drain()
            status, answer = await read_response(reader)  # the same connection answers again
            assert status == 422 and answer["error"]["code"] == "validation_error"
        finally:
            writer.close()
