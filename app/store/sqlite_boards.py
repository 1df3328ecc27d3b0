"""SQLite bodies of the user, refresh token, board and member use cases.

Each function takes the connection of the thread it runs on and is run inside one
transaction by ``SQLiteStore``; raising rolls the whole use case back.
"""

from __future__ import annotations

import sqlite3

from app.domain.models import Board, Event, EventDraft, Member, RefreshToken, Role, User
from app.jsonutil import dumps
from app.store.base import AlreadyMember, EmailTaken, LastOwner, NotFound
from app.store.sqlite_records import (
    BOARD_COLUMNS,
    MEMBER_COLUMNS,
    TOKEN_COLUMNS,
    USER_COLUMNS,
    append_event,
    board_from_row,
    member_from_row,
    token_from_row,
    user_from_row,
)

# -- users ------------------------------------------------------------------------------


def create_user(conn: sqlite3.Connection, user: User) -> None:
    email = user.email.lower()
    # Checked under the write lock, so no other writer can slip in between; the unique
    # index stays as the last line of defence.
    if get_user_by_email(conn, email) is not None:
        raise EmailTaken(user.email)
    conn.execute(
        f"INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        (user.id, email, user.name, user.password_hash, user.created_at, user.updated_at),
    )


def get_user(conn: sqlite3.Connection, user_id: str) -> User | None:
    row = conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", (user_id,)).fetchone()
    return None if row is None else user_from_row(row)


def get_user_by_email(conn: sqlite3.Connection, email: str) -> User | None:
    row = conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE email = ?", (email.lower(),)).fetchone()
    return None if row is None else user_from_row(row)


def update_user(conn: sqlite3.Connection, user: User) -> User | None:
    conn.execute(
        "UPDATE users SET name = ?, password_hash = ?, updated_at = ? WHERE id = ?",
        (user.name, user.password_hash, user.updated_at, user.id),
    )
    return get_user(conn, user.id)


# -- refresh tokens ---------------------------------------------------------------------


def create_refresh_token(conn: sqlite3.Connection, token: RefreshToken) -> None:
    conn.execute(
        f"INSERT INTO refresh_tokens ({TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (token.token_hash, token.user_id, token.family_id, token.created_at, token.expires_at,
         token.used_at, int(token.revoked)),
    )


def spend_refresh_token(conn: sqlite3.Connection, token_hash: str, at: str) -> tuple[RefreshToken | None, bool]:
    row = conn.execute(f"SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = ?", (token_hash,)).fetchone()
    if row is None:
        return None, False
    # The guard on used_at makes the spend single-use even if the read above were stale.
    spent = conn.execute(
        "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL", (at, token_hash)
    ).rowcount
    return token_from_row(row), spent == 1


def revoke_refresh_family(conn: sqlite3.Connection, family_id: str) -> None:
    conn.execute("UPDATE refresh_tokens SET revoked = 1 WHERE family_id = ?", (family_id,))


# -- revoked sessions -------------------------------------------------------------------


def revoke_session(conn: sqlite3.Connection, session_id: str, until: str, at: str) -> None:
    conn.execute("DELETE FROM revoked_sessions WHERE until <= ?", (at,))
    conn.execute(
        "INSERT INTO revoked_sessions (session_id, until) VALUES (?, ?) "
        "ON CONFLICT (session_id) DO UPDATE SET until = max(until, excluded.until)",
        (session_id, until),
    )
    revoke_refresh_family(conn, session_id)


def session_revoked(conn: sqlite3.Connection, session_id: str, at: str) -> bool:
    row = conn.execute("SELECT 1 FROM revoked_sessions WHERE session_id = ? AND until > ?", (session_id, at)).fetchone()
    return row is not None


def list_revoked_sessions(conn: sqlite3.Connection, at: str) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT session_id, until FROM revoked_sessions WHERE until > ? ORDER BY until", (at,))
    return [(row["session_id"], row["until"]) for row in rows]


# -- boards -----------------------------------------------------------------------------


def create_board(conn: sqlite3.Connection, board: Board, owner: Member) -> None:
    conn.execute(
        "INSERT INTO boards (id, name, description, columns, created_by, created_at, updated_at, seq)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
        (board.id, board.name, board.description, dumps(list(board.columns)), board.created_by,
         board.created_at, board.updated_at),
    )
    _insert_member(conn, owner)


def get_board(conn: sqlite3.Connection, board_id: str) -> Board | None:
    row = conn.execute(f"SELECT {BOARD_COLUMNS} FROM boards b WHERE b.id = ?", (board_id,)).fetchone()
    return None if row is None else board_from_row(row)


def list_boards_for_user(
    conn: sqlite3.Connection, user_id: str, after_board_id: str | None, limit: int
) -> list[tuple[Board, Role]]:
    rows = conn.execute(
        f"SELECT {BOARD_COLUMNS}, m.role FROM members m JOIN boards b ON b.id = m.board_id"
        " WHERE m.user_id = ? AND m.board_id > ? ORDER BY m.board_id LIMIT ?",
        (user_id, after_board_id or "", limit),
    ).fetchall()
    return [(board_from_row(row), Role(row["role"])) for row in rows]


def update_board(conn: sqlite3.Connection, board: Board, draft: EventDraft) -> Event:
    event = append_event(conn, board.id, draft)
    conn.execute(
        "UPDATE boards SET name = ?, description = ?, columns = ?, updated_at = ? WHERE id = ?",
        (board.name, board.description, dumps(list(board.columns)), board.updated_at, board.id),
    )
    return event


def delete_board(conn: sqlite3.Connection, board_id: str) -> bool:
    # Explicit deletes rather than trusting the cascade alone: they also run where a
    # connection forgot foreign_keys=ON, and tasks' delete trigger cleans the FTS index.
    for table in ("events", "members", "comments", "task_assignees", "task_labels", "tasks", "webhook_attempts",
                  "webhooks", "notifications"):
        conn.execute(f"DELETE FROM {table} WHERE board_id = ?", (board_id,))
    return conn.execute("DELETE FROM boards WHERE id = ?", (board_id,)).rowcount == 1


# -- members ----------------------------------------------------------------------------


def _insert_member(conn: sqlite3.Connection, member: Member) -> bool:
    cursor = conn.execute(
        "INSERT INTO members (board_id, user_id, role, added_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (board_id, user_id) DO NOTHING",
        (member.board_id, member.user_id, Role(member.role).value, member.added_at),
    )
    return cursor.rowcount == 1


def get_member(conn: sqlite3.Connection, board_id: str, user_id: str) -> Member | None:
    row = conn.execute(
        f"SELECT {MEMBER_COLUMNS} FROM members m WHERE m.board_id = ? AND m.user_id = ?", (board_id, user_id)
    ).fetchone()
    return None if row is None else member_from_row(row)


def list_members(conn: sqlite3.Connection, board_id: str) -> list[Member]:
    rows = conn.execute(
        f"SELECT {MEMBER_COLUMNS}, u.email, u.name FROM members m LEFT JOIN users u ON u.id = m.user_id"
        " WHERE m.board_id = ? ORDER BY m.added_at, m.user_id",
        (board_id,),
    ).fetchall()
    return [member_from_row(row) for row in rows]


def add_member(conn: sqlite3.Connection, member: Member, draft: EventDraft) -> Event:
    event = append_event(conn, member.board_id, draft)
    if not _insert_member(conn, member):
        raise AlreadyMember(f"{member.user_id} on {member.board_id}")
    return event


def _check_owner_remains(conn: sqlite3.Connection, board_id: str, user_id: str, new_role: Role | None) -> None:
    current = get_member(conn, board_id, user_id)
    if current is None:
        raise NotFound(f"member {user_id} of {board_id}")
    if current.role != Role.OWNER or new_role == Role.OWNER:
        return
    owners = conn.execute(
        "SELECT count(*) FROM members WHERE board_id = ? AND role = ?", (board_id, Role.OWNER.value)
    ).fetchone()[0]
    if owners <= 1:
        raise LastOwner(board_id)


def update_member_role(conn: sqlite3.Connection, board_id: str, user_id: str, role: Role, draft: EventDraft) -> Event:
    _check_owner_remains(conn, board_id, user_id, Role(role))
    conn.execute(
        "UPDATE members SET role = ? WHERE board_id = ? AND user_id = ?", (Role(role).value, board_id, user_id)
    )
    return append_event(conn, board_id, draft)


def remove_member(conn: sqlite3.Connection, board_id: str, user_id: str, draft: EventDraft) -> Event:
    _check_owner_remains(conn, board_id, user_id, None)
    conn.execute("DELETE FROM members WHERE board_id = ? AND user_id = ?", (board_id, user_id))
    return append_event(conn, board_id, draft)
