"""Notifications, for SQLiteStore. They are written by ``append_event`` (in sqlite_events)
with the event that causes them; these read and mark them.

Every statement filters on the scope's user (and boards, for a limited API token), so one
user can never see or change another's notifications by id.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from app.domain.models import Notification, NotificationScope
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows

NOTIFICATION_ROWS = Rows(Notification)
NOTIFICATION_COLUMNS = NOTIFICATION_ROWS.columns


def _scope_filter(scope: NotificationScope) -> tuple[str, list[Any]]:
    if scope.board_ids is None:
        return "user_id = ?", [scope.user_id]
    boards = sorted(scope.board_ids)
    return f"user_id = ? AND board_id IN ({', '.join('?' * len(boards))})", [scope.user_id, *boards]


class SQLiteNotifications(SQLiteStoreBase):
    @reads
    def list_notifications(
        self, conn: sqlite3.Connection, scope: NotificationScope, unread_only: bool, before_id: str | None, limit: int
    ) -> list[Notification]:
        where, params = _scope_filter(scope)
        if unread_only:
            where += " AND read_at IS NULL"
        if before_id is not None:
            where += " AND id < ?"
            params.append(before_id)
        return NOTIFICATION_ROWS.find(conn, "notifications", f"{where} ORDER BY id DESC LIMIT ?", (*params, limit))

    @reads
    def count_unread_notifications(self, conn: sqlite3.Connection, scope: NotificationScope) -> int:
        where, params = _scope_filter(scope)
        query = f"SELECT count(*) FROM notifications WHERE {where} AND read_at IS NULL"
        count: int = conn.execute(query, params).fetchone()[0]
        return count

    @writes
    def mark_notifications_read(
        self, conn: sqlite3.Connection, scope: NotificationScope, ids: list[str] | None, up_to_id: str | None, at: str
    ) -> int:
        where, params = _scope_filter(scope)
        if ids is not None:
            where += f" AND id IN ({', '.join('?' * len(ids))})"
            params.extend(ids)
        if up_to_id is not None:
            where += " AND id <= ?"
            params.append(up_to_id)
        cursor = conn.execute(f"UPDATE notifications SET read_at = ? WHERE {where} AND read_at IS NULL", (at, *params))
        return cursor.rowcount

    @writes
    def set_notification_read(
        self, conn: sqlite3.Connection, scope: NotificationScope, notification_id: str, read_at: str | None
    ) -> Notification | None:
        where, params = _scope_filter(scope)
        # The first time it was read stays; unreading clears it.
        return NOTIFICATION_ROWS.one(
            conn,
            f"UPDATE notifications SET read_at = CASE WHEN ? IS NULL THEN NULL ELSE coalesce(read_at, ?) END"
            f" WHERE id = ? AND {where} RETURNING {NOTIFICATION_COLUMNS}",
            (read_at, read_at, notification_id, *params),
        )
