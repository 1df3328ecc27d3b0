"""Comments on tasks, for MongoStore (see mongo.py). Each write and its event run in one
transaction through the board's writer, like every other board change."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ReturnDocument

from app.domain.models import Comment, Event, EventDraft
from app.store.base import NotFound
from app.store.mongo_events import append_event
from app.store.mongo_records import Document, Documents, checked_draft, fields_of, want_int, want_str
from app.store.mongo_schema import COMMENTS, TASKS
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors

COMMENT_DOCS = Documents(Comment)


class MongoComments(MongoStoreBase):
    @driver_errors
    async def create_comment(self, comment: Comment, event: EventDraft) -> Event:
        document, draft = COMMENT_DOCS.doc(comment), checked_draft(event)

        async def body(session: Session) -> Event:
            # A concurrent delete_task also writes the board document (its seq), so inside
            # transactions the two conflict and this one retries and sees the task gone.
            task = await self._db[TASKS].find_one({"_id": document["task_id"]}, {"board_id": 1}, session=session)
            if task is None or task["board_id"] != document["board_id"]:
                raise NotFound(f"task {document['task_id']}")
            await self._db[COMMENTS].insert_one(document, session=session)
            return await append_event(self._db, document["board_id"], draft, session)

        return await self._writer.run(body, document["board_id"])

    @driver_errors
    async def get_comment(self, comment_id: str) -> Comment | None:
        return await COMMENT_DOCS.by_id(self._db[COMMENTS], comment_id, "comment_id")

    @driver_errors
    async def list_comments(self, task_id: str, after_comment_id: str | None, limit: int) -> list[Comment]:
        if want_int(limit, "limit") <= 0:
            return []  # a MongoDB limit of 0 would mean "no limit"
        query: Document = {"task_id": want_str(task_id, "task_id")}
        if after_comment_id is not None:
            query["_id"] = {"$gt": want_str(after_comment_id, "after_comment_id")}
        docs = await self._db[COMMENTS].find(query).sort("_id", 1).limit(limit).batch_size(limit).to_list(None)
        return [COMMENT_DOCS.record(doc) for doc in docs]

    @driver_errors
    async def count_comments(self, task_ids: Sequence[str]) -> dict[str, int]:
        if not task_ids:
            return {}
        ids = [want_str(task_id, "task_id") for task_id in task_ids]
        cursor = await self._db[COMMENTS].aggregate(
            [{"$match": {"task_id": {"$in": ids}}}, {"$group": {"_id": "$task_id", "count": {"$sum": 1}}}]
        )
        return {doc["_id"]: int(doc["count"]) for doc in await cursor.to_list(None)}

    @driver_errors
    async def update_comment(self, comment: Comment, event: EventDraft) -> Event:
        document, draft = COMMENT_DOCS.doc(comment), checked_draft(event)
        changes = fields_of(document, "body", "mentions", "updated_at")

        async def body(session: Session) -> Event:
            before = await self._db[COMMENTS].find_one_and_update(
                {"_id": document["_id"]},
                {"$set": changes},
                projection={"board_id": 1},
                return_document=ReturnDocument.BEFORE,
                session=session,
            )
            if before is None:
                raise NotFound(f"comment {document['_id']}")
            return await append_event(self._db, before["board_id"], draft, session)

        return await self._writer.run(body, document["board_id"])

    @driver_errors
    async def delete_comment(self, comment_id: str, event: EventDraft) -> Event:
        comment_id, draft = want_str(comment_id, "comment_id"), checked_draft(event)

        async def body(session: Session) -> Event:
            deleted = await self._db[COMMENTS].find_one_and_delete(
                {"_id": comment_id}, projection={"board_id": 1}, session=session
            )
            if deleted is None:
                raise NotFound(f"comment {comment_id}")
            return await append_event(self._db, deleted["board_id"], draft, session)

        return await self._writer.run(body)
