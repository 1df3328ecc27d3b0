"""Each user's TOTP second factor, for SQLiteStore."""

from __future__ import annotations

import json
import sqlite3

from app.domain.models import TwoFactor
from app.store.sqlite_pool import SQLiteStoreBase, writes
from app.store.sqlite_records import Rows

TWO_FACTOR_ROWS = Rows(TwoFactor)


class SQLiteTwoFactor(SQLiteStoreBase):
    get_two_factor = TWO_FACTOR_ROWS.getter("two_factor", "user_id")
    put_two_factor = TWO_FACTOR_ROWS.inserter("two_factor", replace=True)

    @writes
    def use_totp_step(self, conn: sqlite3.Connection, user_id: str, step: int) -> bool:
        cursor = conn.execute(
            "UPDATE two_factor SET last_used_step = ? WHERE user_id = ? AND last_used_step < ?", (step, user_id, step)
        )
        return cursor.rowcount == 1

    @writes
    def use_recovery_code(self, conn: sqlite3.Connection, user_id: str, code_hash: str) -> bool:
        # Read and rewrite under the writer's transaction: no other write comes between.
        row = conn.execute("SELECT recovery_hashes FROM two_factor WHERE user_id = ?", (user_id,)).fetchone()
        if row is None:
            return False
        hashes: list[str] = json.loads(row[0])
        if code_hash not in hashes:
            return False
        hashes.remove(code_hash)
        conn.execute("UPDATE two_factor SET recovery_hashes = ? WHERE user_id = ?", (json.dumps(hashes), user_id))
        return True

    @writes
    def delete_two_factor(self, conn: sqlite3.Connection, user_id: str) -> bool:
        return conn.execute("DELETE FROM two_factor WHERE user_id = ?", (user_id,)).rowcount == 1
