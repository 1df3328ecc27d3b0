"""Comments on tasks, for SQLiteStore.

A comment write and its event share one transaction, like every other board change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from app.domain.models import Comment, Event, EventDraft
from app.store.base import NotFound
from app.store.sqlite_events import append_event
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows

COMMENT_ROWS = Rows(Comment)
_COLUMNS = COMMENT_ROWS.columns


class SQLiteComments(SQLiteStoreBase):
    @writes
    def create_comment(self, conn: sqlite3.Connection, comment: Comment, event: EventDraft) -> Event:
        # Checked under the write lock: a task deleted a moment ago cannot gain a comment.
        task = conn.execute("SELECT board_id FROM tasks WHERE id = ?", (comment.task_id,)).fetchone()
        if task is None or task["board_id"] != comment.board_id:
            raise NotFound(f"task {comment.task_id}")
        appended = append_event(conn, comment.board_id, event)
        conn.execute(
            f"INSERT INTO comments ({_COLUMNS}) VALUES ({COMMENT_ROWS.placeholders})", COMMENT_ROWS.params(comment)
        )
        return appended

    @reads
    def get_comment(self, conn: sqlite3.Connection, comment_id: str) -> Comment | None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM comments WHERE id = ?", (comment_id,)).fetchone()
        return None if row is None else COMMENT_ROWS.record(row)

    @reads
    def list_comments(
        self, conn: sqlite3.Connection, task_id: str, after_comment_id: str | None, limit: int
    ) -> list[Comment]:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM comments WHERE task_id = ? AND id > ? ORDER BY id LIMIT ?",
            (task_id, after_comment_id or "", limit),
        ).fetchall()
        return [COMMENT_ROWS.record(row) for row in rows]

    @reads
    def count_comments(self, conn: sqlite3.Connection, task_ids: Sequence[str]) -> dict[str, int]:
        if not task_ids:
            return {}
        # One page of tasks at most (200 ids), well under SQLite's bound-parameter limit;
        # each count is a range of the comments_task index.
        marks = ", ".join("?" * len(task_ids))
        rows = conn.execute(
            f"SELECT task_id, count(*) FROM comments WHERE task_id IN ({marks}) GROUP BY task_id",
            list(task_ids),
        ).fetchall()
        return {row[0]: row[1] for row in rows}

    @writes
    def update_comment(self, conn: sqlite3.Connection, comment: Comment, event: EventDraft) -> Event:
        row = conn.execute(
            "UPDATE comments SET body = :body, mentions = :mentions, updated_at = :updated_at WHERE id = :id"
            " RETURNING board_id",
            COMMENT_ROWS.named(comment),
        ).fetchone()
        if row is None:
            raise NotFound(f"comment {comment.id}")
        return append_event(conn, row["board_id"], event)

    @writes
    def delete_comment(self, conn: sqlite3.Connection, comment_id: str, event: EventDraft) -> Event:
        row = conn.execute("DELETE FROM comments WHERE id = ? RETURNING board_id", (comment_id,)).fetchone()
        if row is None:
            raise NotFound(f"comment {comment_id}")
        return append_event(conn, row["board_id"], event)
