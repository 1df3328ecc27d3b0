"""Notifications, for MongoStore (see mongo.py). They are written by ``append_event`` (in
mongo_events) in the transaction of the event that causes them; these read and mark them.

Every filter starts from the scope's user (and boards, for a limited API token), so one
user can never see or change another's notifications by id.
"""

from __future__ import annotations

from pymongo import ReturnDocument

from app.domain.models import Notification, NotificationScope
from app.store.mongo_records import Document, Documents, want_int, want_optional_str, want_str, want_str_list
from app.store.mongo_schema import NOTIFICATIONS
from app.store.mongo_tx import MongoStoreBase, driver_errors

NOTIFICATION_DOCS = Documents(Notification)


def _scope_filter(scope: NotificationScope) -> Document:
    query: Document = {"user_id": want_str(scope.user_id, "user_id")}
    if scope.board_ids is not None:
        query["board_id"] = {"$in": want_str_list(sorted(scope.board_ids), "board_ids")}
    return query


class MongoNotifications(MongoStoreBase):
    @driver_errors
    async def list_notifications(
        self, scope: NotificationScope, unread_only: bool, before_id: str | None, limit: int
    ) -> list[Notification]:
        if want_int(limit, "limit") <= 0:
            return []  # a MongoDB limit of 0 would mean "no limit"
        query = _scope_filter(scope)
        if unread_only:
            query["read_at"] = None
        if before_id is not None:
            query["_id"] = {"$lt": want_str(before_id, "before_id")}
        return await NOTIFICATION_DOCS.all(
            self._db[NOTIFICATIONS].find(query).sort("_id", -1).limit(limit).batch_size(limit)
        )

    @driver_errors
    async def count_unread_notifications(self, scope: NotificationScope) -> int:
        return await self._db[NOTIFICATIONS].count_documents({**_scope_filter(scope), "read_at": None})

    @driver_errors
    async def mark_notifications_read(
        self, scope: NotificationScope, ids: list[str] | None, up_to_id: str | None, at: str
    ) -> int:
        query = {**_scope_filter(scope), "read_at": None}
        id_filter: Document = {}
        if ids is not None:
            id_filter["$in"] = want_str_list(ids, "ids")
        if up_to_id is not None:
            id_filter["$lte"] = want_str(up_to_id, "up_to_id")
        if id_filter:
            query["_id"] = id_filter
        result = await self._db[NOTIFICATIONS].update_many(query, {"$set": {"read_at": want_str(at, "at")}})
        return result.modified_count

    @driver_errors
    async def set_notification_read(
        self, scope: NotificationScope, notification_id: str, read_at: str | None
    ) -> Notification | None:
        query = {**_scope_filter(scope), "_id": want_str(notification_id, "notification_id")}
        read_at = want_optional_str(read_at, "read_at")
        collection = self._db[NOTIFICATIONS]
        # The first time it was read stays: only an unread one takes ``read_at``.
        changing = query if read_at is None else {**query, "read_at": None}
        doc = await collection.find_one_and_update(
            changing, {"$set": {"read_at": read_at}}, return_document=ReturnDocument.AFTER
        )
        if doc is None and read_at is not None:
            doc = await collection.find_one(query)  # already read, or not in scope
        return NOTIFICATION_DOCS.record(doc) if doc else None
