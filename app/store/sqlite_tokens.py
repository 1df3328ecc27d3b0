"""Personal API tokens, for SQLiteStore."""

from __future__ import annotations

import sqlite3

from app.domain.models import ApiToken
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows

API_TOKEN_ROWS = Rows(ApiToken)


class SQLiteApiTokens(SQLiteStoreBase):
    create_api_token = API_TOKEN_ROWS.inserter("api_tokens")
    get_api_token_by_hash = API_TOKEN_ROWS.getter("api_tokens", "token_hash")

    @reads
    def list_api_tokens(self, conn: sqlite3.Connection, user_id: str) -> list[ApiToken]:
        return API_TOKEN_ROWS.find(conn, "api_tokens", "user_id = ? ORDER BY created_at, id", (user_id,))

    @writes
    def delete_api_token(self, conn: sqlite3.Connection, user_id: str, token_id: str) -> bool:
        # The owner is part of the key: one user can never delete another's token by id.
        cursor = conn.execute("DELETE FROM api_tokens WHERE id = ? AND user_id = ?", (token_id, user_id))
        return cursor.rowcount == 1

    @writes
    def touch_api_token(self, conn: sqlite3.Connection, token_id: str, at: str) -> None:
        conn.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (at, token_id))
