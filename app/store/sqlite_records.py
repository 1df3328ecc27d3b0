"""Rows to domain records and back, derived from each record's one definition.

A table keeps one column per stored field, named like the field (app.domain.shape):
lists and free-form data as JSON text, booleans as 0/1, enums as their values. Each part
of SQLiteStore declares the ``Rows`` of the records it keeps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

from app.domain.shape import FieldShape, Kind, shape_of
from app.jsonutil import dumps, loads
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes


def _encoder(item: FieldShape) -> Callable[[Any], Any] | None:
    match item.kind:
        case Kind.LIST:
            return lambda value: dumps(list(value))
        case Kind.DICT:
            return dumps
        case Kind.BOOL:
            return int
        case Kind.ENUM:
            enum = item.enum
            assert enum is not None
            return lambda value: enum(value).value
    return None


def _decoder(item: FieldShape) -> Callable[[Any], Any] | None:
    match item.kind:
        case Kind.LIST | Kind.DICT:
            return loads
        case Kind.BOOL:
            return bool
        case Kind.ENUM:
            return item.enum
    return None


class Rows[R]:
    """How one record type is kept in one table."""

    def __init__(self, cls: type[R]) -> None:
        self._cls = cls
        stored = [item for item in shape_of(cls) if item.stored]
        self.names = tuple(item.name for item in stored)
        self.columns = ", ".join(self.names)
        self.placeholders = ", ".join("?" * len(self.names))
        self._encoders = [
            (index, encode, item.nullable)
            for index, item in enumerate(stored)
            if (encode := _encoder(item)) is not None
        ]
        self._decoders = [
            (item.name, decode, item.nullable) for item in stored if (decode := _decoder(item)) is not None
        ]

    def qualified(self, alias: str) -> str:
        """The column list for a query that names the table ``alias``."""
        return ", ".join(f"{alias}.{name}" for name in self.names)

    def params(self, record: R) -> list[Any]:
        """The values of ``record``, in the order of ``columns``."""
        values = [getattr(record, name) for name in self.names]
        for index, encode, nullable in self._encoders:
            if not (nullable and values[index] is None):
                values[index] = encode(values[index])
        return values

    def named(self, record: R) -> dict[str, Any]:
        """The values of ``record`` by column name, for named parameters."""
        return dict(zip(self.names, self.params(record), strict=True))

    def record(self, row: sqlite3.Row | Iterable[Any], **joined: Any) -> R:
        """The record of a row that starts with ``columns`` (or of ``params``); ``joined``
        fills fields the table does not keep (a member's email and name, from users)."""
        values = dict(zip(self.names, row, strict=False))  # a join may add columns after ours
        for name, decode, nullable in self._decoders:
            if not (nullable and values[name] is None):
                values[name] = decode(values[name])
        return self._cls(**values, **joined)

    def one(self, conn: sqlite3.Connection, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> R | None:
        """The record of the first row ``sql`` answers (its columns start with ``columns``), or None."""
        row = conn.execute(sql, params).fetchone()
        return None if row is None else self.record(row)

    def all(self, conn: sqlite3.Connection, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[R]:
        """The records of every row ``sql`` answers, in its order."""
        return [self.record(row) for row in conn.execute(sql, params).fetchall()]

    def insert(self, conn: sqlite3.Connection, table: str, record: R, *, replace: bool = False) -> None:
        """Add ``record`` to ``table``; ``replace``: in place of a row with the same key."""
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        conn.execute(f"{verb} INTO {table} ({self.columns}) VALUES ({self.placeholders})", self.params(record))

    def insert_all(self, conn: sqlite3.Connection, table: str, records: Iterable[R]) -> None:
        """Add each of ``records`` to ``table``."""
        conn.executemany(
            f"INSERT INTO {table} ({self.columns}) VALUES ({self.placeholders})", [self.params(r) for r in records]
        )

    def find(
        self, conn: sqlite3.Connection, table: str, condition: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> list[R]:
        """The records of ``table``'s rows that meet ``condition`` (a WHERE clause, with any ORDER BY
        and LIMIT after it)."""
        return self.all(conn, f"SELECT {self.columns} FROM {table} WHERE {condition}", params)

    def find_one(
        self, conn: sqlite3.Connection, table: str, condition: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> R | None:
        """The record of the first of ``table``'s rows that meet ``condition``, or None."""
        return self.one(conn, f"SELECT {self.columns} FROM {table} WHERE {condition}", params)

    # A store method that is one read or write of one record is declared with these
    # (``get_comment = COMMENT_ROWS.getter("comments")``), not written out in each part.

    def getter(self, table: str, column: str = "id") -> Callable[[SQLiteStoreBase, str], Coroutine[Any, Any, R | None]]:
        """The store method answering the record of ``table`` whose ``column`` is its argument, or None."""
        condition = f"{column} = ?"

        @reads
        def get(store: SQLiteStoreBase, conn: sqlite3.Connection, key: str) -> R | None:
            return self.find_one(conn, table, condition, (key,))

        return get

    def inserter(
        self, table: str, *, replace: bool = False
    ) -> Callable[[SQLiteStoreBase, R], Coroutine[Any, Any, None]]:
        """The store method adding its record to ``table``; ``replace``: in place of the row with its key."""

        @writes
        def insert(store: SQLiteStoreBase, conn: sqlite3.Connection, record: R) -> None:
            self.insert(conn, table, record, replace=replace)

        return insert

    def task_pager(self, table: str) -> Callable[[SQLiteStoreBase, str, str | None, int], Coroutine[Any, Any, list[R]]]:
        """The store method answering a page of a task's records (comments, attachments), oldest
        first, after the record ``after_id``."""

        @reads
        def page(
            store: SQLiteStoreBase, conn: sqlite3.Connection, task_id: str, after_id: str | None, limit: int
        ) -> list[R]:
            return self.find(
                conn, table, "task_id = ? AND id > ? ORDER BY id LIMIT ?", (task_id, after_id or "", limit)
            )

        return page


def per_task(conn: sqlite3.Connection, figures: str, table: str, task_ids: Sequence[str]) -> list[sqlite3.Row]:
    """``task_id`` and ``figures`` (aggregates) of ``table`` for each task of ``task_ids`` that has
    rows. One page of tasks at most (200 ids), well under SQLite's bound-parameter limit; each
    group is a range of the table's task_id index."""
    if not task_ids:
        return []
    marks = ", ".join("?" * len(task_ids))
    return conn.execute(
        f"SELECT task_id, {figures} FROM {table} WHERE task_id IN ({marks}) GROUP BY task_id", list(task_ids)
    ).fetchall()
