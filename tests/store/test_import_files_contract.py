"""An import job's file in the store: parts appended at the offset the job has received,
each with the job's new state in one write (or not at all), read back in order a chunk at
a time by any instance, and deleted with the job's end."""

from __future__ import annotations

import dataclasses
import io
import os

from app.domain.clock import now
from app.domain.ids import new_id
from app.domain.imports import ImportJob, ImportSource, ImportState
from app.store.base import Store

# Parts of more than two chunks on either store (256 KiB rows, 255 KiB GridFS chunks).
FILE = os.urandom(700 * 1024 + 77)
CUT = 530 * 1024 + 11


async def a_job(store: Store) -> ImportJob:
    at = now()
    job = ImportJob(
        id=new_id(),
        user_id="someone",
        source=ImportSource.TRELLO,
        state=ImportState.UPLOADING,
        file_name="board.json",
        size=len(FILE),
        received=0,
        options={},
        board_id=None,
        progress=0,
        result={},
        error=None,
        lease_until=None,
        created_at=at,
        updated_at=at,
    )
    await store.create_import_job(job)
    return job


async def read(store: Store, job_id: str) -> bytes:
    chunks = [chunk async for chunk in await store.open_import_file(job_id)]
    assert all(len(chunk) <= 256 * 1024 for chunk in chunks)
    return b"".join(chunks)


async def test_parts_append_at_the_received_offset_and_read_back_whole(store: Store) -> None:
    job = await a_job(store)
    first = dataclasses.replace(job, received=CUT)
    assert await store.append_import_part(first, 0, io.BytesIO(FILE[:CUT]))
    assert (await store.get_import_job(job.id)) == first
    assert await read(store, job.id) == FILE[:CUT]

    # The same part again (a retry after a lost answer) or one past the end: refused, nothing kept.
    assert not await store.append_import_part(dataclasses.replace(job, received=CUT), 0, io.BytesIO(FILE[:CUT]))
    assert not await store.append_import_part(dataclasses.replace(job, received=len(FILE)), 5, io.BytesIO(b"x"))
    assert (await store.get_import_job(job.id)) == first
    assert await read(store, job.id) == FILE[:CUT]

    last = dataclasses.replace(first, received=len(FILE), state=ImportState.QUEUED)
    assert await store.append_import_part(last, CUT, io.BytesIO(FILE[CUT:]))
    assert (await store.get_import_job(job.id)) == last
    assert await read(store, job.id) == FILE
    # A job no longer uploading takes no part.
    assert not await store.append_import_part(last, len(FILE), io.BytesIO(b"more"))

    other = await a_job(store)
    assert await read(store, other.id) == b""
    await store.delete_import_file(job.id)
    assert await read(store, job.id) == b""
    await store.delete_import_file(job.id)  # twice: nothing to do
