"""The board event log, for SQLiteStore: ``append_event``, which every board change runs
in its own write transaction, and the catch-up read."""

from __future__ import annotations

import sqlite3
from typing import Protocol

from app.domain.mail import outbox_of
from app.domain.models import (
    NOTIFICATIONS_KEPT_PER_USER,
    Event,
    EventDraft,
    Notification,
    notification_of,
)
from app.store.base import NotFound
from app.store.sqlite_mail import insert_outbox
from app.store.sqlite_notifications import NOTIFICATION_ROWS
from app.store.sqlite_pool import SQLiteStoreBase, reads
from app.store.sqlite_records import Rows
from app.store.sqlite_schema import EVENT_TASK_ID

EVENT_ROWS = Rows(Event)
EVENT_COLUMNS = EVENT_ROWS.columns
_INSERT = f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ({EVENT_ROWS.placeholders})"
# Most events are made without an API token: their rows leave `via` to its default, so
# that code writing to a file still at an older migration (as a schema test does) works.
_VIA = EVENT_ROWS.names.index("via")
_INSERT_WITHOUT_VIA = (
    f"INSERT INTO events ({', '.join(name for name in EVENT_ROWS.names if name != 'via')})"
    f" VALUES ({', '.join('?' * (len(EVENT_ROWS.names) - 1))})"
)


class OnBoard(Protocol):
    """A record kept on one board (a comment, an invitation)."""

    @property
    def board_id(self) -> str: ...


def append_event(conn: sqlite3.Connection, board_id: str, draft: EventDraft) -> Event:
    """Give the draft the board's next seq and store it. Must run inside the write
    transaction of the change: the seq bump takes the board row, so concurrent writers
    (threads or processes) get consecutive seqs and a rolled-back change leaves no gap."""
    row = conn.execute("UPDATE boards SET seq = seq + 1 WHERE id = ? RETURNING seq", (board_id,)).fetchone()
    if row is None:
        raise NotFound(f"board {board_id}")
    stored = EVENT_ROWS.params(draft.logged(board_id, row[0]))
    if stored[_VIA] is None:
        conn.execute(_INSERT_WITHOUT_VIA, stored[:_VIA] + stored[_VIA + 1 :])
    else:
        conn.execute(_INSERT, stored)
    # Decoding what was stored hands the caller the same data a later replay will see.
    event = EVENT_ROWS.record(stored)
    if draft.notify:  # most events notify nobody: no statement for them
        pairs = [(notification_of(event, notice), notice) for notice in draft.notify]
        event.notifications = [made for made, notice in pairs if "app" in notice.channels]
        if event.notifications:
            insert_notifications(conn, event.notifications)
        if mail := [message for made, notice in pairs for message in outbox_of(made, notice)]:
            insert_outbox(conn, mail)
    return event


def insert_with_event[R: OnBoard](
    conn: sqlite3.Connection, rows: Rows[R], table: str, record: R, event: EventDraft
) -> Event:
    """Add ``record`` to ``table`` and append its event to the record's board in the same
    transaction. The event goes first, so that a board that is gone is ``NotFound``, not a
    foreign key failure."""
    appended = append_event(conn, record.board_id, event)
    rows.insert(conn, table, record)
    return appended


def ensure_task_on_board(conn: sqlite3.Connection, task_id: str, board_id: str) -> None:
    """``NotFound`` unless the task is on the board. Run in the write transaction that adds
    the task's record, so a task deleted a moment ago cannot gain one."""
    task = conn.execute("SELECT board_id FROM tasks WHERE id = ?", (task_id,)).fetchone()
    if task is None or task["board_id"] != board_id:
        raise NotFound(f"task {task_id}")


def delete_with_event(
    conn: sqlite3.Connection, table: str, column: str, key: str, event: EventDraft, what: str
) -> Event:
    """Delete the row of ``table`` whose ``column`` is ``key`` and append its event to the
    row's board in the same transaction; ``NotFound`` when there was none."""
    row = conn.execute(f"DELETE FROM {table} WHERE {column} = ? RETURNING board_id", (key,)).fetchone()
    if row is None:
        raise NotFound(f"{what} {key}")
    return append_event(conn, row["board_id"], event)


def insert_notifications(conn: sqlite3.Connection, notifications: list[Notification]) -> None:
    NOTIFICATION_ROWS.insert_all(conn, "notifications", notifications)
    for user_id in {n.user_id for n in notifications}:
        conn.execute(
            "DELETE FROM notifications WHERE user_id = ?1 AND id <= (SELECT id FROM notifications WHERE user_id = ?1"
            " ORDER BY id DESC LIMIT 1 OFFSET ?2)",
            (user_id, NOTIFICATIONS_KEPT_PER_USER),
        )


class SQLiteEvents(SQLiteStoreBase):
    @reads
    def list_events(
        self, conn: sqlite3.Connection, board_id: str, after_seq: int, limit: int, task_id: str | None = None
    ) -> list[Event]:
        return list_events(conn, board_id, after_seq, limit, task_id)


def list_events(
    conn: sqlite3.Connection, board_id: str, after_seq: int, limit: int, task_id: str | None = None
) -> list[Event]:
    if task_id is None:
        rows = conn.execute(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE board_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (board_id, after_seq, limit),
        ).fetchall()
    else:
        # The expression is the events_task index's, word for word. Named, because without
        # ANALYZE statistics the planner prefers the primary key's seq order and would read
        # the board's whole log to find one task's few events.
        rows = conn.execute(
            f"SELECT {EVENT_COLUMNS} FROM events INDEXED BY events_task"
            f" WHERE board_id = ? AND {EVENT_TASK_ID} = ? AND seq > ? ORDER BY seq LIMIT ?",
            (board_id, task_id, after_seq, limit),
        ).fetchall()
    return [EVENT_ROWS.record(row) for row in rows]
