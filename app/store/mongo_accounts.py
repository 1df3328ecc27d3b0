"""An account's own lifecycle, for MongoStore: a new email, the records its data export
reads, and erasing it (app/services/account.py)."""

from __future__ import annotations

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.domain.models import DELETED_USER_ID, DELETED_USER_NAME, User, UserRecords
from app.store.base import EmailTaken
from app.store.erasure import scrub
from app.store.mongo_comments import COMMENT_DOCS
from app.store.mongo_notifications import NOTIFICATION_DOCS
from app.store.mongo_records import want_str
from app.store.mongo_schema import (
    API_TOKENS,
    ATTACHMENTS,
    BOARDS,
    COMMENTS,
    EVENTS,
    EXTERNAL_IDENTITIES,
    MEMBERS,
    NOTIFICATIONS,
    REFRESH_TOKENS,
    TASKS,
    TRASHED_MEMBERS,
    TWO_FACTOR,
    USERS,
    WEBHOOKS,
)
from app.store.mongo_tasks import TASK_DOCS
from app.store.mongo_tx import MongoStoreBase, driver_errors
from app.store.mongo_users import USER_DOCS

# What is the account's alone, deleted with it (by its user_id field).
_OWN_DOCUMENTS = (REFRESH_TOKENS, API_TOKENS, EXTERNAL_IDENTITIES, NOTIFICATIONS, MEMBERS, TRASHED_MEMBERS)


class MongoAccounts(MongoStoreBase):
    @driver_errors
    async def update_user_email(self, user_id: str, email: str, at: str) -> User | None:
        try:
            doc = await self._db[USERS].find_one_and_update(
                {"_id": want_str(user_id, "user_id")},
                {"$set": {"email": want_str(email, "email").lower(), "updated_at": at}},
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            raise EmailTaken(email) from None
        return USER_DOCS.record(doc) if doc else None

    @driver_errors
    async def user_records(self, user_id: str) -> UserRecords:
        user_id = want_str(user_id, "user_id")
        tasks = self._db[TASKS].find({"$or": [{"created_by": user_id}, {"assignees": user_id}]})
        comments = self._db[COMMENTS].find({"author_id": user_id}).sort("_id", 1)
        notifications = self._db[NOTIFICATIONS].find({"user_id": user_id}).sort("_id", 1)
        return UserRecords(
            tasks=sorted([TASK_DOCS.record(doc) async for doc in tasks], key=lambda task: (task.board_id, task.id)),
            comments=[COMMENT_DOCS.record(doc) async for doc in comments],
            notifications=[NOTIFICATION_DOCS.record(doc) async for doc in notifications],
        )

    @driver_errors
    async def erase_user(self, user_id: str, email: str, board_ids: list[str]) -> None:
        """Several writes, not one transaction: each is idempotent, so erasing again after
        an interruption finishes the job."""
        user_id, email = want_str(user_id, "user_id"), want_str(email, "email").lower()
        db = self._db
        for collection in _OWN_DOCUMENTS:
            await db[collection].delete_many({"user_id": user_id})
        await db[TWO_FACTOR].delete_one({"_id": user_id})
        await db[NOTIFICATIONS].update_many(
            {"actor": user_id}, {"$set": {"actor": DELETED_USER_ID, "actor_name": DELETED_USER_NAME}}
        )
        await db[COMMENTS].update_many({"author_id": user_id}, {"$set": {"author_id": DELETED_USER_ID}})
        await db[COMMENTS].update_many({"mentions": user_id}, {"$pull": {"mentions": user_id}})
        for collection in (TASKS, BOARDS, WEBHOOKS):
            await db[collection].update_many({"created_by": user_id}, {"$set": {"created_by": DELETED_USER_ID}})
        await db[ATTACHMENTS].update_many({"uploaded_by": user_id}, {"$set": {"uploaded_by": DELETED_USER_ID}})
        await db[TASKS].update_many({"assignees": user_id}, {"$pull": {"assignees": user_id}})
        await db[EVENTS].update_many({"actor": user_id}, {"$set": {"actor": DELETED_USER_ID}})
        async for doc in db[EVENTS].find({"board_id": {"$in": board_ids}}, {"data": 1}):
            scrubbed = scrub(doc["data"], user_id, email)
            if scrubbed != doc["data"]:
                await db[EVENTS].update_one({"_id": doc["_id"]}, {"$set": {"data": scrubbed}})
        await db[USERS].delete_one({"_id": user_id})
