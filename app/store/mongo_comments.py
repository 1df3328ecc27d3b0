"""Comments on tasks, for MongoStore (see mongo.py). Each write and its event run in one
transaction through the board's writer, like every other board change."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ReturnDocument

from app.domain.models import Comment, Event, EventDraft
from app.store.base import NotFound
from app.store.mongo_events import append_event, delete_with_event, insert_with_event
from app.store.mongo_records import Documents, checked_draft, fields_of, per_task
from app.store.mongo_schema import COMMENTS
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors

COMMENT_DOCS = Documents(Comment)


class MongoComments(MongoStoreBase):
    @driver_errors
    async def create_comment(self, comment: Comment, event: EventDraft) -> Event:
        document = COMMENT_DOCS.doc(comment)
        return await insert_with_event(self, COMMENTS, document, event, of_task=document["task_id"])

    get_comment = COMMENT_DOCS.getter(COMMENTS, "comment_id")

    list_comments = COMMENT_DOCS.task_pager(COMMENTS)

    @driver_errors
    async def count_comments(self, task_ids: Sequence[str]) -> dict[str, int]:
        docs = await per_task(self._db[COMMENTS], task_ids, {"count": {"$sum": 1}})
        return {doc["_id"]: int(doc["count"]) for doc in docs}

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
        return await delete_with_event(self, COMMENTS, comment_id, "comment_id", event, "comment")
