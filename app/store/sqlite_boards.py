"""Boards and their members, for SQLiteStore."""

from __future__ import annotations

import dataclasses
import sqlite3

from app.domain.models import Board, Event, EventDraft, Member, Role
from app.store.base import AlreadyMember, BoardChanged, LastOwner, NotFound
from app.store.sqlite_attachments import delete_attachments
from app.store.sqlite_events import append_event
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows

BOARD_ROWS = Rows(Board)
MEMBER_ROWS = Rows(Member)
# Column lists of queries that join tables under these aliases.
BOARD_COLUMNS = BOARD_ROWS.qualified("b")
MEMBER_COLUMNS = MEMBER_ROWS.qualified("m")


def _member_from_row(row: sqlite3.Row) -> Member:
    # email and name come from a join with users, only present when listing.
    profile = {key: row[key] or "" for key in ("email", "name") if key in row.keys()}  # noqa: SIM118 (`in row` tests values)
    return MEMBER_ROWS.record(row, **profile)


def insert_member(conn: sqlite3.Connection, member: Member) -> bool:
    cursor = conn.execute(
        f"INSERT INTO members ({MEMBER_ROWS.columns}) VALUES ({MEMBER_ROWS.placeholders})"
        " ON CONFLICT (board_id, user_id) DO NOTHING",
        MEMBER_ROWS.params(member),
    )
    return cursor.rowcount == 1


def member_of(conn: sqlite3.Connection, board_id: str, user_id: str) -> Member | None:
    row = conn.execute(
        f"SELECT {MEMBER_COLUMNS} FROM members m WHERE m.board_id = ? AND m.user_id = ?", (board_id, user_id)
    ).fetchone()
    return None if row is None else _member_from_row(row)


def board_of(conn: sqlite3.Connection, board_id: str) -> Board | None:
    """The board, None if it is gone or in the trash."""
    return BOARD_ROWS.one(
        conn, f"SELECT {BOARD_COLUMNS} FROM boards b WHERE b.id = ? AND b.trashed_at IS NULL", (board_id,)
    )


def _check_owner_remains(conn: sqlite3.Connection, board_id: str, user_id: str, new_role: Role | None) -> None:
    current = member_of(conn, board_id, user_id)
    if current is None:
        raise NotFound(f"member {user_id} of {board_id}")
    if current.role != Role.OWNER or new_role == Role.OWNER:
        return
    owners = conn.execute(
        "SELECT count(*) FROM members WHERE board_id = ? AND role = ?", (board_id, Role.OWNER.value)
    ).fetchone()[0]
    if owners <= 1:
        raise LastOwner(board_id)


def delete_board_rows(conn: sqlite3.Connection, board_id: str) -> bool:
    """Delete the board (in the trash or not) with everything it holds; False if it did not exist."""
    # Explicit deletes rather than trusting the cascade alone: they also run where a
    # connection forgot foreign_keys=ON, and tasks' delete trigger cleans the FTS index.
    delete_attachments(conn, "board_id", board_id)
    for table in (
        "events",
        "members",
        "trashed_members",
        "comments",
        "task_assignees",
        "task_labels",
        "tasks",
        "webhook_attempts",
        "webhooks",
        "notifications",
        "watches",
        "trash",
        "invitations",
    ):
        conn.execute(f"DELETE FROM {table} WHERE board_id = ?", (board_id,))
    conn.execute("DELETE FROM board_trash WHERE id = ?", (board_id,))
    return conn.execute("DELETE FROM boards WHERE id = ?", (board_id,)).rowcount == 1


class SQLiteBoards(SQLiteStoreBase):
    # -- boards --------------------------------------------------------------------------

    @writes
    def create_board(self, conn: sqlite3.Connection, board: Board, owner: Member) -> None:
        # A new board starts at seq 0 whatever the record says: its log is empty.
        BOARD_ROWS.insert(conn, "boards", dataclasses.replace(board, seq=0))
        insert_member(conn, owner)

    @reads
    def get_board(self, conn: sqlite3.Connection, board_id: str) -> Board | None:
        return board_of(conn, board_id)

    @reads
    def list_boards_for_user(
        self, conn: sqlite3.Connection, user_id: str, after_board_id: str | None, limit: int, archived: bool = False
    ) -> list[tuple[Board, Role]]:
        archive = "b.archived_at IS NOT NULL" if archived else "b.archived_at IS NULL"
        rows = conn.execute(
            f"SELECT {BOARD_COLUMNS}, m.role FROM members m JOIN boards b ON b.id = m.board_id"
            f" WHERE m.user_id = ? AND m.board_id > ? AND {archive} ORDER BY m.board_id LIMIT ?",
            (user_id, after_board_id or "", limit),
        ).fetchall()
        return [(BOARD_ROWS.record(row), Role(row["role"])) for row in rows]

    @writes
    def update_board(
        self, conn: sqlite3.Connection, board: Board, event: EventDraft, expected_updated_at: str | None = None
    ) -> Event:
        if expected_updated_at is not None:
            row = conn.execute("SELECT updated_at FROM boards WHERE id = ?", (board.id,)).fetchone()
            if row is not None and row[0] != expected_updated_at:
                raise BoardChanged(board.id)
        appended = append_event(conn, board.id, event)
        conn.execute(
            "UPDATE boards SET name = :name, description = :description, columns = :columns,"
            " column_names = :column_names, wip_limits = :wip_limits, updated_at = :updated_at WHERE id = :id",
            BOARD_ROWS.named(board),
        )
        return appended

    @writes
    def set_board_archived(
        self, conn: sqlite3.Connection, board_id: str, archived_at: str | None, event: EventDraft
    ) -> Event:
        appended = append_event(conn, board_id, event)
        conn.execute("UPDATE boards SET archived_at = ? WHERE id = ?", (archived_at, board_id))
        return appended

    @writes
    def delete_board(self, conn: sqlite3.Connection, board_id: str) -> bool:
        return delete_board_rows(conn, board_id)

    # -- members -------------------------------------------------------------------------

    @reads
    def get_member(self, conn: sqlite3.Connection, board_id: str, user_id: str) -> Member | None:
        return member_of(conn, board_id, user_id)

    @reads
    def list_members(self, conn: sqlite3.Connection, board_id: str) -> list[Member]:
        rows = conn.execute(
            f"SELECT {MEMBER_COLUMNS}, u.email, u.name FROM members m LEFT JOIN users u ON u.id = m.user_id"
            " WHERE m.board_id = ? ORDER BY m.added_at, m.user_id",
            (board_id,),
        ).fetchall()
        return [_member_from_row(row) for row in rows]

    @writes
    def add_member(self, conn: sqlite3.Connection, member: Member, event: EventDraft) -> Event:
        appended = append_event(conn, member.board_id, event)
        if not insert_member(conn, member):
            raise AlreadyMember(f"{member.user_id} on {member.board_id}")
        return appended

    @writes
    def update_member_role(
        self, conn: sqlite3.Connection, board_id: str, user_id: str, role: Role, event: EventDraft
    ) -> Event:
        _check_owner_remains(conn, board_id, user_id, Role(role))
        conn.execute(
            "UPDATE members SET role = ? WHERE board_id = ? AND user_id = ?", (Role(role).value, board_id, user_id)
        )
        return append_event(conn, board_id, event)

    @writes
    def remove_member(self, conn: sqlite3.Connection, board_id: str, user_id: str, event: EventDraft) -> Event:
        _check_owner_remains(conn, board_id, user_id, None)
        conn.execute("DELETE FROM members WHERE board_id = ? AND user_id = ?", (board_id, user_id))
        return append_event(conn, board_id, event)
