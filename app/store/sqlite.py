"""The embedded store: one SQLite file in WAL mode, shareable by several processes.

Every method hands its work to threads that own the connections (``sqlite_pool``), so the
event loop never waits on the disk. Writes run as one ``BEGIN IMMEDIATE`` transaction on
this process's single writer thread; reads run on a few reader threads beside it.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path
from typing import Any, Callable, TypeVar

from app.domain import clock
from app.domain.models import (
    ApiToken,
    Board,
    Comment,
    Event,
    EventDraft,
    Member,
    Notification,
    NotificationScope,
    RefreshToken,
    Role,
    Task,
    TaskPage,
    TaskPageRequest,
    User,
)
from app.store import sqlite_boards as boards
from app.store import sqlite_comments as comments
from app.store import sqlite_notifications as notifications
from app.store import sqlite_tasks as tasks
from app.store import sqlite_tokens as tokens
from app.store.base import StoreNotWritable, StoreUnavailable
from app.store.sqlite_pool import ConnectionThreads, in_read_transaction, in_write_transaction
from app.store.sqlite_schema import apply_migrations
from app.store.sqlite_webhooks import SQLiteWebhookMethods

T = TypeVar("T")

READER_THREADS = 4
# Below this much free space the disk counts as full: a write may need a few MiB of WAL.
MIN_FREE_BYTES = 1024 * 1024


_NOT_WRITABLE = {sqlite3.SQLITE_FULL: "disk_full", sqlite3.SQLITE_READONLY: "read_only",
                 sqlite3.SQLITE_PERM: "read_only", sqlite3.SQLITE_IOERR: "write_failed",
                 sqlite3.SQLITE_CANTOPEN: "write_failed"}


def _write_probe(conn: sqlite3.Connection, at: str) -> None:
    conn.execute("INSERT INTO write_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                 (at,))


class SQLiteStore(SQLiteWebhookMethods):
    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._writer: ConnectionThreads | None = None
        self._readers: ConnectionThreads | None = None

    # -- lifecycle -----------------------------------------------------------------------

    async def open(self) -> None:
        if self._writer is not None:
            return
        try:
            await asyncio.to_thread(Path(self._path).parent.mkdir, parents=True, exist_ok=True)
        except OSError as error:
            raise StoreUnavailable(f"cannot create the folder of {self._path}: {error}") from error
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

    async def ping(self) -> None:
        await self._read(lambda conn: conn.execute("PRAGMA user_version").fetchone())

    async def check_writable(self) -> None:
        # A small write can still fit in WAL space already allocated while the disk is full,
        # so the free space is checked as well as the write itself.
        stats = await asyncio.to_thread(os.statvfs, Path(self._path).parent)
        if stats.f_flag & os.ST_RDONLY:
            raise StoreNotWritable("read_only", "(the file system is mounted read-only)")
        if (free := stats.f_bavail * stats.f_frsize) < MIN_FREE_BYTES:
            raise StoreNotWritable("disk_full", f"({free // 1024} KiB free)")
        try:
            await self._write(_write_probe, clock.now())
        except StoreUnavailable as error:
            code = getattr(error.__cause__, "sqlite_errorcode", 0) & 0xFF
            if code in _NOT_WRITABLE:
                raise StoreNotWritable(_NOT_WRITABLE[code], f"({error.__cause__})") from error
            raise

    async def _write(self, work: Callable[..., T], *args: Any) -> T:
        if self._writer is None:
            raise StoreUnavailable("the SQLite store is not open")
        return await self._writer.run(in_write_transaction, work, *args)

    async def _read(self, work: Callable[..., T], *args: Any) -> T:
        if self._readers is None:
            raise StoreUnavailable("the SQLite store is not open")
        return await self._readers.run(in_read_transaction, work, *args)

    # -- users ---------------------------------------------------------------------------

    async def create_user(self, user: User) -> None:
        await self._write(boards.create_user, user)

    async def get_user(self, user_id: str) -> User | None:
        return await self._read(boards.get_user, user_id)

    async def get_user_by_email(self, email: str) -> User | None:
        return await self._read(boards.get_user_by_email, email)

    async def update_user(self, user: User) -> User | None:
        return await self._write(boards.update_user, user)

    # -- refresh tokens ------------------------------------------------------------------

    async def create_refresh_token(self, token: RefreshToken) -> None:
        await self._write(boards.create_refresh_token, token)

    async def spend_refresh_token(self, token_hash: str, at: str) -> tuple[RefreshToken | None, bool]:
        return await self._write(boards.spend_refresh_token, token_hash, at)

    async def revoke_refresh_family(self, family_id: str) -> None:
        await self._write(boards.revoke_refresh_family, family_id)

    # -- revoked sessions ----------------------------------------------------------------

    async def revoke_session(self, session_id: str, until: str) -> None:
        await self._write(boards.revoke_session, session_id, until, clock.now())

    async def session_revoked(self, session_id: str, at: str) -> bool:
        return await self._read(boards.session_revoked, session_id, at)

    async def list_revoked_sessions(self, at: str) -> list[tuple[str, str]]:
        return await self._read(boards.list_revoked_sessions, at)

    # -- boards --------------------------------------------------------------------------

    async def create_board(self, board: Board, owner: Member) -> None:
        await self._write(boards.create_board, board, owner)

    async def get_board(self, board_id: str) -> Board | None:
        return await self._read(boards.get_board, board_id)

    async def list_boards_for_user(
        self, user_id: str, after_board_id: str | None, limit: int
    ) -> list[tuple[Board, Role]]:
        return await self._read(boards.list_boards_for_user, user_id, after_board_id, limit)

    async def update_board(self, board: Board, event: EventDraft) -> Event:
        return await self._write(boards.update_board, board, event)

    async def delete_board(self, board_id: str) -> bool:
        return await self._write(boards.delete_board, board_id)

    # -- members -------------------------------------------------------------------------

    async def get_member(self, board_id: str, user_id: str) -> Member | None:
        return await self._read(boards.get_member, board_id, user_id)

    async def list_members(self, board_id: str) -> list[Member]:
        return await self._read(boards.list_members, board_id)

    async def add_member(self, member: Member, event: EventDraft) -> Event:
        return await self._write(boards.add_member, member, event)

    async def update_member_role(self, board_id: str, user_id: str, role: Role, event: EventDraft) -> Event:
        return await self._write(boards.update_member_role, board_id, user_id, role, event)

    async def remove_member(self, board_id: str, user_id: str, event: EventDraft) -> Event:
        return await self._write(boards.remove_member, board_id, user_id, event)

    # -- tasks ---------------------------------------------------------------------------

    async def create_task(self, task: Task, event: EventDraft) -> Event:
        return await self._write(tasks.create_task, task, event)

    async def get_task(self, task_id: str) -> Task | None:
        return await self._read(tasks.get_task, task_id)

    async def update_task(self, task: Task, expected_version: int, event: EventDraft) -> Event:
        return await self._write(tasks.update_task, task, expected_version, event)

    async def delete_task(self, task_id: str, expected_version: int | None, event: EventDraft) -> Event:
        return await self._write(tasks.delete_task, task_id, expected_version, event)

    async def last_position(self, board_id: str, status: str) -> str | None:
        return await self._read(tasks.last_position, board_id, status)

    async def list_tasks(self, request: TaskPageRequest) -> TaskPage:
        return await self._read(tasks.list_tasks, request)

    # -- events --------------------------------------------------------------------------

    async def list_events(self, board_id: str, after_seq: int, limit: int) -> list[Event]:
        return await self._read(tasks.list_events, board_id, after_seq, limit)

    # -- personal API tokens ---------------------------------------------------------------

    async def create_api_token(self, token: ApiToken) -> None:
        await self._write(tokens.create_api_token, token)

    async def get_api_token_by_hash(self, token_hash: str) -> ApiToken | None:
        return await self._read(tokens.get_api_token_by_hash, token_hash)

    async def list_api_tokens(self, user_id: str) -> list[ApiToken]:
        return await self._read(tokens.list_api_tokens, user_id)

    async def delete_api_token(self, user_id: str, token_id: str) -> bool:
        return await self._write(tokens.delete_api_token, user_id, token_id)

    async def touch_api_token(self, token_id: str, at: str) -> None:
        await self._write(tokens.touch_api_token, token_id, at)

    # -- comments --------------------------------------------------------------------------

    async def create_comment(self, comment: Comment, event: EventDraft) -> Event:
        return await self._write(comments.create_comment, comment, event)

    async def get_comment(self, comment_id: str) -> Comment | None:
        return await self._read(comments.get_comment, comment_id)

    async def list_comments(self, task_id: str, after_comment_id: str | None, limit: int) -> list[Comment]:
        return await self._read(comments.list_comments, task_id, after_comment_id, limit)

    async def update_comment(self, comment: Comment, event: EventDraft) -> Event:
        return await self._write(comments.update_comment, comment, event)

    async def delete_comment(self, comment_id: str, event: EventDraft) -> Event:
        return await self._write(comments.delete_comment, comment_id, event)

    # -- notifications ---------------------------------------------------------------------

    async def list_notifications(self, scope: NotificationScope, unread_only: bool, before_id: str | None,
                                 limit: int) -> list[Notification]:
        return await self._read(notifications.list_notifications, scope, unread_only, before_id, limit)

    async def count_unread_notifications(self, scope: NotificationScope) -> int:
        return await self._read(notifications.count_unread_notifications, scope)

    async def mark_notifications_read(self, scope: NotificationScope, ids: list[str] | None,
                                      up_to_id: str | None, at: str) -> int:
        return await self._write(notifications.mark_notifications_read, scope, ids, up_to_id, at)

    async def set_notification_read(self, scope: NotificationScope, notification_id: str,
                                    read_at: str | None) -> Notification | None:
        return await self._write(notifications.set_notification_read, scope, notification_id, read_at)
