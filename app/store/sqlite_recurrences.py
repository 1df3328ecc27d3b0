"""Recurring tasks' rules, for SQLiteStore. Creating the next occurrence is one write
transaction: the previous rule's ``next_task_id`` is set only where it is still empty, so
of two instances completing the same task only one creates its successor."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from app.domain.models import Event, EventDraft, Task
from app.domain.recurrence import Recurrence
from app.store.sqlite_events import append_event, delete_with_event, ensure_task_on_board
from app.store.sqlite_pool import SQLiteStoreBase, writes
from app.store.sqlite_records import Rows
from app.store.sqlite_tasks import insert_task

RECURRENCE_ROWS = Rows(Recurrence)
_COLUMNS = RECURRENCE_ROWS.columns
_UPSERT = f"INSERT OR REPLACE INTO recurrences ({_COLUMNS}) VALUES ({RECURRENCE_ROWS.placeholders})"


class SQLiteRecurrences(SQLiteStoreBase):
    get_recurrence = RECURRENCE_ROWS.getter("recurrences", "task_id")

    @writes
    def set_recurrence(self, conn: sqlite3.Connection, recurrence: Recurrence, event: EventDraft) -> Event:
        ensure_task_on_board(conn, recurrence.task_id, recurrence.board_id)
        conn.execute(_UPSERT, RECURRENCE_ROWS.params(recurrence))
        return append_event(conn, recurrence.board_id, event)

    @writes
    def delete_recurrence(self, conn: sqlite3.Connection, task_id: str, event: EventDraft) -> Event:
        return delete_with_event(conn, "recurrences", "task_id", task_id, event, "recurrence")

    @writes
    def create_next_occurrence(
        self,
        conn: sqlite3.Connection,
        previous_task_id: str,
        task: Task,
        recurrence: Recurrence,
        events: Sequence[EventDraft],
    ) -> list[Event] | None:
        claimed = conn.execute(
            "UPDATE recurrences SET next_task_id = ? WHERE task_id = ? AND next_task_id IS NULL",
            (task.id, previous_task_id),
        ).rowcount
        if claimed == 0:
            return None
        insert_task(conn, task)
        conn.execute(_UPSERT, RECURRENCE_ROWS.params(recurrence))
        return [append_event(conn, task.board_id, draft) for draft in events]
