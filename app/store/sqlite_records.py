"""Rows to domain records and back, derived from each record's one definition.

A table keeps one column per stored field, named like the field (app.domain.shape):
lists and free-form data as JSON text, booleans as 0/1, enums as their values. Each part
of SQLiteStore declares the ``Rows`` of the records it keeps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from app.domain.shape import FieldShape, Kind, shape_of
from app.jsonutil import dumps, loads


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
