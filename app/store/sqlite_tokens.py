"""Personal API tokens, for SQLiteStore."""

from __future__ import annotations

import sqlite3

from app.domain.models import ApiToken
from app.jsonutil import dumps, loads
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes

_COLUMNS = "id, user_id, name, token_hash, prefix, scopes, board_ids, created_at, expires_at, last_used_at"


def _token_from_row(row: sqlite3.Row) -> ApiToken:
    board_ids = row["board_ids"]
    return ApiToken(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        token_hash=row["token_hash"],
        prefix=row["prefix"],
        scopes=loads(row["scopes"]),
        board_ids=None if board_ids is None else loads(board_ids),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
    )


class SQLiteApiTokens(SQLiteStoreBase):
    @writes
    def create_api_token(self, conn: sqlite3.Connection, token: ApiToken) -> None:
        conn.execute(
            f"INSERT INTO api_tokens ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (token.id, token.user_id, token.name, token.token_hash, token.prefix, dumps(list(token.scopes)),
             None if token.board_ids is None else dumps(list(token.board_ids)), token.created_at, token.expires_at,
             token.last_used_at),
        )

    @reads
    def get_api_token_by_hash(self, conn: sqlite3.Connection, token_hash: str) -> ApiToken | None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM api_tokens WHERE token_hash = ?", (token_hash,)).fetchone()
        return None if row is None else _token_from_row(row)

    @reads
    def list_api_tokens(self, conn: sqlite3.Connection, user_id: str) -> list[ApiToken]:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM api_tokens WHERE user_id = ? ORDER BY created_at, id", (user_id,)
        ).fetchall()
        return [_token_from_row(row) for row in rows]

    @writes
    def delete_api_token(self, conn: sqlite3.Connection, user_id: str, token_id: str) -> bool:
        # The owner is part of the key: one user can never delete another's token by id.
        cursor = conn.execute("DELETE FROM api_tokens WHERE id = ? AND user_id = ?", (token_id, user_id))
        return cursor.rowcount == 1

    @writes
    def touch_api_token(self, conn: sqlite3.Connection, token_id: str, at: str) -> None:
        conn.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (at, token_id))
