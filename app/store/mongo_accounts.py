"""An account's own lifecycle, for MongoStore: a new email, the records its data export
reads, and erasing it (app/services/account.py)."""

from __future__ import annotations

import re

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.domain.models import DELETED_USER_ID, DELETED_USER_NAME, User, UserRecords
from app.store.base import EmailTaken
from app.store.erasure import scrub, scrub_kept
from app.store.mongo_comments import COMMENT_DOCS
from app.store.mongo_notifications import NOTIFICATION_DOCS
from app.store.mongo_records import want_str
from app.store.mongo_schema import (
    ACCOUNT_TOKENS,
    API_TOKENS,
    ATTACHMENTS,
    BOARD_TRASH,
    BOARDS,
    COMMENTS,
    EVENTS,
    EXTERNAL_IDENTITIES,
    INVITATIONS,
    MAIL_ATTEMPTS,
    MAIL_OUTBOX,
    MEMBERS,
    NOTIFICATIONS,
    PREFERENCES,
    RECURRENCES,
    REFRESH_TOKENS,
    SCHEDULE_MARKS,
    TASKS,
    TRASH,
    TRASHED_MEMBERS,
    TWO_FACTOR,
    USERS,
    VERIFIED_EMAILS,
    WATCHES,
    WEBHOOKS,
)
from app.store.mongo_tasks import TASK_DOCS
from app.store.mongo_tx import MongoStoreBase, driver_errors
from app.store.mongo_users import USER_DOCS

# What is the account's alone, deleted with it (by its user_id field).
_OWN_DOCUMENTS = (
    REFRESH_TOKENS,
    API_TOKENS,
    EXTERNAL_IDENTITIES,
    NOTIFICATIONS,
    MEMBERS,
    TRASHED_MEMBERS,
    WATCHES,
    ACCOUNT_TOKENS,
)
# ... and by its _id.
_OWN_BY_ID = (TWO_FACTOR, PREFERENCES, VERIFIED_EMAILS)
# Where what others keep names the user, by (collection, field): renamed DELETED_USER_ID.
_NAMED_BY = (
    (COMMENTS, "author_id"),
    (TASKS, "created_by"),
    (BOARDS, "created_by"),
    (WEBHOOKS, "created_by"),
    (RECURRENCES, "created_by"),
    (INVITATIONS, "created_by"),
    (ATTACHMENTS, "uploaded_by"),
    (TRASH, "deleted_by"),
    (BOARD_TRASH, "deleted_by"),
)


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
    async def erase_user(self, user_id: str, email: str, name: str, board_ids: list[str]) -> None:
        """Several writes, not one transaction: each is idempotent, so erasing again after
        an interruption finishes the job."""
        user_id, email = want_str(user_id, "user_id"), want_str(email, "email").lower()
        name = want_str(name, "name")
        db = self._db
        # A trashed board the user shared stays for its other members: read before the
        # user's trashed memberships go with the rest of their documents.
        trashed = await db[TRASHED_MEMBERS].find({"user_id": user_id}, {"board_id": 1}).to_list(None)
        board_ids = [*board_ids, *(doc["board_id"] for doc in trashed)]
        for collection in _OWN_DOCUMENTS:
            await db[collection].delete_many({"user_id": user_id})
        for collection in _OWN_BY_ID:
            await db[collection].delete_one({"_id": user_id})
        async for message in db[MAIL_OUTBOX].find({"user_id": user_id}, {"_id": 1}):
            await db[MAIL_ATTEMPTS].delete_many({"message_id": message["_id"]})
        await db[MAIL_OUTBOX].delete_many({"user_id": user_id})
        # Before the events' actor is renamed: an email is the user's doing unless its event
        # (still logged) is someone else's of the same name.
        async for message in db[MAIL_OUTBOX].find({"data.actor_name": name}, {"data": 1}):
            data = message["data"]
            by_other = {"board_id": data.get("board_id"), "seq": data.get("seq"), "actor": {"$ne": user_id}}
            if await db[EVENTS].find_one(by_other, {"_id": 1}) is None:
                await db[MAIL_OUTBOX].update_one(
                    {"_id": message["_id"]}, {"$set": {"data.actor_name": DELETED_USER_NAME}}
                )
        await db[SCHEDULE_MARKS].delete_many({"_id": {"$regex": re.escape(user_id)}})
        await db[INVITATIONS].delete_many({"created_by": user_id, "accepted_at": None, "revoked_at": None})
        await db[INVITATIONS].update_many(
            {"accepted_by": user_id}, {"$set": {"accepted_by": DELETED_USER_ID, "email": ""}}
        )
        await db[NOTIFICATIONS].update_many(
            {"actor": user_id}, {"$set": {"actor": DELETED_USER_ID, "actor_name": DELETED_USER_NAME}}
        )
        for collection, field in _NAMED_BY:
            await db[collection].update_many({field: user_id}, {"$set": {field: DELETED_USER_ID}})
        await db[COMMENTS].update_many({"mentions": user_id}, {"$pull": {"mentions": user_id}})
        await db[TASKS].update_many({"assignees": user_id}, {"$pull": {"assignees": user_id}})
        async for doc in db[TRASH].find({}, {"task": 1, "comments": 1}):
            kept = {key: scrub_kept(doc[key], user_id, email) for key in ("task", "comments")}
            if kept != {key: doc[key] for key in kept}:
                await db[TRASH].update_one({"_id": doc["_id"]}, {"$set": kept})
        await db[EVENTS].update_many({"actor": user_id}, {"$set": {"actor": DELETED_USER_ID}})
        async for doc in db[EVENTS].find({"board_id": {"$in": board_ids}}, {"data": 1}):
            scrubbed = scrub(doc["data"], user_id, email)
            if scrubbed != doc["data"]:
                await db[EVENTS].update_one({"_id": doc["_id"]}, {"$set": {"data": scrubbed}})
        await db[USERS].delete_one({"_id": user_id})
