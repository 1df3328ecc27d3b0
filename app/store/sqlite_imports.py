"""Import jobs, for SQLiteStore."""

from __future__ import annotations

import sqlite3

from app.domain.imports import ImportJob
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows

JOB_ROWS = Rows(ImportJob)
_COLUMNS = JOB_ROWS.columns
_UNFINISHED = "('queued', 'running')"


class SQLiteImports(SQLiteStoreBase):
    @writes
    def create_import_job(self, conn: sqlite3.Connection, job: ImportJob) -> None:
        conn.execute(f"INSERT INTO import_jobs ({_COLUMNS}) VALUES ({JOB_ROWS.placeholders})", JOB_ROWS.params(job))

    @reads
    def get_import_job(self, conn: sqlite3.Connection, job_id: str) -> ImportJob | None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM import_jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else JOB_ROWS.record(row)

    @writes
    def save_import_job(self, conn: sqlite3.Connection, job: ImportJob) -> None:
        conn.execute(
            f"INSERT OR REPLACE INTO import_jobs ({_COLUMNS}) VALUES ({JOB_ROWS.placeholders})", JOB_ROWS.params(job)
        )

    @writes
    def claim_import_job(self, conn: sqlite3.Connection, job_id: str, lease_until: str, now: str) -> ImportJob | None:
        row = conn.execute(
            f"UPDATE import_jobs SET state = 'running', lease_until = ? WHERE id = ? AND state IN {_UNFINISHED}"
            f" AND (lease_until IS NULL OR lease_until < ?) RETURNING {_COLUMNS}",
            (lease_until, job_id, now),
        ).fetchone()
        return None if row is None else JOB_ROWS.record(row)

    @reads
    def list_unfinished_import_jobs(self, conn: sqlite3.Connection) -> list[ImportJob]:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM import_jobs WHERE state IN {_UNFINISHED} ORDER BY id").fetchall()
        return [JOB_ROWS.record(row) for row in rows]
