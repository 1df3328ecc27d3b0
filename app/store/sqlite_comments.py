"""Comments on tasks, for SQLiteStore.

A comment write and its event share one transaction, like every other board change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from app.domain.models import Comment, Event, EventDraft
from app.store.base import NotFound
from app.store.sqlite_events import append_event, delete_with_event, ensure_task_on_board, insert_with_event
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows, per_task

COMMENT_ROWS = Rows(Comment)


class SQLiteComments(SQLiteStoreBase):
    @writes
    def create_comment(self, conn: sqlite3.Connection, comment: Comment, event: EventDraft) -> Event:
        ensure_task_on_board(conn, comment.task_id, comment.board_id)
        return insert_with_event(conn, COMMENT_ROWS, "comments", comment, event)

    get_comment = COMMENT_ROWS.getter("comments")
    list_comments = COMMENT_ROWS.task_pager("comments")

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
