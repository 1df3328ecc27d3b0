"""What the instance administrator reads and switches, for MongoStore."""

from __future__ import annotations

from pymongo import ReturnDocument

from app.domain.models import User
from app.store.mongo_records import want_str
from app.store.mongo_schema import BOARDS, COMMENTS, INSTANCE_VALUES, TASKS, USERS
from app.store.mongo_tx import MongoStoreBase, driver_errors
from app.store.mongo_users import USER_DOCS


class MongoInstance(MongoStoreBase):
    @driver_errors
    async def list_users(self, after_id: str | None, limit: int) -> list[User]:
        cursor = self._db[USERS].find({"_id": {"$gt": after_id or ""}}).sort("_id", 1).limit(limit)
        return [USER_DOCS.record(doc) async for doc in cursor]

    @driver_errors
    async def set_user_disabled(self, user_id: str, disabled_at: str | None) -> User | None:
        doc = await self._db[USERS].find_one_and_update(
            {"_id": want_str(user_id, "user_id")},
            {"$set": {"disabled_at": disabled_at}},
            return_document=ReturnDocument.AFTER,
        )
        return USER_DOCS.record(doc) if doc else None

    @driver_errors
    async def instance_figures(self) -> dict[str, int]:
        return {
            "users": await self._db[USERS].count_documents({}),
            "disabled_users": await self._db[USERS].count_documents({"disabled_at": {"$type": "string"}}),
            "boards": await self._db[BOARDS].count_documents({}),
            "tasks": await self._db[TASKS].count_documents({}),
            "comments": await self._db[COMMENTS].count_documents({}),
        }

    @driver_errors
    async def get_instance_value(self, key: str) -> str | None:
        doc = await self._db[INSTANCE_VALUES].find_one({"_id": want_str(key, "key")})
        return None if doc is None else str(doc["value"])

    @driver_errors
    async def set_instance_value(self, key: str, value: str) -> None:
        await self._db[INSTANCE_VALUES].update_one(
            {"_id": want_str(key, "key")}, {"$set": {"value": value}}, upsert=True
        )
