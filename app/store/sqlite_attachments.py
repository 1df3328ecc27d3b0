"""Attachments, for SQLiteStore: the record and thumbnail in ``attachments``, the bytes in
``attachment_chunks`` rows of CHUNK_BYTES, all in the database file (so in its backups).

The upload is one write transaction: quota check, record, every chunk and the event, so a
file is either wholly there with its event or not at all. Reads take one chunk per call.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import IO

from app.domain.models import Attachment, AttachmentSummary, Event, EventDraft
from app.store.base import QuotaExceeded
from app.store.sqlite_events import append_event, delete_with_event, ensure_task_on_board
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows, per_task

ATTACHMENT_ROWS = Rows(Attachment)
_COLUMNS = ATTACHMENT_ROWS.columns
CHUNK_BYTES = 256 * 1024


def delete_attachments(conn: sqlite3.Connection, column: str, value: str) -> None:
    """Delete the attachments (and their chunks) whose ``column`` (task_id or board_id) is ``value``."""
    # ``column`` is one of two identifiers written in this package, never input.
    conn.execute(
        f"DELETE FROM attachment_chunks WHERE attachment_id IN (SELECT id FROM attachments WHERE {column} = ?)",
        (value,),
    )
    conn.execute(f"DELETE FROM attachments WHERE {column} = ?", (value,))


class SQLiteAttachments(SQLiteStoreBase):
    @writes
    def create_attachment(
        self,
        conn: sqlite3.Connection,
        attachment: Attachment,
        content: IO[bytes],
        thumbnail: bytes | None,
        quota: int,
        event: EventDraft,
    ) -> Event:
        ensure_task_on_board(conn, attachment.task_id, attachment.board_id)
        if quota > 0:
            used: int = conn.execute(
                "SELECT coalesce(sum(size), 0) FROM attachments WHERE board_id = ?", (attachment.board_id,)
            ).fetchone()[0]
            if used + attachment.size > quota:
                raise QuotaExceeded(used)
        conn.execute(
            f"INSERT INTO attachments ({_COLUMNS}, thumbnail) VALUES ({ATTACHMENT_ROWS.placeholders}, ?)",
            [*ATTACHMENT_ROWS.params(attachment), thumbnail],
        )
        n = 0
        while chunk := content.read(CHUNK_BYTES):
            conn.execute(
                "INSERT INTO attachment_chunks (attachment_id, n, data) VALUES (?, ?, ?)", (attachment.id, n, chunk)
            )
            n += 1
        return append_event(conn, attachment.board_id, event)

    get_attachment = ATTACHMENT_ROWS.getter("attachments")
    list_attachments = ATTACHMENT_ROWS.task_pager("attachments")

    @reads
    def summarize_attachments(self, conn: sqlite3.Connection, task_ids: Sequence[str]) -> dict[str, AttachmentSummary]:
        rows = per_task(conn, "count(*), max(CASE WHEN has_thumbnail THEN id END)", "attachments", task_ids)
        return {row[0]: AttachmentSummary(row[1], row[2]) for row in rows}

    async def open_attachment(self, attachment_id: str) -> AsyncIterator[bytes] | None:
        if not await self._attachment_exists(attachment_id):
            return None
        return self._chunks(attachment_id)

    async def _chunks(self, attachment_id: str) -> AsyncIterator[bytes]:
        n = 0
        while (chunk := await self._attachment_chunk(attachment_id, n)) is not None:
            yield chunk
            n += 1

    @reads
    def _attachment_exists(self, conn: sqlite3.Connection, attachment_id: str) -> bool:
        return conn.execute("SELECT 1 FROM attachments WHERE id = ?", (attachment_id,)).fetchone() is not None

    @reads
    def _attachment_chunk(self, conn: sqlite3.Connection, attachment_id: str, n: int) -> bytes | None:
        row = conn.execute(
            "SELECT data FROM attachment_chunks WHERE attachment_id = ? AND n = ?", (attachment_id, n)
        ).fetchone()
        return None if row is None else bytes(row[0])

    @reads
    def get_attachment_thumbnail(self, conn: sqlite3.Connection, attachment_id: str) -> bytes | None:
        row = conn.execute("SELECT thumbnail FROM attachments WHERE id = ?", (attachment_id,)).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    @writes
    def delete_attachment(self, conn: sqlite3.Connection, attachment_id: str, event: EventDraft) -> Event:
        conn.execute("DELETE FROM attachment_chunks WHERE attachment_id = ?", (attachment_id,))
        return delete_with_event(conn, "attachments", "id", attachment_id, event, "attachment")
