"""A request answered before its body is all in (413 on its announced length, an upload
cut off past its limit), on a real server process: the client, still sending, reads its
answer rather than a reset connection, since the server reads and drops the rest of the
body before it lets the connection go (a "lingering close"); once that body is in, the
same connection serves the next request. A client that never stops sending is cut off
once LINGER_SECONDS, or LINGER_BODIES times the largest body a route takes, is over."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from app.api.hypercorn_http import LINGER_BODIES, LINGER_SECONDS
from tests.reliability.load import account_with_board
from tests.support.servers import AppServer, app_servers, trickle

pytestmark = pytest.mark.processes

MIB = 1024 * 1024
# The body limit's default, and attachments no larger: the server reads at most
# LINGER_BODIES MiB of a body past its answer.
LARGEST_BODY = MIB
BOUNDARY = "lingering-close-boundary"
TOO_LARGE = 3 * MIB  # over the limit, and within what the server reads past its answer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    workdir = tmp_path_factory.mktemp("linger")
    env = {"TASKWIRE_MAX_BODY_BYTES": str(LARGEST_BODY), "TASKWIRE_ATTACHMENT_MAX_BYTES": str(LARGEST_BODY)}
    with app_servers(1, f"sqlite:///{workdir / 'taskwire.db'}", "", workdir, extra_env=env) as [instance]:
        yield instance


def request_head(method: str, path: str, content_length: int | None = None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: taskwire.test\r\nContent-Type: application/json\r\n"
    if content_length is not None:
        head += f"Content-Length: {content_length}\r\n"
    return (head + "\r\n").encode()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines[1:] if line)}
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 10)
    return int(lines[0].split(" ")[1]), json.loads(body)


def file_form(size: int) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return head.encode() + b"x" * size + f"\r\n--{BOUNDARY}--\r\n".encode()


async def test_a_json_body_over_the_limit_gets_its_413_while_the_client_is_still_sending(server: AppServer) -> None:
    body = b'{"email": "big@example.test", "password": "' + b"x" * TOO_LARGE + b'"}'
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        answer = await client.post("/api/v1/auth/login", content=trickle(body), headers=headers)
        assert answer.status_code == 413 and answer.json()["error"]["code"] == "payload_too_large"
        assert (await client.get("/healthz")).status_code == 200


async def test_once_a_refused_body_is_all_in_the_connection_serves_the_next_request(server: AppServer) -> None:
    body = b"x" * TOO_LARGE
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(request_head("POST", "/api/v1/auth/login", len(body)))
        async for piece in trickle(body):
            writer.write(piece)
            await writer.drain()
        status, answer = await read_response(reader)
        assert (status, answer["error"]["code"]) == (413, "payload_too_large")
        writer.write(request_head("GET", "/healthz"))
        await writer.drain()
        assert await read_response(reader) == (200, {"status": "ok"})
    finally:
        writer.close()


@pytest.mark.parametrize("announced", [True, False], ids=["refused-on-its-length", "cut-off-as-it-arrives"])
async def test_an_upload_over_the_limit_gets_its_413_while_the_client_is_still_sending(
    server: AppServer, announced: bool
) -> None:
    token, board = await account_with_board(server.url, "uploader")
    auth = {"Authorization": f"Bearer {token}"}
    form = file_form(TOO_LARGE)
    headers = {**auth, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    if announced:
        headers["Content-Length"] = str(len(form))  # else chunked: only counting the bytes stops it
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        task = (await client.post(f"/api/v1/boards/{board}/tasks", json={"title": "Big"}, headers=auth)).json()
        answer = await client.post(f"/api/v1/tasks/{task['id']}/attachments", content=trickle(form), headers=headers)
        assert answer.status_code == 413 and answer.json()["error"]["code"] == "attachment_too_large"
        assert answer.headers["connection"] == "close"
        listed = await client.get(f"/api/v1/tasks/{task['id']}/attachments", headers=auth)
        assert listed.json()["items"] == []


async def _keep_sending(writer: asyncio.StreamWriter, piece: bytes, pause: float) -> None:
    while True:
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(pause)


async def test_a_client_that_never_stops_sending_is_cut_off_once_the_linger_is_over(server: AppServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(request_head("POST", "/api/v1/auth/login", 1 << 40))
    # ~400 KiB/s: far from LINGER_BODIES MiB within LINGER_SECONDS, so time is what ends it.
    sending = asyncio.create_task(_keep_sending(writer, b"x" * 8192, 0.02))
    try:
        status, answer = await read_response(reader)
        answered = time.monotonic()
        assert (status, answer["error"]["code"]) == (413, "payload_too_large")
        with contextlib.suppress(ConnectionError):
            assert await asyncio.wait_for(reader.read(), LINGER_SECONDS + 10) == b""
        lingered = time.monotonic() - answered
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        writer.close()
    assert LINGER_SECONDS - 0.5 < lingered < LINGER_SECONDS + 5


async def test_a_client_sending_fast_is_cut_off_after_a_few_bodies_worth(server: AppServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(request_head("POST", "/api/v1/auth/login", 1 << 40))
    piece = b"x" * 65536
    sent = 0
    started = time.monotonic()
    try:
        with contextlib.suppress(ConnectionError):
            async with asyncio.timeout(LINGER_SECONDS + 10):
                while True:
                    writer.write(piece)
                    await writer.drain()
                    sent += len(piece)
        elapsed = time.monotonic() - started
    finally:
        writer.close()
    # Cut off by the amount, before the time is up; what was sent past the bound sat in the
    # two sockets' buffers (a few MiB each on loopback).
    assert elapsed < LINGER_SECONDS
    assert LINGER_BODIES * LARGEST_BODY < sent < LINGER_BODIES * LARGEST_BODY + 16 * MIB


async def test_a_chunked_body_is_refused_once_past_the_limit_not_held_till_its_end(server: AppServer) -> None:
    """A body with no Content-Length, sent without end: the server answers 413 as soon as it
    has more than the limit (it used to hold every byte until the body ended)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    head = request_head("POST", "/api/v1/auth/login").replace(b"\r\n\r\n", b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    writer.write(head)
    chunk = b"x" * 65536
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    sent = 0
    with contextlib.suppress(ConnectionError):
        while not reader._buffer and sent < 64 * MIB:  # the answer has begun to arrive
            writer.write(frame)
            await writer.drain()
            sent += len(chunk)
    status, body = await read_response(reader)
    writer.close()
    assert (status, body["error"]["code"]) == (413, "payload_too_large")
    # What was sent is the limit and what the sockets' buffers took before the answer.
    assert sent < 16 * MIB
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/healthz")).status_code == 200
