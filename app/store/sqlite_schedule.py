"""The reminder and digest scheduler's part of SQLiteStore: named leases, tasks by due
date across boards, and marks that make each reminder and digest happen once."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from app.domain.mail import MailStatus, OutboxMessage
from app.domain.models import Notification, Task
from app.store.sqlite_events import insert_notifications
from app.store.sqlite_mail import OUTBOX_ROWS, insert_outbox
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_tasks import TASK_ROWS


def _mark(conn: sqlite3.Connection, key: str, at: str) -> bool:
    return conn.execute("INSERT OR IGNORE INTO schedule_marks (key, at) VALUES (?, ?)", (key, at)).rowcount == 1


class SQLiteSchedule(SQLiteStoreBase):
    @writes
    def claim_lease(self, conn: sqlite3.Connection, name: str, owner: str, now: str, until: str) -> bool:
        row = conn.execute(
            "INSERT INTO leases (name, owner, until) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
            " SET owner = excluded.owner, until = excluded.until WHERE leases.until <= ? OR leases.owner = ?"
            " RETURNING owner",
            (name, owner, until, now, owner),
        ).fetchone()
        return row is not None

    @writes
    def release_lease(self, conn: sqlite3.Connection, name: str, owner: str) -> None:
        conn.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    @reads
    def list_tasks_due(
        self, conn: sqlite3.Connection, after: str, until: str, after_task: tuple[str, str] | None, limit: int
    ) -> list[Task]:
        start, start_id = after_task or (after, "")
        return TASK_ROWS.all(
            conn,
            f"SELECT {', '.join(TASK_ROWS.names)} FROM tasks INDEXED BY tasks_by_due"
            " WHERE due_key > ? AND due_key <= ? AND (due_key, id) > (?, ?) ORDER BY due_key, id LIMIT ?",
            (after, until, start, start_id, limit),
        )

    @reads
    def marked(self, conn: sqlite3.Connection, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            query = f"SELECT key FROM schedule_marks WHERE key IN ({', '.join('?' * len(chunk))})"
            found.update(row[0] for row in conn.execute(query, chunk))
        return found

    @writes
    def record_reminder(
        self,
        conn: sqlite3.Connection,
        key: str,
        at: str,
        notifications: list[Notification],
        mail: list[OutboxMessage],
    ) -> bool:
        if not _mark(conn, key, at):
            return False
        if notifications:
            insert_notifications(conn, notifications)
        if mail:
            insert_outbox(conn, mail)
        return True

    @reads
    def list_held_mail(self, conn: sqlite3.Connection, user_id: str, limit: int) -> list[OutboxMessage]:
        return OUTBOX_ROWS.find(
            conn,
            "mail_outbox",
            "user_id = ? AND status = ? ORDER BY id LIMIT ?",
            (user_id, MailStatus.HELD.value, limit),
        )

    @writes
    def queue_digest(self, conn: sqlite3.Connection, key: str, message: OutboxMessage, held_ids: Sequence[str]) -> bool:
        if not _mark(conn, key, message.created_at):
            return False
        insert_outbox(conn, [message])
        conn.executemany(
            "UPDATE mail_outbox SET status = ? WHERE id = ? AND status = ?",
            [(MailStatus.DIGESTED.value, held, MailStatus.HELD.value) for held in held_ids],
        )
        return True
