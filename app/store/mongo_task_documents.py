"""The shared description documents (CRDT updates), for MongoStore (see mongo.py).

No transaction is needed: updates merge in any order and apply once however often they are
applied, so a compaction cut short leaves a state and some of the updates it holds, which
read as the same document."""

from __future__ import annotations

from collections.abc import Sequence

from bson import Binary, ObjectId
from pymongo.errors import DuplicateKeyError

from app.store.base import NotFound
from app.store.mongo_records import want_str
from app.store.mongo_schema import TASK_DOCUMENT_UPDATES, TASKS
from app.store.mongo_tx import MongoStoreBase, driver_errors


def _seed_id(task_id: str) -> str:
    return f"{task_id}:seed"


class MongoTaskDocuments(MongoStoreBase):
    async def _check_task(self, task_id: str, board_id: str) -> None:
        task = await self._db[TASKS].find_one({"_id": want_str(task_id, "task_id")}, {"board_id": 1})
        if task is None or task["board_id"] != want_str(board_id, "board_id"):
            raise NotFound(f"task {task_id}")

    @driver_errors
    async def seed_task_document(self, task_id: str, board_id: str, state: bytes) -> bool:
        await self._check_task(task_id, board_id)
        # One _id per document's seed: the unique _id index lets one of two racing seeds in.
        try:
            await self._db[TASK_DOCUMENT_UPDATES].insert_one(
                {"_id": _seed_id(task_id), "task_id": task_id, "board_id": board_id, "data": Binary(state)}
            )
        except DuplicateKeyError:
            return False
        return True

    @driver_errors
    async def append_task_document_update(self, task_id: str, board_id: str, update: bytes) -> None:
        await self._check_task(task_id, board_id)
        await self._db[TASK_DOCUMENT_UPDATES].insert_one(
            {"_id": ObjectId(), "task_id": task_id, "board_id": board_id, "data": Binary(update)}
        )

    @driver_errors
    async def load_task_document(self, task_id: str) -> list[tuple[str, bytes]]:
        docs = await (
            self._db[TASK_DOCUMENT_UPDATES].find({"task_id": want_str(task_id, "task_id")}).sort("_id", 1)
        ).to_list(None)
        return [(str(doc["_id"]), bytes(doc["data"])) for doc in docs]

    @driver_errors
    async def compact_task_document(self, task_id: str, replaced: Sequence[str], state: bytes) -> None:
        task_id = want_str(task_id, "task_id")
        seed = _seed_id(task_id)
        # The seed keeps the state: a late seed attempt must still find the document seeded.
        await self._db[TASK_DOCUMENT_UPDATES].update_one(
            {"_id": seed, "task_id": task_id}, {"$set": {"data": Binary(state)}}
        )
        others = [ObjectId(i) for i in replaced if i != seed and ObjectId.is_valid(i)]
        if others:
            await self._db[TASK_DOCUMENT_UPDATES].delete_many({"_id": {"$in": others}, "task_id": task_id})
