"""The board event log, for SQLiteStore: the append every board write shares (with the
notifications an event causes) and the catch-up read."""

from __future__ import annotations

import sqlite3

from app.domain.models import NOTIFICATIONS_KEPT_PER_USER, Event, EventDraft, Notification, notification_of
from app.jsonutil import dumps, loads
from app.store.base import NotFound
from app.store.sqlite_pool import SQLiteStoreBase, reads
from app.store.sqlite_records import EVENT_COLUMNS, NOTIFICATION_COLUMNS, event_from_row


def append_event(conn: sqlite3.Connection, board_id: str, draft: EventDraft) -> Event:
    """Give the draft the board's next seq and store it. Must run inside the write
    transaction of the change: the seq bump takes the board row, so concurrent writers
    (threads or processes) get consecutive seqs and a rolled-back change leaves no gap."""
    row = conn.execute("UPDATE boards SET seq = seq + 1 WHERE id = ? RETURNING seq", (board_id,)).fetchone()
    if row is None:
        raise NotFound(f"board {board_id}")
    data = dumps(draft.data)
    conn.execute(
        "INSERT INTO events (board_id, seq, type, actor, at, data, client_mutation_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (board_id, row[0], draft.type, draft.actor, draft.at, data, draft.client_mutation_id),
    )
    # Decoding what was stored hands the caller the same data a later replay will see.
    event = Event(board_id=board_id, seq=row[0], type=draft.type, actor=draft.actor, at=draft.at, data=loads(data),
                  client_mutation_id=draft.client_mutation_id)
    if draft.notify:  # most events notify nobody: no statement for them
        event.notifications = [notification_of(event, notice) for notice in draft.notify]
        _insert_notifications(conn, event.notifications)
    return event


def _insert_notifications(conn: sqlite3.Connection, notifications: list[Notification]) -> None:
    conn.executemany(
        f"INSERT INTO notifications ({NOTIFICATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(n.id, n.user_id, n.type.value, n.board_id, n.board_name, n.actor, n.actor_name, n.at, n.seq, n.task_id,
          n.comment_id, dumps(n.data), n.read_at) for n in notifications],
    )
    for user_id in {n.user_id for n in notifications}:
        conn.execute(
            "DELETE FROM notifications WHERE user_id = ?1 AND id <= (SELECT id FROM notifications WHERE user_id = ?1"
            " ORDER BY id DESC LIMIT 1 OFFSET ?2)",
            (user_id, NOTIFICATIONS_KEPT_PER_USER),
        )


class SQLiteEvents(SQLiteStoreBase):
    @reads
    def list_events(self, conn: sqlite3.Connection, board_id: str, after_seq: int, limit: int) -> list[Event]:
        rows = conn.execute(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE board_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (board_id, after_seq, limit),
        ).fetchall()
        return [event_from_row(row) for row in rows]
