"""The email outbox, its delivery log and notification preferences, for SQLiteStore.

``insert_outbox`` runs inside the write of whatever queues a message (``append_event``
for the notices of a board change), so a message exists exactly when its cause does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from app.domain.mail import AccountPurpose, AccountToken, MailAttempt, MailStatus, OutboxMessage, Preferences, Watch
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows

OUTBOX_ROWS = Rows(OutboxMessage)
_OUTBOX_COLUMNS = OUTBOX_ROWS.columns
ATTEMPT_ROWS = Rows(MailAttempt)
PREFERENCE_ROWS = Rows(Preferences)


def insert_outbox(conn: sqlite3.Connection, messages: Sequence[OutboxMessage]) -> int:
    """Queue ``messages``, skipping any whose key is already queued; how many were queued."""
    cursor = conn.executemany(
        f"INSERT INTO mail_outbox ({_OUTBOX_COLUMNS}) VALUES ({OUTBOX_ROWS.placeholders}) ON CONFLICT (key) DO NOTHING",
        [OUTBOX_ROWS.params(message) for message in messages],
    )
    return cursor.rowcount


class SQLiteMail(SQLiteStoreBase):
    @writes
    def enqueue_mail(self, conn: sqlite3.Connection, message: OutboxMessage) -> bool:
        return insert_outbox(conn, [message]) == 1

    get_mail = OUTBOX_ROWS.getter("mail_outbox")

    @reads
    def list_mail(self, conn: sqlite3.Connection, user_id: str, limit: int) -> list[OutboxMessage]:
        return OUTBOX_ROWS.find(conn, "mail_outbox", "user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit))

    @writes
    def claim_mail(self, conn: sqlite3.Connection, owner: str, now: str, until: str, limit: int) -> list[OutboxMessage]:
        rows = conn.execute(
            f"UPDATE mail_outbox SET lease_owner = ?, lease_until = ? WHERE id IN ("
            " SELECT id FROM mail_outbox WHERE status = ? AND next_attempt_at <= ?"
            " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, id LIMIT ?"
            f") RETURNING {_OUTBOX_COLUMNS}",
            (owner, until, MailStatus.PENDING.value, now, now, limit),
        ).fetchall()
        return sorted((OUTBOX_ROWS.record(row) for row in rows), key=lambda m: (m.next_attempt_at, m.id))

    @writes
    def finish_mail(
        self,
        conn: sqlite3.Connection,
        owner: str,
        attempt: MailAttempt,
        status: MailStatus,
        next_attempt_at: str,
        error: str | None,
    ) -> bool:
        exists = conn.execute("SELECT 1 FROM mail_outbox WHERE id = ?", (attempt.message_id,)).fetchone()
        if exists is None:
            return False
        ATTEMPT_ROWS.insert(conn, "mail_attempts", attempt)
        cursor = conn.execute(
            "UPDATE mail_outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?,"
            " sent_at = CASE WHEN ? THEN ? ELSE sent_at END, lease_owner = NULL, lease_until = NULL"
            " WHERE id = ? AND lease_owner = ?",
            (
                status.value,
                next_attempt_at,
                error,
                status is MailStatus.SENT,
                attempt.at,
                attempt.message_id,
                owner,
            ),
        )
        return cursor.rowcount == 1

    @reads
    def list_mail_attempts(self, conn: sqlite3.Connection, message_id: str) -> list[MailAttempt]:
        return ATTEMPT_ROWS.find(conn, "mail_attempts", "message_id = ? ORDER BY id", (message_id,))

    @reads
    def get_preferences(self, conn: sqlite3.Connection, user_ids: Sequence[str]) -> dict[str, Preferences]:
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return {}
        rows = conn.execute(
            f"SELECT {PREFERENCE_ROWS.columns} FROM preferences WHERE user_id IN ({', '.join('?' * len(ids))})", ids
        ).fetchall()
        records = [PREFERENCE_ROWS.record(row) for row in rows]
        return {record.user_id: record for record in records}

    save_preferences = PREFERENCE_ROWS.inserter("preferences", replace=True)


WATCH_ROWS = Rows(Watch)


class SQLiteWatches(SQLiteStoreBase):
    save_watch = WATCH_ROWS.inserter("watches", replace=True)

    @reads
    def list_watches(self, conn: sqlite3.Connection, board_id: str, task_id: str | None) -> list[Watch]:
        return watches_of(conn, board_id, task_id)


def watches_of(conn: sqlite3.Connection, board_id: str, task_id: str | None) -> list[Watch]:
    """The watch choices on the board and, given one, on the task."""
    return WATCH_ROWS.find(conn, "watches", "board_id = ? AND task_id IN ('', ?)", (board_id, task_id or ""))


ACCOUNT_TOKEN_ROWS = Rows(AccountToken)


class SQLiteAccountEmails(SQLiteStoreBase):
    @writes
    def create_account_token(self, conn: sqlite3.Connection, token: AccountToken, mail: OutboxMessage) -> None:
        ACCOUNT_TOKEN_ROWS.insert(conn, "account_tokens", token)
        insert_outbox(conn, [mail])

    @writes
    def spend_account_token(
        self, conn: sqlite3.Connection, token_id: str, purpose: AccountPurpose, at: str
    ) -> AccountToken | None:
        row = conn.execute(
            f"SELECT {ACCOUNT_TOKEN_ROWS.columns} FROM account_tokens"
            " WHERE id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?",
            (token_id, AccountPurpose(purpose).value, at),
        ).fetchone()
        if row is None:
            return None
        conn.execute("UPDATE account_tokens SET used_at = ? WHERE id = ?", (at, token_id))
        return ACCOUNT_TOKEN_ROWS.record(row)

    @reads
    def pending_account_token(
        self, conn: sqlite3.Connection, user_id: str, purpose: AccountPurpose, at: str
    ) -> AccountToken | None:
        return ACCOUNT_TOKEN_ROWS.one(
            conn,
            f"SELECT {ACCOUNT_TOKEN_ROWS.columns} FROM account_tokens WHERE user_id = ? AND purpose = ?"
            " AND used_at IS NULL AND expires_at > ? ORDER BY created_at DESC, id DESC LIMIT 1",
            (user_id, AccountPurpose(purpose).value, at),
        )

    @writes
    def mark_email_verified(self, conn: sqlite3.Connection, user_id: str, email: str, at: str) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO verified_emails (user_id, email, at) VALUES (?, ?, ?)", (user_id, email, at)
        )

    @reads
    def verified_email(self, conn: sqlite3.Connection, user_id: str) -> str | None:
        row = conn.execute("SELECT email FROM verified_emails WHERE user_id = ?", (user_id,)).fetchone()
        return None if row is None else str(row[0])
