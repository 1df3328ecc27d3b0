"""An account's own lifecycle, for SQLiteStore: a new email, the records its data export
reads, and erasing it (app/services/account.py)."""

from __future__ import annotations

import json
import sqlite3

from app.domain.models import DELETED_USER_ID, DELETED_USER_NAME, User, UserRecords
from app.store.base import EmailTaken
from app.store.erasure import scrub, scrub_kept
from app.store.sqlite_comments import COMMENT_ROWS
from app.store.sqlite_notifications import NOTIFICATION_ROWS
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_tasks import TASK_ROWS
from app.store.sqlite_users import USER_ROWS

# What is the account's alone, deleted with it.
_OWN_ROWS = (
    "refresh_tokens",
    "api_tokens",
    "two_factor",
    "external_identities",
    "notifications",
    "members",
    "trashed_members",
)

# Where what others keep names the user, by (table, column): renamed DELETED_USER_ID.
_NAMED_BY = (
    ("comments", "author_id"),
    ("tasks", "created_by"),
    ("boards", "created_by"),
    ("webhooks", "created_by"),
    ("recurrences", "created_by"),
    ("invitations", "created_by"),
    ("attachments", "uploaded_by"),
    ("trash", "deleted_by"),
    ("board_trash", "deleted_by"),
)


def _without(
    conn: sqlite3.Connection, table: str, key: str, column: str, user_id: str, rows: list[sqlite3.Row]
) -> None:
    for row in rows:
        values = [value for value in json.loads(row[column]) if value != user_id]
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (json.dumps(values), row[key]))


class SQLiteAccounts(SQLiteStoreBase):
    @writes
    def update_user_email(self, conn: sqlite3.Connection, user_id: str, email: str, at: str) -> User | None:
        email = email.lower()
        other = conn.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()
        if other is not None and other[0] != user_id:
            raise EmailTaken(email)
        conn.execute("UPDATE users SET email = ?, updated_at = ? WHERE id = ?", (email, at, user_id))
        return USER_ROWS.find_one(conn, "users", "id = ?", (user_id,))

    @reads
    def user_records(self, conn: sqlite3.Connection, user_id: str) -> UserRecords:
        tasks = conn.execute(
            f"SELECT {TASK_ROWS.columns} FROM tasks WHERE created_by = ? "
            "OR id IN (SELECT task_id FROM task_assignees WHERE user_id = ?) ORDER BY board_id, id",
            (user_id, user_id),
        ).fetchall()
        comments = conn.execute(
            f"SELECT {COMMENT_ROWS.columns} FROM comments WHERE author_id = ? ORDER BY id", (user_id,)
        ).fetchall()
        notifications = conn.execute(
            f"SELECT {NOTIFICATION_ROWS.columns} FROM notifications WHERE user_id = ? ORDER BY id", (user_id,)
        ).fetchall()
        return UserRecords(
            tasks=[TASK_ROWS.record(row) for row in tasks],
            comments=[COMMENT_ROWS.record(row) for row in comments],
            notifications=[NOTIFICATION_ROWS.record(row) for row in notifications],
        )

    @writes
    def erase_user(self, conn: sqlite3.Connection, user_id: str, email: str, name: str, board_ids: list[str]) -> None:
        email = email.lower()
        # A trashed board the user shared stays for its other members: read before the
        # user's trashed memberships go with the rest of their rows.
        trashed = conn.execute("SELECT board_id FROM trashed_members WHERE user_id = ?", (user_id,)).fetchall()
        board_ids = [*board_ids, *(row["board_id"] for row in trashed)]
        for table in _OWN_ROWS:
            conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
        # Before the events' actor is renamed: an email is the user's doing unless its event
        # (still logged) is someone else's of the same name.
        conn.execute(
            "UPDATE mail_outbox SET data = json_set(data, '$.actor_name', ?) "
            "WHERE json_extract(data, '$.actor_name') = ? AND NOT EXISTS (SELECT 1 FROM events "
            "WHERE events.board_id = json_extract(mail_outbox.data, '$.board_id') "
            "AND events.seq = json_extract(mail_outbox.data, '$.seq') AND events.actor != ?)",
            (DELETED_USER_NAME, name, user_id),
        )
        conn.execute("DELETE FROM schedule_marks WHERE instr(key, ?) > 0", (user_id,))
        conn.execute(
            "DELETE FROM invitations WHERE created_by = ? AND accepted_at IS NULL AND revoked_at IS NULL", (user_id,)
        )
        conn.execute(
            "UPDATE invitations SET accepted_by = ?, email = '' WHERE accepted_by = ?", (DELETED_USER_ID, user_id)
        )
        for table, column in _NAMED_BY:
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (DELETED_USER_ID, user_id))
        trashed = conn.execute(
            "SELECT id, task, comments FROM trash WHERE task LIKE ?1 OR comments LIKE ?1 OR lower(task) LIKE ?2 "
            "OR lower(comments) LIKE ?2",
            (f"%{user_id}%", f"%{email}%"),
        ).fetchall()
        for row in trashed:
            task, comments = (
                json.dumps(scrub_kept(json.loads(row[column]), user_id, email)) for column in ("task", "comments")
            )
            conn.execute("UPDATE trash SET task = ?, comments = ? WHERE id = ?", (task, comments, row["id"]))
        conn.execute(
            "UPDATE notifications SET actor = ?, actor_name = ? WHERE actor = ?",
            (DELETED_USER_ID, DELETED_USER_NAME, user_id),
        )
        pattern = f'%"{user_id}"%'
        _without(
            conn,
            "comments",
            "id",
            "mentions",
            user_id,
            conn.execute("SELECT id, mentions FROM comments WHERE mentions LIKE ?", (pattern,)).fetchall(),
        )
        assigned = conn.execute(
            "SELECT id, assignees FROM tasks WHERE id IN (SELECT task_id FROM task_assignees WHERE user_id = ?)",
            (user_id,),
        ).fetchall()
        _without(conn, "tasks", "id", "assignees", user_id, assigned)
        conn.execute("DELETE FROM task_assignees WHERE user_id = ?", (user_id,))
        conn.execute("UPDATE events SET actor = ? WHERE actor = ?", (DELETED_USER_ID, user_id))
        for board_id in board_ids:
            rows = conn.execute(
                "SELECT seq, data FROM events WHERE board_id = ? AND (data LIKE ? OR lower(data) LIKE ?)",
                (board_id, f"%{user_id}%", f"%{email}%"),
            ).fetchall()
            for row in rows:
                data = json.dumps(scrub(json.loads(row["data"]), user_id, email))
                conn.execute("UPDATE events SET data = ? WHERE board_id = ? AND seq = ?", (data, board_id, row["seq"]))
        conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
