"""The reminder and digest scheduler's part of MongoStore: named leases, tasks by due
date across boards, and marks that make each reminder and digest happen once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from pymongo.errors import DuplicateKeyError

from app.domain.mail import MailStatus, OutboxMessage
from app.domain.models import Notification, Task
from app.store.mongo_events import insert_notifications
from app.store.mongo_mail import OUTBOX_DOCS, insert_outbox
from app.store.mongo_records import want_int, want_str, want_str_list
from app.store.mongo_schema import LEASES, MAIL_OUTBOX, SCHEDULE_MARKS, TASKS
from app.store.mongo_tasks import TASK_DOCS
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors


class MongoSchedule(MongoStoreBase):
    @driver_errors
    async def claim_lease(self, name: str, owner: str, now: str, until: str) -> bool:
        owner = want_str(owner, "owner")
        try:
            await self._db[LEASES].update_one(
                {"_id": want_str(name, "name"), "$or": [{"until": {"$lte": want_str(now, "now")}}, {"owner": owner}]},
                {"$set": {"owner": owner, "until": want_str(until, "until")}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # held by another: the filter missed and the upsert met its _id
        return True

    @driver_errors
    async def release_lease(self, name: str, owner: str) -> None:
        await self._db[LEASES].delete_one({"_id": want_str(name, "name"), "owner": want_str(owner, "owner")})

    @driver_errors
    async def list_tasks_due(
        self, after: str, until: str, after_task: tuple[str, str] | None, limit: int
    ) -> list[Task]:
        window = {"$gt": want_str(after, "after"), "$lte": want_str(until, "until")}
        query: dict[str, object] = {"due_key": window}
        if after_task is not None:
            due, task_id = want_str(after_task[0], "due_at"), want_str(after_task[1], "task_id")
            query = {
                "$and": [
                    query,
                    {"$or": [{"due_key": {"$gt": due}}, {"due_key": due, "_id": {"$gt": task_id}}]},
                ]
            }
        return await TASK_DOCS.all(
            self._db[TASKS].find(query).sort([("due_key", 1), ("_id", 1)]).limit(want_int(limit, "limit"))
        )

    @driver_errors
    async def marked(self, keys: Sequence[str]) -> set[str]:
        wanted = want_str_list(list(keys), "keys")
        docs = await self._db[SCHEDULE_MARKS].find({"_id": {"$in": wanted}}, {"_id": 1}).to_list(None)
        return {str(doc["_id"]) for doc in docs}

    async def _mark(self, key: str, at: str, session: Session) -> bool:
        """Record ``key`` unless it was; a concurrent recorder makes the insert (and so the
        whole write) fail with DuplicateKeyError, which ``_once`` answers with False."""
        marks = self._db[SCHEDULE_MARKS]
        if await marks.find_one({"_id": want_str(key, "key")}, {"_id": 1}, session=session) is not None:
            return False
        await marks.insert_one({"_id": key, "at": want_str(at, "at")}, session=session)
        return True

    async def _once(self, body: Callable[[Session], Awaitable[bool]]) -> bool:
        try:
            return await self._writer.run(body)
        except DuplicateKeyError:
            return False

    @driver_errors
    async def record_reminder(
        self, key: str, at: str, notifications: list[Notification], mail: list[OutboxMessage]
    ) -> bool:
        async def body(session: Session) -> bool:
            if not await self._mark(key, at, session):
                return False
            if notifications:
                await insert_notifications(self._db, notifications, session)
            if mail:
                await insert_outbox(self._db, mail, session)
            return True

        return await self._once(body)

    @driver_errors
    async def list_held_mail(self, user_id: str, limit: int) -> list[OutboxMessage]:
        query = {"user_id": want_str(user_id, "user_id"), "status": MailStatus.HELD.value}
        return await OUTBOX_DOCS.all(self._db[MAIL_OUTBOX].find(query).sort("_id", 1).limit(want_int(limit, "limit")))

    @driver_errors
    async def queue_digest(self, key: str, message: OutboxMessage, held_ids: Sequence[str]) -> bool:
        held = want_str_list(list(held_ids), "held_ids")

        async def body(session: Session) -> bool:
            if not await self._mark(key, message.created_at, session):
                return False
            await insert_outbox(self._db, [message], session)
            await self._db[MAIL_OUTBOX].update_many(
                {"_id": {"$in": held}, "status": MailStatus.HELD.value},
                {"$set": {"status": MailStatus.DIGESTED.value}},
                session=session,
            )
            return True

        return await self._once(body)
