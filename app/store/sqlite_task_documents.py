"""The shared description documents (CRDT updates), for SQLiteStore."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from app.store.sqlite_events import ensure_task_on_board
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes


def _insert(conn: sqlite3.Connection, task_id: str, board_id: str, data: bytes) -> None:
    conn.execute(
        "INSERT INTO task_document_updates (task_id, board_id, data) VALUES (?, ?, ?)", (task_id, board_id, data)
    )


class SQLiteTaskDocuments(SQLiteStoreBase):
    @writes
    def seed_task_document(self, conn: sqlite3.Connection, task_id: str, board_id: str, state: bytes) -> bool:
        # Under the write lock: of two seeds racing, the second sees the first.
        ensure_task_on_board(conn, task_id, board_id)
        if conn.execute("SELECT 1 FROM task_document_updates WHERE task_id = ? LIMIT 1", (task_id,)).fetchone():
            return False
        _insert(conn, task_id, board_id, state)
        return True

    @writes
    def append_task_document_update(self, conn: sqlite3.Connection, task_id: str, board_id: str, update: bytes) -> None:
        ensure_task_on_board(conn, task_id, board_id)
        _insert(conn, task_id, board_id, update)

    @reads
    def load_task_document(self, conn: sqlite3.Connection, task_id: str) -> list[tuple[str, bytes]]:
        rows = conn.execute(
            "SELECT id, data FROM task_document_updates WHERE task_id = ? ORDER BY id", (task_id,)
        ).fetchall()
        return [(str(row["id"]), bytes(row["data"])) for row in rows]

    @writes
    def compact_task_document(
        self, conn: sqlite3.Connection, task_id: str, replaced: Sequence[str], state: bytes
    ) -> None:
        ids = sorted(int(replaced_id) for replaced_id in replaced)
        if not ids:
            return
        # The oldest row keeps the state, so a document is never without its seed row.
        conn.execute("UPDATE task_document_updates SET data = ? WHERE id = ? AND task_id = ?", (state, ids[0], task_id))
        conn.executemany(
            "DELETE FROM task_document_updates WHERE id = ? AND task_id = ?", [(i, task_id) for i in ids[1:]]
        )
