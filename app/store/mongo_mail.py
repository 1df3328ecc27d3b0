"""The email outbox, its delivery log and notification preferences, for MongoStore.

``insert_outbox`` runs in the transaction of whatever queues a message (``append_event``
for the notices of a board change). Lease-holder writes are single conditional updates
(``lease_owner: owner`` in the filter), atomic without a transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from app.domain.mail import AccountPurpose, AccountToken, MailAttempt, MailStatus, OutboxMessage, Preferences, Watch
from app.store.mongo_records import Document, Documents, want_int, want_str, want_str_list
from app.store.mongo_schema import (
    ACCOUNT_TOKENS,
    MAIL_ATTEMPTS,
    MAIL_OUTBOX,
    PREFERENCES,
    VERIFIED_EMAILS,
    WATCHES,
    Database,
)
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors

OUTBOX_DOCS = Documents(OutboxMessage)
ATTEMPT_DOCS = Documents(MailAttempt)
PREFERENCE_DOCS = Documents(Preferences, id_field="user_id")


async def insert_outbox(db: Database, messages: Sequence[OutboxMessage], session: Session) -> None:
    await db[MAIL_OUTBOX].insert_many([OUTBOX_DOCS.doc(message) for message in messages], session=session)


class MongoMail(MongoStoreBase):
    @driver_errors
    async def enqueue_mail(self, message: OutboxMessage) -> bool:
        try:
            await self._db[MAIL_OUTBOX].insert_one(OUTBOX_DOCS.doc(message))
        except DuplicateKeyError:
            return False
        return True

    get_mail = OUTBOX_DOCS.getter(MAIL_OUTBOX, "message_id")

    @driver_errors
    async def list_mail(self, user_id: str, limit: int) -> list[OutboxMessage]:
        if want_int(limit, "limit") <= 0:
            return []
        return await OUTBOX_DOCS.all(
            self._db[MAIL_OUTBOX].find({"user_id": want_str(user_id, "user_id")}).sort("_id", -1).limit(limit)
        )

    @driver_errors
    async def claim_mail(self, owner: str, now: str, until: str, limit: int) -> list[OutboxMessage]:
        now, owner, until = want_str(now, "now"), want_str(owner, "owner"), want_str(until, "until")
        query: Document = {
            "status": MailStatus.PENDING.value,
            "next_attempt_at": {"$lte": now},
            "$or": [{"lease_until": None}, {"lease_until": {"$lte": now}}],
        }
        claimed = []
        # One conditional update per message: each is taken by one caller only.
        for _ in range(want_int(limit, "limit")):
            doc = await self._db[MAIL_OUTBOX].find_one_and_update(
                query,
                {"$set": {"lease_owner": owner, "lease_until": until}},
                sort=[("next_attempt_at", 1), ("_id", 1)],
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:
                break
            claimed.append(OUTBOX_DOCS.record(doc))
        return claimed

    @driver_errors
    async def finish_mail(
        self, owner: str, attempt: MailAttempt, status: MailStatus, next_attempt_at: str, error: str | None
    ) -> bool:
        document = ATTEMPT_DOCS.doc(attempt)
        outbox = self._db[MAIL_OUTBOX]
        if await outbox.find_one({"_id": document["message_id"]}, {"_id": 1}) is None:
            return False
        await self._db[MAIL_ATTEMPTS].insert_one(document)
        changes: Document = {
            "status": MailStatus(status).value,
            "next_attempt_at": want_str(next_attempt_at, "next_attempt_at"),
            "last_error": None if error is None else want_str(error, "error"),
            "lease_owner": None,
            "lease_until": None,
        }
        if status is MailStatus.SENT:
            changes["sent_at"] = document["at"]
        result = await outbox.update_one(
            {"_id": document["message_id"], "lease_owner": want_str(owner, "owner")},
            {"$set": changes, "$inc": {"attempts": 1}},
        )
        return result.modified_count == 1

    @driver_errors
    async def list_mail_attempts(self, message_id: str) -> list[MailAttempt]:
        return await ATTEMPT_DOCS.all(
            self._db[MAIL_ATTEMPTS].find({"message_id": want_str(message_id, "message_id")}).sort("_id", 1)
        )

    @driver_errors
    async def get_preferences(self, user_ids: Sequence[str]) -> dict[str, Preferences]:
        ids = want_str_list(list(dict.fromkeys(user_ids)), "user_ids")
        if not ids:
            return {}
        docs = await self._db[PREFERENCES].find({"_id": {"$in": ids}}).to_list(None)
        records = [PREFERENCE_DOCS.record(doc) for doc in docs]
        return {record.user_id: record for record in records}

    save_preferences = PREFERENCE_DOCS.putter(PREFERENCES)


WATCH_DOCS = Documents(Watch, id_field=None)


class MongoWatches(MongoStoreBase):
    @driver_errors
    async def save_watch(self, watch: Watch) -> None:
        document = WATCH_DOCS.doc(watch)
        document["_id"] = f"{document['board_id']}:{document['task_id']}:{document['user_id']}"
        await self._db[WATCHES].replace_one({"_id": document["_id"]}, document, upsert=True)

    @driver_errors
    async def list_watches(self, board_id: str, task_id: str | None) -> list[Watch]:
        return await watches_of(self._db, board_id, task_id)


async def watches_of(db: AsyncDatabase[Document], board_id: str, task_id: str | None) -> list[Watch]:
    """The watch choices on the board and, given one, on the task."""
    query = {"board_id": want_str(board_id, "board_id"), "task_id": {"$in": ["", task_id or ""]}}
    return [WATCH_DOCS.record(doc) for doc in await db[WATCHES].find(query).to_list(None)]


ACCOUNT_TOKEN_DOCS = Documents(AccountToken)


class MongoAccountEmails(MongoStoreBase):
    @driver_errors
    async def create_account_token(self, token: AccountToken, mail: OutboxMessage) -> None:
        document = ACCOUNT_TOKEN_DOCS.doc(token)

        async def body(session: Session) -> None:
            await self._db[ACCOUNT_TOKENS].insert_one(document, session=session)
            await insert_outbox(self._db, [mail], session)

        await self._writer.run(body)

    @driver_errors
    async def spend_account_token(self, token_id: str, purpose: AccountPurpose, at: str) -> AccountToken | None:
        at = want_str(at, "at")
        doc = await self._db[ACCOUNT_TOKENS].find_one_and_update(
            {
                "_id": want_str(token_id, "token_id"),
                "purpose": AccountPurpose(purpose).value,
                "used_at": None,
                "expires_at": {"$gt": at},
            },
            {"$set": {"used_at": at}},
            return_document=ReturnDocument.BEFORE,
        )
        return ACCOUNT_TOKEN_DOCS.record(doc) if doc else None

    @driver_errors
    async def pending_account_token(self, user_id: str, purpose: AccountPurpose, at: str) -> AccountToken | None:
        query = {
            "user_id": want_str(user_id, "user_id"),
            "purpose": AccountPurpose(purpose).value,
            "used_at": None,
            "expires_at": {"$gt": want_str(at, "at")},
        }
        doc = await self._db[ACCOUNT_TOKENS].find_one(query, sort=[("created_at", -1), ("_id", -1)])
        return ACCOUNT_TOKEN_DOCS.record(doc) if doc else None

    @driver_errors
    async def mark_email_verified(self, user_id: str, email: str, at: str) -> None:
        user_id = want_str(user_id, "user_id")
        document = {"_id": user_id, "email": want_str(email, "email"), "at": want_str(at, "at")}
        await self._db[VERIFIED_EMAILS].replace_one({"_id": user_id}, document, upsert=True)

    @driver_errors
    async def verified_email(self, user_id: str) -> str | None:
        doc = await self._db[VERIFIED_EMAILS].find_one({"_id": want_str(user_id, "user_id")})
        return None if doc is None else str(doc["email"])
