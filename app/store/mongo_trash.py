"""The trash of deleted tasks, and named leases, for MongoStore (see mongo.py)."""

from __future__ import annotations

from app.domain.models import Comment, Event, EventDraft, Task
from app.domain.trash import TrashedTask
from app.domain.views import comment_view, task_view
from app.store.base import NotFound, VersionConflict
from app.store.mongo_attachments import delete_attachment_files
from app.store.mongo_comments import COMMENT_DOCS
from app.store.mongo_events import append_event
from app.store.mongo_records import Document, Documents, checked_draft, want_int, want_str
from app.store.mongo_schema import ATTACHMENTS, COMMENTS, TASK_DOCUMENT_UPDATES, TASKS, TRASH
from app.store.mongo_tasks import TASK_DOCS, task_doc
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors

TRASH_DOCS = Documents(TrashedTask)


class MongoTrash(MongoStoreBase):
    @driver_errors
    async def trash_task(self, task_id: str, expected_version: int | None, deleted_by: str, event: EventDraft) -> Event:
        query: Document = {"_id": want_str(task_id, "task_id")}
        if expected_version is not None:
            query["version"] = want_int(expected_version, "expected_version")
        deleted_by, draft = want_str(deleted_by, "deleted_by"), checked_draft(event)

        async def body(session: Session) -> Event:
            doc = await self._db[TASKS].find_one_and_delete(query, session=session)
            if doc is None:
                current = await self._db[TASKS].find_one({"_id": query["_id"]}, session=session)
                if current is None:
                    raise NotFound(f"task {task_id}")
                raise VersionConflict(TASK_DOCS.record(current))
            task = TASK_DOCS.record(doc)
            comments = await self._db[COMMENTS].find({"task_id": task.id}, session=session).sort("_id", 1).to_list(None)
            entry = TrashedTask(
                task.id,
                task.board_id,
                task.title,
                deleted_by,
                draft.at,
                task_view(task),
                {"items": [comment_view(COMMENT_DOCS.record(comment)) for comment in comments]},
            )
            await self._db[TRASH].insert_one(TRASH_DOCS.doc(entry), session=session)
            await self._db[COMMENTS].delete_many({"task_id": task.id}, session=session)
            # Its files stay where they are, hidden with their task, until it is restored or
            # purged; the co-edited description's history is not kept.
            await self._db[TASK_DOCUMENT_UPDATES].delete_many({"task_id": task.id}, session=session)
            return await append_event(self._db, task.board_id, draft, session)

        return await self._writer.run(body)

    get_trashed_task = TRASH_DOCS.getter(TRASH, "task_id")

    @driver_errors
    async def list_trash(self, board_id: str, limit: int) -> list[TrashedTask]:
        query = {"board_id": want_str(board_id, "board_id")}
        return await TRASH_DOCS.page(self._db[TRASH], query, [("deleted_at", -1), ("_id", -1)], limit)

    @driver_errors
    async def restore_task(self, task: Task, comments: list[Comment], event: EventDraft) -> Event:
        document, draft = task_doc(task), checked_draft(event)
        comment_docs = [COMMENT_DOCS.doc(comment) for comment in comments]

        async def body(session: Session) -> Event:
            taken = await self._db[TRASH].delete_one(
                {"_id": document["_id"], "board_id": document["board_id"]}, session=session
            )
            if taken.deleted_count == 0:
                raise NotFound(f"trashed task {task.id}")
            await self._db[TASKS].insert_one(document, session=session)
            if comment_docs:
                await self._db[COMMENTS].insert_many(comment_docs, session=session)
            return await append_event(self._db, document["board_id"], draft, session)

        return await self._writer.run(body, document["board_id"])

    @driver_errors
    async def purge_trashed_task(self, task_id: str, event: EventDraft) -> Event:
        task_id, draft = want_str(task_id, "task_id"), checked_draft(event)

        async def body(session: Session) -> Event:
            purged = await self._db[TRASH].find_one_and_delete(
                {"_id": task_id}, projection={"board_id": 1}, session=session
            )
            if purged is None:
                raise NotFound(f"trashed task {task_id}")
            await self._db[ATTACHMENTS].delete_many({"task_id": task_id}, session=session)
            return await append_event(self._db, purged["board_id"], draft, session)

        purged = await self._writer.run(body)
        await delete_attachment_files(self._db, "task_id", task_id)
        return purged

    @driver_errors
    async def list_expired_trash(self, deleted_before: str, limit: int) -> list[TrashedTask]:
        query = {"deleted_at": {"$lt": want_str(deleted_before, "deleted_before")}}
        return await TRASH_DOCS.page(self._db[TRASH], query, [("deleted_at", 1), ("_id", 1)], limit)
