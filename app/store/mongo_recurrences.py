"""Recurring tasks' rules, for MongoStore (see mongo.py): one document per task, ``_id`` the
task's id. The next occurrence's claim is a compare-and-set on the previous rule's
``next_task_id`` (still null), so it succeeds once, with or without a transaction."""

from __future__ import annotations

from collections.abc import Sequence

from app.domain.models import Event, EventDraft, Task
from app.domain.recurrence import Recurrence
from app.store.base import NotFound
from app.store.mongo_events import append_event, ensure_task_on_board
from app.store.mongo_records import Documents, checked_draft, want_str
from app.store.mongo_schema import RECURRENCES, TASKS
from app.store.mongo_tasks import task_doc
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors

RECURRENCE_DOCS = Documents(Recurrence, id_field="task_id")


class MongoRecurrences(MongoStoreBase):
    get_recurrence = RECURRENCE_DOCS.getter(RECURRENCES, "task_id")

    @driver_errors
    async def set_recurrence(self, recurrence: Recurrence, event: EventDraft) -> Event:
        document, draft = RECURRENCE_DOCS.doc(recurrence), checked_draft(event)

        async def body(session: Session) -> Event:
            await ensure_task_on_board(self._db, document["_id"], document["board_id"], session)
            await self._db[RECURRENCES].replace_one({"_id": document["_id"]}, document, upsert=True, session=session)
            return await append_event(self._db, document["board_id"], draft, session)

        return await self._writer.run(body, document["board_id"])

    @driver_errors
    async def delete_recurrence(self, task_id: str, event: EventDraft) -> Event:
        task_id, draft = want_str(task_id, "task_id"), checked_draft(event)
        found = await self._db[RECURRENCES].find_one({"_id": task_id}, {"board_id": 1})
        if found is None:
            raise NotFound(f"recurrence {task_id}")

        async def body(session: Session) -> Event:
            if (await self._db[RECURRENCES].delete_one({"_id": task_id}, session=session)).deleted_count == 0:
                raise NotFound(f"recurrence {task_id}")
            return await append_event(self._db, found["board_id"], draft, session)

        return await self._writer.run(body, found["board_id"])

    @driver_errors
    async def create_next_occurrence(
        self, previous_task_id: str, task: Task, recurrence: Recurrence, events: Sequence[EventDraft]
    ) -> list[Event] | None:
        previous = want_str(previous_task_id, "previous_task_id")
        task_document, rule_document = task_doc(task), RECURRENCE_DOCS.doc(recurrence)
        drafts = [checked_draft(event) for event in events]

        async def body(session: Session) -> list[Event] | None:
            claimed = await self._db[RECURRENCES].find_one_and_update(
                {"_id": previous, "next_task_id": None}, {"$set": {"next_task_id": task.id}}, session=session
            )
            if claimed is None:
                return None
            await self._db[TASKS].insert_one(task_document, session=session)
            await self._db[RECURRENCES].insert_one(rule_document, session=session)
            return [await append_event(self._db, task.board_id, draft, session) for draft in drafts]

        return await self._writer.run(body, task.board_id)
