"""Import jobs, for SQLiteStore: the job in ``import_jobs``, its file in ``import_chunks``
rows of CHUNK_BYTES (by where each starts in the file), all in the database file."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from typing import IO

from app.domain.imports import ImportJob
from app.store.sqlite_attachments import CHUNK_BYTES
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows

JOB_ROWS = Rows(ImportJob)
_COLUMNS = JOB_ROWS.columns
_UNFINISHED = "('queued', 'running')"


def _replace(conn: sqlite3.Connection, job: ImportJob) -> None:
    JOB_ROWS.insert(conn, "import_jobs", job, replace=True)


class SQLiteImports(SQLiteStoreBase):
    create_import_job = JOB_ROWS.inserter("import_jobs")
    get_import_job = JOB_ROWS.getter("import_jobs")
    save_import_job = JOB_ROWS.inserter("import_jobs", replace=True)

    @writes
    def claim_import_job(self, conn: sqlite3.Connection, job_id: str, lease_until: str, now: str) -> ImportJob | None:
        return JOB_ROWS.one(
            conn,
            f"UPDATE import_jobs SET state = 'running', lease_until = ? WHERE id = ? AND state IN {_UNFINISHED}"
            f" AND (lease_until IS NULL OR lease_until < ?) RETURNING {_COLUMNS}",
            (lease_until, job_id, now),
        )

    @reads
    def list_unfinished_import_jobs(self, conn: sqlite3.Connection) -> list[ImportJob]:
        return JOB_ROWS.find(conn, "import_jobs", f"state IN {_UNFINISHED} ORDER BY id")

    @writes
    def append_import_part(self, conn: sqlite3.Connection, job: ImportJob, offset: int, content: IO[bytes]) -> bool:
        stored = conn.execute("SELECT state, received FROM import_jobs WHERE id = ?", (job.id,)).fetchone()
        if stored is None or stored["state"] != "uploading" or stored["received"] != offset:
            return False
        start = offset
        while chunk := content.read(CHUNK_BYTES):
            conn.execute("INSERT INTO import_chunks (job_id, start, data) VALUES (?, ?, ?)", (job.id, start, chunk))
            start += len(chunk)
        _replace(conn, job)
        return True

    async def open_import_file(self, job_id: str) -> AsyncIterator[bytes]:
        return self._import_chunks(job_id)

    async def _import_chunks(self, job_id: str) -> AsyncIterator[bytes]:
        start = 0
        while (chunk := await self._import_chunk(job_id, start)) is not None:
            yield chunk
            start += len(chunk)

    @reads
    def _import_chunk(self, conn: sqlite3.Connection, job_id: str, start: int) -> bytes | None:
        row = conn.execute("SELECT data FROM import_chunks WHERE job_id = ? AND start = ?", (job_id, start)).fetchone()
        return None if row is None else bytes(row[0])

    @writes
    def delete_import_file(self, conn: sqlite3.Connection, job_id: str) -> None:
        conn.execute("DELETE FROM import_chunks WHERE job_id = ?", (job_id,))
