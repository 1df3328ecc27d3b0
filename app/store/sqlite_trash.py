"""The trash of deleted tasks, and named leases, for SQLiteStore."""

from __future__ import annotations

import sqlite3

from app.domain.models import Comment, Event, EventDraft, Task
from app.domain.trash import TrashedTask
from app.domain.views import comment_view, task_view
from app.store.base import NotFound, VersionConflict
from app.store.sqlite_attachments import delete_attachments
from app.store.sqlite_comments import COMMENT_ROWS
from app.store.sqlite_events import append_event, delete_with_event
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows
from app.store.sqlite_tasks import TASK_COLUMNS, TASK_ROWS, insert_task

TRASH_ROWS = Rows(TrashedTask)


class SQLiteTrash(SQLiteStoreBase):
    @writes
    def trash_task(
        self, conn: sqlite3.Connection, task_id: str, expected_version: int | None, deleted_by: str, event: EventDraft
    ) -> Event:
        row = conn.execute(f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = ?", (task_id,)).fetchone()
        if row is None:
            raise NotFound(f"task {task_id}")
        task = TASK_ROWS.record(row)
        if expected_version is not None and task.version != expected_version:
            raise VersionConflict(task)
        comments = [
            comment_view(COMMENT_ROWS.record(found))
            for found in conn.execute(
                f"SELECT {COMMENT_ROWS.columns} FROM comments WHERE task_id = ? ORDER BY id", (task_id,)
            )
        ]
        entry = TrashedTask(
            task.id, task.board_id, task.title, deleted_by, event.at, task_view(task), {"items": comments}
        )
        TRASH_ROWS.insert(conn, "trash", entry)
        conn.execute("DELETE FROM comments WHERE task_id = ?", (task_id,))
        # Its files stay where they are, hidden with their task, until it is restored or
        # purged; the co-edited description's history is not kept (as on MongoDB).
        conn.execute("DELETE FROM task_document_updates WHERE task_id = ?", (task_id,))
        conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
        return append_event(conn, task.board_id, event)

    get_trashed_task = TRASH_ROWS.getter("trash")

    @reads
    def list_trash(self, conn: sqlite3.Connection, board_id: str, limit: int) -> list[TrashedTask]:
        return TRASH_ROWS.find(
            conn, "trash", "board_id = ? ORDER BY deleted_at DESC, id DESC LIMIT ?", (board_id, limit)
        )

    @writes
    def restore_task(self, conn: sqlite3.Connection, task: Task, comments: list[Comment], event: EventDraft) -> Event:
        if conn.execute("DELETE FROM trash WHERE id = ? AND board_id = ?", (task.id, task.board_id)).rowcount == 0:
            raise NotFound(f"trashed task {task.id}")
        appended = append_event(conn, task.board_id, event)
        insert_task(conn, task)
        COMMENT_ROWS.insert_all(conn, "comments", comments)
        return appended

    @writes
    def purge_trashed_task(self, conn: sqlite3.Connection, task_id: str, event: EventDraft) -> Event:
        purged = delete_with_event(conn, "trash", "id", task_id, event, "trashed task")
        delete_attachments(conn, "task_id", task_id)
        return purged

    @reads
    def list_expired_trash(self, conn: sqlite3.Connection, deleted_before: str, limit: int) -> list[TrashedTask]:
        return TRASH_ROWS.find(conn, "trash", "deleted_at < ? ORDER BY deleted_at, id LIMIT ?", (deleted_before, limit))
