"""Attachments, for MongoStore (see mongo.py): the record (with an image's thumbnail) in
``attachments``, the bytes in GridFS (bucket ``attachment_content``), which every instance
reads and mongodump copies.

GridFS cannot write inside a transaction, so an upload stores the file first, then the
record, the quota check and the event in one transaction; if that refuses or fails, the
file is deleted again. A delete removes the record and event in one transaction, then the
file. Deleting a task or a board deletes the files its attachments' records named, and any
file of it left behind by a process that stopped between the two steps.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import IO

from gridfs import AsyncGridFSBucket, AsyncGridOut
from gridfs.errors import NoFile

from app.domain.models import Attachment, AttachmentSummary, Event, EventDraft
from app.store.base import NotFound, QuotaExceeded
from app.store.mongo_events import append_event, delete_with_event
from app.store.mongo_records import Document, Documents, checked_draft, per_task, want_int, want_str
from app.store.mongo_schema import ATTACHMENT_BUCKET, ATTACHMENT_FILES, ATTACHMENTS, TASKS, Database
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors

ATTACHMENT_DOCS = Documents(Attachment)
CHUNK_BYTES = 255 * 1024  # GridFS's default chunk size
_WITHOUT_THUMBNAIL = {"thumbnail": False}


def _bucket(db: Database) -> AsyncGridFSBucket:
    return AsyncGridFSBucket(db, ATTACHMENT_BUCKET, chunk_size_bytes=CHUNK_BYTES)


async def store_file(
    bucket: AsyncGridFSBucket, file_id: str, name: str, metadata: Document, content: IO[bytes]
) -> None:
    """Write ``content`` (from where it stands to its end) to ``bucket`` as the file
    ``file_id``, a chunk at a time; nothing is left of it if that fails."""
    upload = bucket.open_upload_stream_with_id(file_id, name, metadata=metadata)
    try:
        # The file is on local disk: a chunk read is short, but still not the event loop's to wait for.
        while chunk := await asyncio.to_thread(content.read, CHUNK_BYTES):
            await upload.write(chunk)
        await upload.close()
    except BaseException:
        await upload.abort()
        raise


async def delete_attachment_files(db: Database, field: str, value: str) -> None:
    """Delete the stored files whose ``field`` (task_id or board_id) is ``value``; run after
    the write that deleted their records has committed."""
    bucket = _bucket(db)
    files = await db[ATTACHMENT_FILES].find({f"metadata.{field}": value}, {"_id": 1}).to_list(None)
    for file in files:
        with contextlib.suppress(NoFile):  # another process's clean-up got there first
            await bucket.delete(file["_id"])


class MongoAttachments(MongoStoreBase):
    @driver_errors
    async def create_attachment(
        self, attachment: Attachment, content: IO[bytes], thumbnail: bytes | None, quota: int, event: EventDraft
    ) -> Event:
        document, draft = ATTACHMENT_DOCS.doc(attachment), checked_draft(event)
        quota = want_int(quota, "quota")
        if thumbnail is not None:
            document["thumbnail"] = bytes(thumbnail)
        bucket = _bucket(self._db)
        metadata = {"board_id": document["board_id"], "task_id": document["task_id"]}
        await store_file(bucket, document["_id"], document["name"], metadata, content)

        async def body(session: Session) -> Event:
            task = await self._db[TASKS].find_one({"_id": document["task_id"]}, {"board_id": 1}, session=session)
            if task is None or task["board_id"] != document["board_id"]:
                raise NotFound(f"task {document['task_id']}")
            if quota > 0:
                used = await self._board_bytes(document["board_id"], session)
                if used + document["size"] > quota:
                    raise QuotaExceeded(used)
            await self._db[ATTACHMENTS].insert_one(document, session=session)
            return await append_event(self._db, document["board_id"], draft, session)

        try:
            return await self._writer.run(body, document["board_id"])
        except BaseException:
            with contextlib.suppress(NoFile):
                await bucket.delete(document["_id"])
            raise

    async def _board_bytes(self, board_id: str, session: Session) -> int:
        cursor = await self._db[ATTACHMENTS].aggregate(
            [{"$match": {"board_id": board_id}}, {"$group": {"_id": None, "used": {"$sum": "$size"}}}],
            session=session,
        )
        totals = await cursor.to_list(None)
        return int(totals[0]["used"]) if totals else 0

    @driver_errors
    async def get_attachment(self, attachment_id: str) -> Attachment | None:
        doc = await self._db[ATTACHMENTS].find_one(
            {"_id": want_str(attachment_id, "attachment_id")}, _WITHOUT_THUMBNAIL
        )
        return ATTACHMENT_DOCS.record(doc) if doc else None

    list_attachments = ATTACHMENT_DOCS.task_pager(ATTACHMENTS, _WITHOUT_THUMBNAIL)

    @driver_errors
    async def summarize_attachments(self, task_ids: Sequence[str]) -> dict[str, AttachmentSummary]:
        figures = {"count": {"$sum": 1}, "cover": {"$max": {"$cond": ["$has_thumbnail", "$_id", None]}}}
        docs = await per_task(self._db[ATTACHMENTS], task_ids, figures)
        return {doc["_id"]: AttachmentSummary(int(doc["count"]), doc.get("cover")) for doc in docs}

    @driver_errors
    async def open_attachment(self, attachment_id: str) -> AsyncIterator[bytes] | None:
        attachment_id = want_str(attachment_id, "attachment_id")
        if await self._db[ATTACHMENTS].find_one({"_id": attachment_id}, {"_id": 1}) is None:
            return None
        try:
            download = await _bucket(self._db).open_download_stream(attachment_id)
        except NoFile:
            return None
        return file_chunks(download)

    @driver_errors
    async def get_attachment_thumbnail(self, attachment_id: str) -> bytes | None:
        doc = await self._db[ATTACHMENTS].find_one(
            {"_id": want_str(attachment_id, "attachment_id")}, {"thumbnail": True}
        )
        return None if doc is None or doc.get("thumbnail") is None else bytes(doc["thumbnail"])

    @driver_errors
    async def delete_attachment(self, attachment_id: str, event: EventDraft) -> Event:
        appended = await delete_with_event(self, ATTACHMENTS, attachment_id, "attachment_id", event, "attachment")
        with contextlib.suppress(NoFile):
            await _bucket(self._db).delete(attachment_id)
        return appended


async def file_chunks(download: AsyncGridOut) -> AsyncIterator[bytes]:
    # One GridFS chunk per read, so memory holds one chunk at a time.
    while chunk := await download.readchunk():
        yield chunk
