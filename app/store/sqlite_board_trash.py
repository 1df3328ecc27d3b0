"""The trash of deleted boards, for SQLiteStore: a trashed board keeps its rows, marked
``boards.trashed_at``, and its members wait in ``trashed_members`` until it is restored."""

from __future__ import annotations

import sqlite3

from app.domain.models import Event, EventDraft, Member
from app.domain.trash import TrashedBoard
from app.store.base import NotFound
from app.store.sqlite_boards import MEMBER_ROWS, board_of, delete_board_rows
from app.store.sqlite_events import append_event
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows

BOARD_TRASH_ROWS = Rows(TrashedBoard)
_COLUMNS = BOARD_TRASH_ROWS.qualified("t")
_MEMBER_COLUMNS = MEMBER_ROWS.columns


def _in_trash(conn: sqlite3.Connection, board_id: str) -> bool:
    return conn.execute("SELECT 1 FROM board_trash WHERE id = ?", (board_id,)).fetchone() is not None


class SQLiteBoardTrash(SQLiteStoreBase):
    @writes
    def trash_board(self, conn: sqlite3.Connection, board_id: str, deleted_by: str, event: EventDraft) -> Event:
        board = board_of(conn, board_id)
        if board is None:
            raise NotFound(f"board {board_id}")
        appended = append_event(conn, board_id, event)
        entry = TrashedBoard(board.id, board.name, board.description, deleted_by, event.at)
        BOARD_TRASH_ROWS.insert(conn, "board_trash", entry)
        conn.execute(
            f"INSERT INTO trashed_members ({_MEMBER_COLUMNS}) SELECT {_MEMBER_COLUMNS} FROM members WHERE board_id = ?",
            (board_id,),
        )
        conn.execute("DELETE FROM members WHERE board_id = ?", (board_id,))
        conn.execute("UPDATE boards SET trashed_at = ? WHERE id = ?", (event.at, board_id))
        return appended

    @reads
    def get_trashed_board(self, conn: sqlite3.Connection, board_id: str) -> TrashedBoard | None:
        return BOARD_TRASH_ROWS.one(conn, f"SELECT {_COLUMNS} FROM board_trash t WHERE t.id = ?", (board_id,))

    @reads
    def get_trashed_member(self, conn: sqlite3.Connection, board_id: str, user_id: str) -> Member | None:
        return MEMBER_ROWS.find_one(conn, "trashed_members", "board_id = ? AND user_id = ?", (board_id, user_id))

    @reads
    def list_trashed_boards(self, conn: sqlite3.Connection, owner_id: str, limit: int) -> list[TrashedBoard]:
        return BOARD_TRASH_ROWS.all(
            conn,
            f"SELECT {_COLUMNS} FROM trashed_members m JOIN board_trash t ON t.id = m.board_id"
            " WHERE m.user_id = ? AND m.role = 'owner' ORDER BY t.deleted_at DESC, t.id DESC LIMIT ?",
            (owner_id, limit),
        )

    @reads
    def list_solely_owned_trashed_boards(
        self, conn: sqlite3.Connection, owner_id: str, limit: int
    ) -> list[TrashedBoard]:
        return BOARD_TRASH_ROWS.all(
            conn,
            f"SELECT {_COLUMNS} FROM trashed_members m JOIN board_trash t ON t.id = m.board_id"
            " WHERE m.user_id = ? AND m.role = 'owner' AND NOT EXISTS (SELECT 1 FROM trashed_members o"
            " WHERE o.board_id = m.board_id AND o.role = 'owner' AND o.user_id != m.user_id)"
            " ORDER BY t.deleted_at DESC, t.id DESC LIMIT ?",
            (owner_id, limit),
        )

    @writes
    def restore_board(self, conn: sqlite3.Connection, board_id: str, event: EventDraft) -> Event:
        if conn.execute("DELETE FROM board_trash WHERE id = ?", (board_id,)).rowcount == 0:
            raise NotFound(f"trashed board {board_id}")
        conn.execute("UPDATE boards SET trashed_at = NULL WHERE id = ?", (board_id,))
        # Members whose account went meanwhile do not come back.
        conn.execute(
            f"INSERT INTO members ({_MEMBER_COLUMNS}) SELECT {_MEMBER_COLUMNS} FROM trashed_members"
            " WHERE board_id = ? AND user_id IN (SELECT id FROM users)",
            (board_id,),
        )
        conn.execute("DELETE FROM trashed_members WHERE board_id = ?", (board_id,))
        return append_event(conn, board_id, event)

    @writes
    def purge_trashed_board(self, conn: sqlite3.Connection, board_id: str) -> bool:
        return _in_trash(conn, board_id) and delete_board_rows(conn, board_id)

    @reads
    def list_expired_board_trash(self, conn: sqlite3.Connection, deleted_before: str, limit: int) -> list[TrashedBoard]:
        return BOARD_TRASH_ROWS.all(
            conn,
            f"SELECT {_COLUMNS} FROM board_trash t WHERE t.deleted_at < ? ORDER BY t.deleted_at, t.id LIMIT ?",
            (deleted_before, limit),
        )
