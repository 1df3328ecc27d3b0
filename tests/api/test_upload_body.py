"""An upload's request body holds back the server: Quart's own body takes every chunk the
server receives at once, however slowly the handler reads; StreamedBody keeps at most
BODY_QUEUE_CHUNKS unread, and drops what arrives once the request is over."""

from __future__ import annotations

import asyncio

from app.api.uploads import BODY_QUEUE_CHUNKS, StreamedBody

CHUNK = b"x" * 65536


async def test_the_sender_waits_while_the_reader_is_behind_and_goes_on_as_it_reads() -> None:
    body = StreamedBody(None, None)
    sent = 0

    async def sender() -> None:
        nonlocal sent
        for _ in range(BODY_QUEUE_CHUNKS * 4):
            await body.put(CHUNK)
            sent += 1
        body.set_complete()

    task = asyncio.create_task(sender())
    await asyncio.sleep(0.05)
    assert sent == BODY_QUEUE_CHUNKS  # held back: no more than this waits in memory
    received = 0
    async for chunk in body:
        received += len(chunk)
    await task
    assert received == BODY_QUEUE_CHUNKS * 4 * len(CHUNK)


async def test_once_released_the_sender_is_let_go_and_the_rest_is_dropped() -> None:
    body = StreamedBody(None, None)

    async def sender() -> None:
        for _ in range(BODY_QUEUE_CHUNKS * 4):
            await body.put(CHUNK)

    task = asyncio.create_task(sender())
    await asyncio.sleep(0.05)
    assert not task.done()
    body.release()  # the handler answered (413, 401, ...) without reading the rest
    await asyncio.wait_for(task, 1)
    body.set_complete()
    assert len([chunk async for chunk in body]) == BODY_QUEUE_CHUNKS  # nothing was queued after the release
