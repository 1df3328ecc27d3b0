"""Users and their refresh tokens (one family per login session), for SQLiteStore."""

from __future__ import annotations

import dataclasses
import sqlite3

from app.domain import clock
from app.domain.models import RefreshToken, User
from app.store.base import EmailTaken
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows

USER_ROWS = Rows(User)
REFRESH_TOKEN_ROWS = Rows(RefreshToken)
TOKEN_COLUMNS = REFRESH_TOKEN_ROWS.columns


def _user_where(conn: sqlite3.Connection, column: str, value: str) -> User | None:
    return USER_ROWS.find_one(conn, "users", f"{column} = ?", (value,))


def _revoke_family(conn: sqlite3.Connection, family_id: str) -> None:
    conn.execute("UPDATE refresh_tokens SET revoked = 1 WHERE family_id = ?", (family_id,))


class SQLiteUsers(SQLiteStoreBase):
    # -- users ---------------------------------------------------------------------------

    @writes
    def create_user(self, conn: sqlite3.Connection, user: User) -> None:
        email = user.email.lower()
        # Checked under the write lock, so no other writer can slip in between; the unique
        # index stays as the last line of defence.
        if _user_where(conn, "email", email) is not None:
            raise EmailTaken(user.email)
        USER_ROWS.insert(conn, "users", dataclasses.replace(user, email=email))

    @reads
    def get_user(self, conn: sqlite3.Connection, user_id: str) -> User | None:
        return _user_where(conn, "id", user_id)

    @reads
    def get_user_by_email(self, conn: sqlite3.Connection, email: str) -> User | None:
        return _user_where(conn, "email", email.lower())

    @writes
    def update_user(self, conn: sqlite3.Connection, user: User) -> User | None:
        conn.execute(
            "UPDATE users SET name = ?, password_hash = ?, updated_at = ? WHERE id = ?",
            (user.name, user.password_hash, user.updated_at, user.id),
        )
        return _user_where(conn, "id", user.id)

    # -- refresh tokens ------------------------------------------------------------------

    create_refresh_token = REFRESH_TOKEN_ROWS.inserter("refresh_tokens")

    @writes
    def spend_refresh_token(
        self, conn: sqlite3.Connection, token_hash: str, at: str
    ) -> tuple[RefreshToken | None, bool]:
        row = conn.execute(f"SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = ?", (token_hash,)).fetchone()
        if row is None:
            return None, False
        # The guard on used_at makes the spend single-use even if the read above were stale.
        spent = conn.execute(
            "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL", (at, token_hash)
        ).rowcount
        return REFRESH_TOKEN_ROWS.record(row), spent == 1

    @writes
    def revoke_refresh_family(self, conn: sqlite3.Connection, family_id: str) -> None:
        _revoke_family(conn, family_id)

    @reads
    def list_session_families(self, conn: sqlite3.Connection, user_id: str, at: str) -> list[str]:
        rows = conn.execute(
            "SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = ? AND revoked = 0 AND expires_at > ?",
            (user_id, at),
        ).fetchall()
        return [row[0] for row in rows]

    # -- revoked sessions ----------------------------------------------------------------

    @writes
    def revoke_session(self, conn: sqlite3.Connection, session_id: str, until: str) -> None:
        conn.execute("DELETE FROM revoked_sessions WHERE until <= ?", (clock.now(),))
        conn.execute(
            "INSERT INTO revoked_sessions (session_id, until) VALUES (?, ?) "
            "ON CONFLICT (session_id) DO UPDATE SET until = max(until, excluded.until)",
            (session_id, until),
        )
        _revoke_family(conn, session_id)

    @reads
    def session_revoked(self, conn: sqlite3.Connection, session_id: str, at: str) -> bool:
        row = conn.execute(
            "SELECT 1 FROM revoked_sessions WHERE session_id = ? AND until > ?", (session_id, at)
        ).fetchone()
        return row is not None

    @reads
    def list_revoked_sessions(self, conn: sqlite3.Connection, at: str) -> list[tuple[str, str]]:
        rows = conn.execute("SELECT session_id, until FROM revoked_sessions WHERE until > ? ORDER BY until", (at,))
        return [(row["session_id"], row["until"]) for row in rows]
