"""Accounts at OpenID Connect providers linked to users, for SQLiteStore."""

from __future__ import annotations

import sqlite3

from app.domain.models import ExternalIdentity
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows

IDENTITY_ROWS = Rows(ExternalIdentity)


class SQLiteIdentities(SQLiteStoreBase):
    @reads
    def get_identity(self, conn: sqlite3.Connection, provider: str, subject: str) -> ExternalIdentity | None:
        return IDENTITY_ROWS.find_one(conn, "external_identities", "provider = ? AND subject = ?", (provider, subject))

    @writes
    def link_identity(self, conn: sqlite3.Connection, identity: ExternalIdentity) -> None:
        conn.execute(
            f"INSERT OR IGNORE INTO external_identities ({IDENTITY_ROWS.columns}) VALUES ({IDENTITY_ROWS.placeholders})",
            IDENTITY_ROWS.params(identity),
        )

    @reads
    def list_identities(self, conn: sqlite3.Connection, user_id: str) -> list[ExternalIdentity]:
        return IDENTITY_ROWS.find(conn, "external_identities", "user_id = ? ORDER BY created_at", (user_id,))
