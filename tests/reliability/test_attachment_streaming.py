"""Attachments on real server processes: a large upload sent in chunked transfer encoding
(no Content-Length, so only counting the bytes can stop it) is streamed to storage without
ever being whole in a server's memory, every instance of a shared store serves it, and a
body past the limit is cut off with 413 as it arrives."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.instances import running
from tests.reliability.load import account_with_board

pytestmark = pytest.mark.processes

MIB = 1024 * 1024
LIMIT = 32 * MIB
BOUNDARY = "streamed-upload-boundary"


def peak_rss_kib(pid: int) -> int:
    """The process's high-water mark of resident memory (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for {pid}")


async def chunked_multipart(block: bytes, blocks: int) -> AsyncIterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    for _ in range(blocks):
        yield block
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def upload(client: httpx.AsyncClient, token: str, task_id: str, block: bytes, blocks: int) -> httpx.Response:
    return await client.post(
        f"/api/v1/tasks/{task_id}/attachments",
        content=chunked_multipart(block, blocks),
        headers={"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )


async def test_a_large_chunked_upload_never_sits_whole_in_memory_and_every_instance_serves_it(tmp_path: Path) -> None:
    block = os.urandom(256 * 1024)
    blocks = 96  # 24 MiB
    with running(tmp_path, count=2, env={"TASKWIRE_ATTACHMENT_MAX_BYTES": str(LIMIT)}) as (first, second):
        token, board = await account_with_board(first.url, "uploader")
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=first.url, timeout=60) as client:
            task = (await client.post(f"/api/v1/boards/{board}/tasks", json={"title": "Big"}, headers=auth)).json()
            # A small upload first: what the first one loads once (the type sniffer, the image
            # library, the store's file code) is not what this test measures.
            warm = await upload(client, token, task["id"], block, 1)
            assert warm.status_code == 201, warm.text
            before = peak_rss_kib(first.pid)
            response = await upload(client, token, task["id"], block, blocks)
            assert response.status_code == 201, response.text
            grown = peak_rss_kib(first.pid) - before
            attachment = response.json()
        assert attachment["size"] == blocks * len(block)
        # The file is 24 MiB; held whole (let alone copied) the peak would grow by more than that.
        assert grown * 1024 < 12 * MIB, f"the upload's instance peaked {grown} KiB higher"

        async with httpx.AsyncClient(base_url=second.url, timeout=60) as other:
            before = peak_rss_kib(second.pid)
            received = hashlib.sha256()
            async with other.stream("GET", f"/api/v1/attachments/{attachment['id']}/content", headers=auth) as download:
                assert download.status_code == 200
                assert download.headers["content-disposition"].startswith("attachment;")
                async for chunk in download.aiter_bytes():
                    received.update(chunk)
            grown = peak_rss_kib(second.pid) - before
        assert received.hexdigest() == hashlib.sha256(block * blocks).hexdigest()
        assert grown * 1024 < 12 * MIB, f"the download's instance peaked {grown} KiB higher"


async def test_a_chunked_upload_past_the_limit_is_cut_off_with_413(tmp_path: Path) -> None:
    with running(tmp_path, env={"TASKWIRE_ATTACHMENT_MAX_BYTES": str(MIB)}) as [server]:
        token, board = await account_with_board(server.url, "uploader")
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            task = (await client.post(f"/api/v1/boards/{board}/tasks", json={"title": "Big"}, headers=auth)).json()
            try:
                response = await upload(client, token, task["id"], b"x" * 64 * 1024, 64)  # 4 MiB
            except httpx.WriteError:
                pytest.fail("the server closed the connection without answering")
            assert response.status_code == 413
            assert response.json()["error"]["code"] == "attachment_too_large"
            assert response.headers["connection"] == "close"  # the rest is unread: no reuse
            listed = await client.get(f"/api/v1/tasks/{task['id']}/attachments", headers=auth)
            assert listed.json()["items"] == []
