"""Import jobs, for MongoStore (see mongo.py): the job in ``import_jobs``, each part of its
file a GridFS file (bucket ``import_content``) with the job's id and the part's offset.

GridFS cannot write inside a transaction, so a part is stored first, then, in one
transaction, the job moves past it and the part is marked ``committed``; a part that was
refused, or that a crash left unmarked, is never read and goes with the job's file."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import IO

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import ReturnDocument

from app.domain.ids import new_id
from app.domain.imports import ImportJob
from app.store.mongo_attachments import CHUNK_BYTES, file_chunks, store_file
from app.store.mongo_records import Documents, want_int, want_str
from app.store.mongo_schema import IMPORT_BUCKET, IMPORT_FILES, IMPORT_JOBS, Database
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors

JOB_DOCS = Documents(ImportJob)
_UNFINISHED = ["queued", "running"]


def _bucket(db: Database) -> AsyncGridFSBucket:
    return AsyncGridFSBucket(db, IMPORT_BUCKET, chunk_size_bytes=CHUNK_BYTES)


class MongoImports(MongoStoreBase):
    create_import_job = JOB_DOCS.inserter(IMPORT_JOBS)

    get_import_job = JOB_DOCS.getter(IMPORT_JOBS, "job_id")

    save_import_job = JOB_DOCS.putter(IMPORT_JOBS)

    @driver_errors
    async def claim_import_job(self, job_id: str, lease_until: str, now: str) -> ImportJob | None:
        doc = await self._db[IMPORT_JOBS].find_one_and_update(
            {
                "_id": want_str(job_id, "job_id"),
                "state": {"$in": _UNFINISHED},
                "$or": [{"lease_until": None}, {"lease_until": {"$lt": want_str(now, "now")}}],
            },
            {"$set": {"state": "running", "lease_until": want_str(lease_until, "lease_until")}},
            return_document=ReturnDocument.AFTER,
        )
        return JOB_DOCS.record(doc) if doc else None

    @driver_errors
    async def list_unfinished_import_jobs(self) -> list[ImportJob]:
        return await JOB_DOCS.all(self._db[IMPORT_JOBS].find({"state": {"$in": _UNFINISHED}}).sort("_id", 1))

    @driver_errors
    async def append_import_part(self, job: ImportJob, offset: int, content: IO[bytes]) -> bool:
        document, offset = JOB_DOCS.doc(job), want_int(offset, "offset")
        part_id = new_id()
        bucket = _bucket(self._db)
        metadata = {"job_id": document["_id"], "offset": offset, "committed": False}
        await store_file(bucket, part_id, f"{document['_id']}@{offset}", metadata, content)

        async def body(session: Session) -> bool:
            replaced = await self._db[IMPORT_JOBS].replace_one(
                {"_id": document["_id"], "state": "uploading", "received": offset}, document, session=session
            )
            if replaced.matched_count == 0:
                return False
            await self._db[IMPORT_FILES].update_one(
                {"_id": part_id}, {"$set": {"metadata.committed": True}}, session=session
            )
            return True

        stored = False
        try:
            stored = await self._writer.run(body)
        finally:
            if not stored:
                with contextlib.suppress(NoFile):
                    await bucket.delete(part_id)
        return stored

    @driver_errors
    async def open_import_file(self, job_id: str) -> AsyncIterator[bytes]:
        parts = (
            await self._db[IMPORT_FILES]
            .find({"metadata.job_id": want_str(job_id, "job_id"), "metadata.committed": True}, {"_id": 1})
            .sort("metadata.offset", 1)
            .to_list(None)
        )
        return self._import_chunks([part["_id"] for part in parts])

    async def _import_chunks(self, part_ids: list[str]) -> AsyncIterator[bytes]:
        bucket = _bucket(self._db)
        for part_id in part_ids:
            async for chunk in file_chunks(await bucket.open_download_stream(part_id)):
                yield chunk

    @driver_errors
    async def delete_import_file(self, job_id: str) -> None:
        bucket = _bucket(self._db)
        parts = (
            await self._db[IMPORT_FILES].find({"metadata.job_id": want_str(job_id, "job_id")}, {"_id": 1}).to_list(None)
        )
        for part in parts:
            with contextlib.suppress(NoFile):  # another instance's clean-up got there first
                await bucket.delete(part["_id"])
