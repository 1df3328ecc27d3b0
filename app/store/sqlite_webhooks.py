"""Webhooks and their delivery log, for SQLiteStore.

Every lease-holder write is fenced by ``lease_owner = ?`` inside its transaction: an
instance whose lease was taken over can neither move the cursor nor disable the webhook.
Times are the fixed-width ISO strings of ``app.domain.clock``, so they compare as text.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from app.domain.models import Event, EventDraft
from app.domain.webhooks import Webhook, WebhookAttempt, WebhookProgress
from app.jsonutil import dumps, loads
from app.store.base import NotFound
from app.store.sqlite_events import append_event
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows

WEBHOOK_ROWS = Rows(Webhook)
WEBHOOK_ATTEMPT_ROWS = Rows(WebhookAttempt)
_COLUMNS = WEBHOOK_ROWS.columns
_ATTEMPT_COLUMNS = WEBHOOK_ATTEMPT_ROWS.columns


class SQLiteWebhooks(SQLiteStoreBase):
    @writes
    def create_webhook(self, conn: sqlite3.Connection, webhook: Webhook) -> None:
        if conn.execute("SELECT 1 FROM boards WHERE id = ?", (webhook.board_id,)).fetchone() is None:
            raise NotFound(f"board {webhook.board_id}")
        WEBHOOK_ROWS.insert(conn, "webhooks", webhook)

    get_webhook = WEBHOOK_ROWS.getter("webhooks")

    @reads
    def list_webhooks(self, conn: sqlite3.Connection, board_id: str) -> list[Webhook]:
        return WEBHOOK_ROWS.find(conn, "webhooks", "board_id = ? ORDER BY id", (board_id,))

    @writes
    def update_webhook(self, conn: sqlite3.Connection, webhook: Webhook, reset_backoff: bool) -> Webhook | None:
        backoff = ", failures = 0, next_attempt_at = NULL" if reset_backoff else ""
        return WEBHOOK_ROWS.one(
            conn,
            "UPDATE webhooks SET url = :url, events = :events, active = :active, disabled_reason = :disabled_reason,"
            f" updated_at = :updated_at{backoff} WHERE id = :id RETURNING {_COLUMNS}",
            WEBHOOK_ROWS.named(webhook),
        )

    @writes
    def delete_webhook(self, conn: sqlite3.Connection, webhook_id: str) -> bool:
        conn.execute("DELETE FROM webhook_attempts WHERE webhook_id = ?", (webhook_id,))
        return conn.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,)).rowcount == 1

    @reads
    def list_due_webhooks(self, conn: sqlite3.Connection, now: str, after_id: str | None, limit: int) -> list[Webhook]:
        return WEBHOOK_ROWS.all(
            conn,
            f"SELECT {_COLUMNS} FROM webhooks WHERE active = 1 AND id > ?"
            " AND (lease_owner IS NULL OR lease_until <= ?)"
            " AND (next_attempt_at IS NULL OR next_attempt_at <= ? OR redeliveries != '[]')"
            " ORDER BY id LIMIT ?",
            (after_id or "", now, now, limit),
        )

    @writes
    def claim_webhook(
        self, conn: sqlite3.Connection, webhook_id: str, owner: str, now: str, until: str
    ) -> Webhook | None:
        return WEBHOOK_ROWS.one(
            conn,
            f"UPDATE webhooks SET lease_owner = ?, lease_until = ?"
            f" WHERE id = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_until <= ?) RETURNING {_COLUMNS}",
            (owner, until, webhook_id, owner, now),
        )

    @writes
    def release_webhook(self, conn: sqlite3.Connection, webhook_id: str, owner: str) -> None:
        conn.execute(
            "UPDATE webhooks SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
            (webhook_id, owner),
        )

    @writes
    def record_webhook_attempt(
        self,
        conn: sqlite3.Connection,
        webhook_id: str,
        owner: str,
        attempt: WebhookAttempt | None,
        progress: WebhookProgress | None,
    ) -> Webhook | None:
        exists = conn.execute("SELECT 1 FROM webhooks WHERE id = ?", (webhook_id,)).fetchone() is not None
        if attempt is not None and exists:
            WEBHOOK_ATTEMPT_ROWS.insert(conn, "webhook_attempts", attempt)
        if progress is not None:
            conn.execute(
                "UPDATE webhooks SET cursor = ?, failures = ?, next_attempt_at = ? WHERE id = ? AND lease_owner = ?",
                (progress.cursor, progress.failures, progress.next_attempt_at, webhook_id, owner),
            )
        return WEBHOOK_ROWS.find_one(conn, "webhooks", "id = ? AND lease_owner = ?", (webhook_id, owner))

    @writes
    def disable_webhook(
        self, conn: sqlite3.Connection, webhook_id: str, owner: str, reason: str, event: EventDraft
    ) -> Event | None:
        row = conn.execute(
            "UPDATE webhooks SET active = 0, disabled_reason = ?, updated_at = ?, lease_owner = NULL,"
            " lease_until = NULL WHERE id = ? AND lease_owner = ? AND active = 1 RETURNING board_id",
            (reason, event.at, webhook_id, owner),
        ).fetchone()
        return None if row is None else append_event(conn, row["board_id"], event)

    @writes
    def queue_webhook_redelivery(self, conn: sqlite3.Connection, webhook_id: str, seq: int, limit: int) -> bool:
        row = conn.execute("SELECT redeliveries FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()
        if row is None:
            return False
        queue: list[int] = loads(row["redeliveries"])
        if seq in queue:
            return True  # asked twice before it ran: once is what was meant
        if len(queue) >= limit:
            return False
        conn.execute("UPDATE webhooks SET redeliveries = ? WHERE id = ?", (dumps([*queue, seq]), webhook_id))
        return True

    @writes
    def pop_webhook_redelivery(self, conn: sqlite3.Connection, webhook_id: str, owner: str) -> int | None:
        row = conn.execute(
            "SELECT redeliveries FROM webhooks WHERE id = ? AND lease_owner = ?", (webhook_id, owner)
        ).fetchone()
        queue: list[int] = [] if row is None else loads(row["redeliveries"])
        if not queue:
            return None
        conn.execute("UPDATE webhooks SET redeliveries = ? WHERE id = ?", (dumps(queue[1:]), webhook_id))
        return queue[0]

    @reads
    def list_webhook_attempts(
        self, conn: sqlite3.Connection, webhook_id: str, before_id: str | None, limit: int
    ) -> list[WebhookAttempt]:
        before = "AND id < ?" if before_id is not None else ""
        params: tuple[Any, ...] = (webhook_id, before_id, limit) if before_id is not None else (webhook_id, limit)
        return WEBHOOK_ATTEMPT_ROWS.find(
            conn, "webhook_attempts", f"webhook_id = ? {before} ORDER BY id DESC LIMIT ?", params
        )

    @reads
    def get_webhook_attempt(self, conn: sqlite3.Connection, webhook_id: str, delivery_id: str) -> WebhookAttempt | None:
        return WEBHOOK_ATTEMPT_ROWS.one(
            conn,
            f"SELECT {_ATTEMPT_COLUMNS} FROM webhook_attempts WHERE webhook_id = ? AND delivery_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (webhook_id, delivery_id),
        )

    @writes
    def prune_webhook_attempts(self, conn: sqlite3.Connection, webhook_id: str, keep: int) -> int:
        cutoff = conn.execute(
            "SELECT id FROM webhook_attempts WHERE webhook_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
            (webhook_id, max(keep, 0)),
        ).fetchone()
        if cutoff is None:
            return 0
        return conn.execute(
            "DELETE FROM webhook_attempts WHERE webhook_id = ? AND id <= ?", (webhook_id, cutoff["id"])
        ).rowcount
