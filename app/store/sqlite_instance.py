"""What the instance administrator reads and switches, for SQLiteStore."""

from __future__ import annotations

import sqlite3

from app.domain.models import User
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_users import USER_ROWS

_FIGURES = {
    "users": "SELECT count(*) FROM users",
    "disabled_users": "SELECT count(*) FROM users WHERE disabled_at IS NOT NULL",
    "boards": "SELECT count(*) FROM boards",
    "tasks": "SELECT count(*) FROM tasks",
    "comments": "SELECT count(*) FROM comments",
}


class SQLiteInstance(SQLiteStoreBase):
    @reads
    def list_users(self, conn: sqlite3.Connection, after_id: str | None, limit: int) -> list[User]:
        return USER_ROWS.find(conn, "users", "id > ? ORDER BY id LIMIT ?", (after_id or "", limit))

    @writes
    def set_user_disabled(self, conn: sqlite3.Connection, user_id: str, disabled_at: str | None) -> User | None:
        conn.execute("UPDATE users SET disabled_at = ? WHERE id = ?", (disabled_at, user_id))
        return USER_ROWS.find_one(conn, "users", "id = ?", (user_id,))

    @reads
    def instance_figures(self, conn: sqlite3.Connection) -> dict[str, int]:
        return {name: conn.execute(query).fetchone()[0] for name, query in _FIGURES.items()}

    @reads
    def get_instance_value(self, conn: sqlite3.Connection, key: str) -> str | None:
        row = conn.execute("SELECT value FROM instance_values WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @writes
    def set_instance_value(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO instance_values (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
