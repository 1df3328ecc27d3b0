"""Import jobs, for MongoStore (see mongo.py)."""

from __future__ import annotations

from pymongo import ReturnDocument

from app.domain.imports import ImportJob
from app.store.mongo_records import Documents, want_str
from app.store.mongo_schema import IMPORT_JOBS
from app.store.mongo_tx import MongoStoreBase, driver_errors

JOB_DOCS = Documents(ImportJob)
_UNFINISHED = ["queued", "running"]


class MongoImports(MongoStoreBase):
    @driver_errors
    async def create_import_job(self, job: ImportJob) -> None:
        await self._db[IMPORT_JOBS].insert_one(JOB_DOCS.doc(job))

    @driver_errors
    async def get_import_job(self, job_id: str) -> ImportJob | None:
        return await JOB_DOCS.by_id(self._db[IMPORT_JOBS], job_id, "job_id")

    @driver_errors
    async def save_import_job(self, job: ImportJob) -> None:
        document = JOB_DOCS.doc(job)
        await self._db[IMPORT_JOBS].replace_one({"_id": document["_id"]}, document, upsert=True)

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
        docs = await self._db[IMPORT_JOBS].find({"state": {"$in": _UNFINISHED}}).sort("_id", 1).to_list(None)
        return [JOB_DOCS.record(doc) for doc in docs]
