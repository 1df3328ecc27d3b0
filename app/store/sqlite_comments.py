"""Comments on tasks, for SQLiteStore.

A comment write and its event share one transaction, like every other board change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from app.domain.models import Comment, Event, EventDraft
from app.store.base import NotFound
from app.store.sqlite_events import append_event, delete_with_event
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows, per_task

COMMENT_ROWS = Rows(Comment)


class SQLiteComments(SQLiteStoreBase):
    @writes
    def create_comment(self, conn: sqlite3.Connection, comment: Comment, event: EventDraft) -> Event:
        # Checked under the write lock: a task deleted a moment ago cannot gain a comment.
        task = conn.execute("SELECT board_id FROM tasks WHERE id = ?", (comment.task_id,)).fetchone()
        if task is None or task["board_id"] != comment.board_id:
            raise NotFound(f"task {comment.task_id}")
        appended = append_event(conn, comment.board_id, event)
        COMMENT_ROWS.insert(conn, "comments", comment)
        return appended

    @reads
    def get_comment(self, conn: sqlite3.Connection, comment_id: str) -> Comment | None:
        return COMMENT_ROWS.find_one(conn, "comments", "id = ?", (comment_id,))

    @reads
    def list_comments(
        self, conn: sqlite3.Connection, task_id: str, after_comment_id: str | None, limit: int
    ) -> list[Comment]:
        return COMMENT_ROWS.of_task(conn, "comments", task_id, after_comment_id, limit)

    @reads
    def count_comments(self, conn: sqlite3.Connection, task_ids: Sequence[str]) -> dict[str, int]:
        return {row[0]: row[1] for row in per_task(conn, "count(*)", "comments", task_ids)}

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
        return delete_with_event(conn, "comments", "id", comment_id, event, "comment")
