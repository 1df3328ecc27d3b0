"""The statements a SQLite store function runs, kept to be re-run or explained on their own."""

from __future__ import annotations

import sqlite3
from typing import Any


class RecordingConnection:
    """Hands every statement to the real connection and keeps it with its parameters."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.statements: list[tuple[str, list[Any]]] = []

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        self.statements.append((sql, list(params)))
        return self.conn.execute(sql, params)


def query_plan(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[str]:
    """The detail lines of EXPLAIN QUERY PLAN, outermost first."""
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
