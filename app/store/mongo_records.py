"""MongoDB documents <-> domain records, derived from each record's one definition
(app.domain.shape), with the type checks that stop operator injection. Each part of
MongoStore declares the ``Documents`` of the records it keeps.

Every value that reaches a filter or a document passes through one of the ``want_*``
checks first: a dict handed in where a string belongs would otherwise become a query
operator (``{"$ne": ""}``), so the adapter refuses it at its edge with TypeError.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.cursor import AsyncCursor

from app.domain.models import EventDraft
from app.domain.shape import FieldShape, Kind, shape_of
from app.store.mongo_schema import Document as Document  # the parts import it from here
from app.store.mongo_tx import MongoStoreBase, driver_errors


def want_str(value: object, name: str) -> str:
    # str() turns a StrEnum into its plain value, so documents hold plain strings only.
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    return str(value)


def want_optional_str(value: object, name: str) -> str | None:
    return None if value is None else want_str(value, name)


def want_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    return int(value)


def want_page_size(limit: int) -> int:
    # MongoDB reads limit(0) as "no limit", so zero must never reach the driver.
    size = want_int(limit, "limit")
    if size < 0:
        raise ValueError("limit must not be negative")
    return size


def want_str_list(values: object, name: str) -> list[str]:
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of strings, not {type(values).__name__}")
    return [want_str(value, name) for value in values]


def want_int_list(values: object, name: str) -> list[int]:
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of integers, not {type(values).__name__}")
    return [want_int(value, name) for value in values]


def want_dict_list(values: object, name: str) -> list[dict[str, Any]]:
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of dicts, not {type(values).__name__}")
    return [want_dict(value, name) for value in values]


def want_dict(value: object, name: str) -> dict[str, Any]:
    # Not copied: every dict that reaches a document is the caller's own copy (checked_draft).
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict, not {type(value).__name__}")
    return value


class Documents[R]:
    """How one record type is kept as a MongoDB document: its ``id_field`` as ``_id`` (None:
    the caller sets ``_id``, or the server does), every other stored field under its own
    name, each value checked against the field's type on the way in."""

    def __init__(self, cls: type[R], id_field: str | None = "id") -> None:
        self._cls = cls
        stored = [item for item in shape_of(cls) if item.stored]
        self._writes = [
            (item.name, "_id" if item.name == id_field else item.name, _check(item), item.omit_none) for item in stored
        ]
        keys = {item.name: "_id" if item.name == id_field else item.name for item in stored}
        self._required = [(item.name, keys[item.name]) for item in stored if item.required and not item.nullable]
        # None when absent: written before the field existed.
        self._nullable = [(item.name, keys[item.name]) for item in stored if item.nullable]
        self._defaulted = [(item.name, keys[item.name]) for item in stored if not item.required and not item.nullable]
        self._converts = [(item.name, convert) for item in stored if (convert := _convert(item)) is not None]

    def doc(self, record: R) -> Document:
        doc: Document = {}
        for name, key, check, omit_none in self._writes:
            value = getattr(record, name)
            # Absent rather than null when unset, so documents written before the field existed read alike.
            if value is None and omit_none:
                continue
            doc[key] = check(value, name)
        return doc

    def record(self, doc: Mapping[str, Any], **joined: Any) -> R:
        """The record of a document; ``joined`` fills what the collection does not keep."""
        values = {name: doc[key] for name, key in self._required}
        values.update({name: doc.get(key) for name, key in self._nullable})
        values.update({name: doc[key] for name, key in self._defaulted if key in doc})
        for name, convert in self._converts:
            value = values.get(name)
            if value is not None:
                values[name] = convert(value)
        return self._cls(**values, **joined)

    async def one(self, collection: AsyncCollection[Document], query: Document) -> R | None:
        """The record of the first document ``query`` matches, or None."""
        doc = await collection.find_one(query)
        return self.record(doc) if doc else None

    async def all(self, cursor: AsyncCursor[Document]) -> list[R]:
        """The records of every document ``cursor`` reads, in its order."""
        return [self.record(doc) for doc in await cursor.to_list(None)]

    async def page(
        self, collection: AsyncCollection[Document], query: Document, sort: list[tuple[str, int]], limit: int
    ) -> list[R]:
        """The records of the first ``limit`` documents ``query`` matches, in ``sort`` order."""
        if want_page_size(limit) == 0:
            return []
        return await self.all(collection.find(query).sort(sort).limit(limit))

    async def put(self, collection: AsyncCollection[Document], record: R) -> None:
        """Keep ``record`` under its id, in place of what was kept there."""
        doc = self.doc(record)
        await collection.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    # A store method that is one read or write of one document is declared with these
    # (``get_comment = COMMENT_DOCS.getter(COMMENTS, "comment_id")``), not written out in each part.

    def getter(
        self, collection: str, name: str, field: str = "_id"
    ) -> Callable[[MongoStoreBase, str], Coroutine[Any, Any, R | None]]:
        """The store method answering the record of the document of ``collection`` whose ``field``
        is its argument (``name`` in its errors), or None."""

        @driver_errors
        async def get(store: MongoStoreBase, key: str) -> R | None:
            return await self.one(store._db[collection], {field: want_str(key, name)})

        return get

    def inserter(self, collection: str) -> Callable[[MongoStoreBase, R], Coroutine[Any, Any, None]]:
        """The store method adding its record to ``collection``."""

        @driver_errors
        async def insert(store: MongoStoreBase, record: R) -> None:
            await store._db[collection].insert_one(self.doc(record))

        return insert

    def putter(self, collection: str) -> Callable[[MongoStoreBase, R], Coroutine[Any, Any, None]]:
        """The store method keeping its record in ``collection`` under its id, in place of what was kept there."""

        @driver_errors
        async def put(store: MongoStoreBase, record: R) -> None:
            await self.put(store._db[collection], record)

        return put

    def task_pager(
        self, collection: str, projection: Document | None = None
    ) -> Callable[[MongoStoreBase, str, str | None, int], Coroutine[Any, Any, list[R]]]:
        """The store method answering a page of a task's records (comments, attachments), oldest
        first, after the record ``after_id``."""

        @driver_errors
        async def page(store: MongoStoreBase, task_id: str, after_id: str | None, limit: int) -> list[R]:
            if want_int(limit, "limit") <= 0:
                return []  # a MongoDB limit of 0 would mean "no limit"
            query: Document = {"task_id": want_str(task_id, "task_id")}
            if after_id is not None:
                query["_id"] = {"$gt": want_str(after_id, "after_id")}
            cursor = store._db[collection].find(query, projection)
            return await self.all(cursor.sort("_id", 1).limit(limit).batch_size(limit))

        return page


async def per_task(collection: AsyncCollection[Document], task_ids: Sequence[str], figures: Document) -> list[Document]:
    """One document per task of ``task_ids`` that has any in ``collection``: ``_id`` the task's
    id, then ``figures`` (``$group`` accumulators)."""
    if not task_ids:
        return []
    ids = [want_str(task_id, "task_id") for task_id in task_ids]
    cursor = await collection.aggregate(
        [{"$match": {"task_id": {"$in": ids}}}, {"$group": {"_id": "$task_id", **figures}}]
    )
    return await cursor.to_list(None)


def _check(item: FieldShape) -> Callable[[Any, str], Any]:
    match item.kind:
        case Kind.INT:
            check: Callable[[Any, str], Any] = want_int
        case Kind.BOOL:
            return lambda value, name: bool(value)
        case Kind.ENUM:
            enum = item.enum
            assert enum is not None
            check = lambda value, name: enum(want_str(value, name)).value  # noqa: E731
        case Kind.LIST:
            check = want_str_list if item.item is str else want_int_list if item.item is int else want_dict_list
        case Kind.DICT:
            check = want_dict
        case _:
            check = want_str
    if item.nullable:
        return lambda value, name: None if value is None else check(value, name)
    return check


def _convert(item: FieldShape) -> Callable[[Any], Any] | None:
    """Fresh lists and dicts the caller may keep, and the record's own types."""
    match item.kind:
        case Kind.LIST:
            return list
        case Kind.DICT:
            return dict
        case Kind.INT:
            return int
        case Kind.BOOL:
            return bool
        case Kind.ENUM:
            return item.enum
    return None


def fields_of(doc: Document, *names: str) -> Document:
    """Part of a document, for an update that replaces only these fields."""
    return {name: doc[name] for name in names}


def checked_draft(draft: EventDraft) -> EventDraft:
    if not isinstance(draft.data, dict):
        raise TypeError(f"event data must be a dict, not {type(draft.data).__name__}")
    return EventDraft(
        type=want_str(draft.type, "event type"),
        actor=want_str(draft.actor, "actor"),
        at=want_str(draft.at, "at"),
        # The caller may keep mutating its dict; the log must hold the data as it was.
        data=copy.deepcopy(draft.data),
        client_mutation_id=want_optional_str(draft.client_mutation_id, "client_mutation_id"),
        via=None if draft.via is None else dict(want_dict(draft.via, "via")),
        notify=[dataclasses.replace(notice, data=copy.deepcopy(notice.data)) for notice in draft.notify],
    )
