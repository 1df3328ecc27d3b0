"""Tasks, for MongoStore (see mongo.py)."""

from __future__ import annotations

from typing import NoReturn

from app.domain.models import Event, EventDraft, Task, TaskPage, TaskPageRequest, stored_sort_keys
from app.store.base import NewTaskPlace, NotFound, TaskAccess, VersionConflict
from app.store.mongo_attachments import delete_attachment_files
from app.store.mongo_boards import BOARD_DOCS, NOT_TRASHED, member_key, member_record
from app.store.mongo_events import append_event, insert_with_event
from app.store.mongo_mail import watches_of
from app.store.mongo_query import base_filter, page_filter, sort_spec
from app.store.mongo_records import Document, Documents, checked_draft, want_int, want_str
from app.store.mongo_schema import ATTACHMENTS, BOARDS, COMMENTS, MEMBERS, RECURRENCES, TASK_DOCUMENT_UPDATES, TASKS
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors

TASK_DOCS = Documents(Task)


def task_doc(task: Task) -> Document:
    # Sort keys stored beside the task so that every sort of list_tasks is an index scan.
    return {**TASK_DOCS.doc(task), **stored_sort_keys(task)}


class MongoTasks(MongoStoreBase):
    @driver_errors
    async def create_task(self, task: Task, event: EventDraft) -> Event:
        return await insert_with_event(self, TASKS, task_doc(task), event)

    get_task = TASK_DOCS.getter(TASKS, "task_id")

    @driver_errors
    async def update_task(self, task: Task, expected_version: int, event: EventDraft) -> Event:
        document, draft = task_doc(task), checked_draft(event)
        expected = want_int(expected_version, "expected_version")

        async def body(session: Session) -> Event:
            # Compare-and-set: the version in the filter makes a stale write match nothing.
            result = await self._db[TASKS].replace_one(
                {"_id": document["_id"], "version": expected}, document, session=session
            )
            if result.matched_count == 0:
                await self._raise_stale(document["_id"], session)
            return await append_event(self._db, document["board_id"], draft, session)

        return await self._writer.run(body, document["board_id"])

    @driver_errors
    async def delete_task(self, task_id: str, expected_version: int | None, event: EventDraft) -> Event:
        query: Document = {"_id": want_str(task_id, "task_id")}
        if expected_version is not None:
            query["version"] = want_int(expected_version, "expected_version")
        draft = checked_draft(event)

        async def body(session: Session) -> Event:
            deleted = await self._db[TASKS].find_one_and_delete(query, projection={"board_id": 1}, session=session)
            if deleted is None:
                await self._raise_stale(query["_id"], session)
            await self._db[COMMENTS].delete_many({"task_id": query["_id"]}, session=session)
            await self._db[ATTACHMENTS].delete_many({"task_id": query["_id"]}, session=session)
            await self._db[TASK_DOCUMENT_UPDATES].delete_many({"task_id": query["_id"]}, session=session)
            await self._db[RECURRENCES].delete_one({"_id": query["_id"]}, session=session)
            return await append_event(self._db, deleted["board_id"], draft, session)

        appended = await self._writer.run(body)
        await delete_attachment_files(self._db, "task_id", query["_id"])
        return appended

    async def _raise_stale(self, task_id: str, session: Session) -> NoReturn:
        current = await self._db[TASKS].find_one({"_id": task_id}, session=session)
        if current is None:
            raise NotFound(f"task {task_id}")
        raise VersionConflict(TASK_DOCS.record(current))

    @driver_errors
    async def get_task_access(self, task_id: str, user_id: str, with_board: bool) -> TaskAccess:
        # Three point reads; no snapshot is needed as a task goes with its board.
        task = await self.get_task(task_id)
        if task is None:
            return TaskAccess(None)
        doc = await self._db[MEMBERS].find_one({"_id": member_key(task.board_id, user_id)})
        member = member_record(doc) if doc else None
        if not with_board:
            return TaskAccess(task, member)
        board = await self._db[BOARDS].find_one({"_id": task.board_id, **NOT_TRASHED})
        watches = tuple(await watches_of(self._db, task.board_id, task.id))
        return TaskAccess(task, member, BOARD_DOCS.record(board) if board else None, watches)

    @driver_errors
    async def get_new_task_place(self, board_id: str, user_id: str, status: str | None) -> NewTaskPlace:
        doc = await self._db[BOARDS].find_one({"_id": want_str(board_id, "board_id"), **NOT_TRASHED})
        member = await self._db[MEMBERS].find_one({"_id": member_key(board_id, user_id)})
        board = BOARD_DOCS.record(doc) if doc else None
        column = status if status is not None or board is None else board.columns[0]
        last = await self.last_position(board_id, column) if column is not None else None
        watches = tuple(await watches_of(self._db, board_id, None))
        return NewTaskPlace(member_record(member) if member else None, board, last, watches)

    @driver_errors
    async def last_position(self, board_id: str, status: str) -> str | None:
        doc = await self._db[TASKS].find_one(
            {"board_id": want_str(board_id, "board_id"), "status": want_str(status, "status")},
            {"position": 1},
            sort=[("position", -1), ("_id", -1)],
        )
        return doc["position"] if doc else None

    @driver_errors
    async def list_tasks(self, request: TaskPageRequest) -> TaskPage:
        limit = want_int(request.limit, "limit")
        if limit < 0:
            raise ValueError("limit must not be negative")
        base = base_filter(request.board_id, request.filter)
        if base is None:
            return TaskPage(items=[], has_more=False, total=0 if request.include_total else None)
        # One extra row tells whether another page exists; a batch as large as the page
        # keeps it to one round trip (the server's default first batch is 101 documents).
        cursor = self._db[TASKS].find(page_filter(request, base)).sort(sort_spec(request.sort))
        docs = await cursor.limit(limit + 1).batch_size(limit + 1).to_list(None)
        total = await self._count(base) if request.include_total else None
        return TaskPage(items=[TASK_DOCS.record(doc) for doc in docs[:limit]], has_more=len(docs) > limit, total=total)

    async def _count(self, query: Document) -> int:
        # The count command rather than count_documents: the latter wraps the filter in
        # an aggregation $match, where some servers we test against reject $text.
        reply = await self._db.command("count", TASKS, query=query)
        return int(reply["n"])
