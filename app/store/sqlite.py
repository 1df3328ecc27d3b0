"""The embedded store: one SQLite file in WAL mode, shareable by several processes.

``SQLiteStore`` is composed of one part per aggregate (sqlite_users, sqlite_boards, ...),
like ``MongoStore``. Every method hands its work to threads that own the connections
(``sqlite_pool``), so the event loop never waits on the disk: writes run as one
``BEGIN IMMEDIATE`` transaction on this process's single writer thread; reads run on a
few reader threads beside it.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

from app.domain import clock
from app.private_files import prepare_sqlite_file
from app.store.base import StoreNotWritable, StoreUnavailable
from app.store.sqlite_accounts import SQLiteAccounts
from app.store.sqlite_attachments import SQLiteAttachments
from app.store.sqlite_board_trash import SQLiteBoardTrash
from app.store.sqlite_boards import SQLiteBoards
from app.store.sqlite_comments import SQLiteComments
from app.store.sqlite_events import SQLiteEvents
from app.store.sqlite_identities import SQLiteIdentities
from app.store.sqlite_imports import SQLiteImports
from app.store.sqlite_instance import SQLiteInstance
from app.store.sqlite_invitations import SQLiteInvitations
from app.store.sqlite_mail import SQLiteAccountEmails, SQLiteMail, SQLiteWatches
from app.store.sqlite_notifications import SQLiteNotifications
from app.store.sqlite_pool import ConnectionThreads, in_write_transaction, reads, writes
from app.store.sqlite_recurrences import SQLiteRecurrences
from app.store.sqlite_schedule import SQLiteSchedule
from app.store.sqlite_schema import apply_migrations
from app.store.sqlite_task_documents import SQLiteTaskDocuments
from app.store.sqlite_tasks import SQLiteTasks
from app.store.sqlite_tokens import SQLiteApiTokens
from app.store.sqlite_trash import SQLiteTrash
from app.store.sqlite_two_factor import SQLiteTwoFactor
from app.store.sqlite_users import SQLiteUsers
from app.store.sqlite_webhooks import SQLiteWebhooks

READER_THREADS = 4
# Below this much free space the disk counts as full: a write may need a few MiB of WAL.
MIN_FREE_BYTES = 1024 * 1024


_NOT_WRITABLE = {
    sqlite3.SQLITE_FULL: "disk_full",
    sqlite3.SQLITE_READONLY: "read_only",
    sqlite3.SQLITE_PERM: "read_only",
    sqlite3.SQLITE_IOERR: "write_failed",
    sqlite3.SQLITE_CANTOPEN: "write_failed",
}


class SQLiteStore(
    SQLiteUsers,
    SQLiteInstance,
    SQLiteTwoFactor,
    SQLiteIdentities,
    SQLiteAccounts,
    SQLiteApiTokens,
    SQLiteBoards,
    SQLiteTasks,
    SQLiteEvents,
    SQLiteComments,
    SQLiteAttachments,
    SQLiteWebhooks,
    SQLiteNotifications,
    SQLiteTaskDocuments,
    SQLiteMail,
    SQLiteWatches,
    SQLiteSchedule,
    SQLiteAccountEmails,
    SQLiteRecurrences,
    SQLiteImports,
    SQLiteTrash,
    SQLiteBoardTrash,
    SQLiteInvitations,
):
    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._writer: ConnectionThreads | None = None
        self._readers: ConnectionThreads | None = None

    async def open(self) -> None:
        if self._writer is not None:
            return
        try:
            await asyncio.to_thread(prepare_sqlite_file, Path(self._path))
        except OSError as error:
            raise StoreUnavailable(f"cannot create {self._path}: {error}") from error
        writer = ConnectionThreads(self._path, 1, "sqlite-writer")
        try:
            await writer.run(in_write_transaction, apply_migrations)
        except BaseException:
            await asyncio.to_thread(writer.close)
            raise
        self._writer = writer
        self._readers = ConnectionThreads(self._path, READER_THREADS, "sqlite-reader")

    async def close(self) -> None:
        writer, readers = self._writer, self._readers
        self._writer = self._readers = None
        for threads in (readers, writer):
            if threads is not None:
                await asyncio.to_thread(threads.close)

    @reads
    def ping(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA user_version").fetchone()

    async def check_writable(self) -> None:
        # A small write can still fit in WAL space already allocated while the disk is full,
        # so the free space is checked as well as the write itself.
        stats = await asyncio.to_thread(os.statvfs, Path(self._path).parent)
        if stats.f_flag & os.ST_RDONLY:
            raise StoreNotWritable("read_only", "(the file system is mounted read-only)")
        if (free := stats.f_bavail * stats.f_frsize) < MIN_FREE_BYTES:
            raise StoreNotWritable("disk_full", f"({free // 1024} KiB free)")
        try:
            await self._write_probe(clock.now())
        except StoreUnavailable as error:
            code = getattr(error.__cause__, "sqlite_errorcode", 0) & 0xFF
            if code in _NOT_WRITABLE:
                raise StoreNotWritable(_NOT_WRITABLE[code], f"({error.__cause__})") from error
            raise

    @writes
    def _write_probe(self, conn: sqlite3.Connection, at: str) -> None:
        conn.execute(
            "INSERT INTO write_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at", (at,)
        )
