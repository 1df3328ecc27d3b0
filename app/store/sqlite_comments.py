"""SQLite bodies of the comment use cases (see ``SQLiteStore``).

A comment write and its event share one transaction, like every other board change.
"""

from __future__ import annotations

import sqlite3

from app.domain.models import Comment, Event, EventDraft
from app.jsonutil import dumps, loads
from app.store.base import NotFound
from app.store.sqlite_records import append_event

_COLUMNS = "id, board_id, task_id, author_id, body, mentions, created_at, updated_at"


def _comment_from_row(row: sqlite3.Row) -> Comment:
    return Comment(
        id=row["id"],
        board_id=row["board_id"],
        task_id=row["task_id"],
        author_id=row["author_id"],
        body=row["body"],
        mentions=loads(row["mentions"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def create_comment(conn: sqlite3.Connection, comment: Comment, draft: EventDraft) -> Event:
    # Checked under the write lock: a task deleted a moment ago cannot gain a comment.
    task = conn.execute("SELECT board_id FROM tasks WHERE id = ?", (comment.task_id,)).fetchone()
    if task is None or task["board_id"] != comment.board_id:
        raise NotFound(f"task {comment.task_id}")
    event = append_event(conn, comment.board_id, draft)
    conn.execute(
        f"INSERT INTO comments ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (comment.id, comment.board_id, comment.task_id, comment.author_id, comment.body,
         dumps(list(comment.mentions)), comment.created_at, comment.updated_at),
    )
    return event


def get_comment(conn: sqlite3.Connection, comment_id: str) -> Comment | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM comments WHERE id = ?", (comment_id,)).fetchone()
    return None if row is None else _comment_from_row(row)


def list_comments(conn: sqlite3.Connection, task_id: str, after_comment_id: str | None, limit: int) -> list[Comment]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM comments WHERE task_id = ? AND id > ? ORDER BY id LIMIT ?",
        (task_id, after_comment_id or "", limit),
    ).fetchall()
    return [_comment_from_row(row) for row in rows]


def update_comment(conn: sqlite3.Connection, comment: Comment, draft: EventDraft) -> Event:
    row = conn.execute(
        "UPDATE comments SET body = ?, mentions = ?, updated_at = ? WHERE id = ? RETURNING board_id",
        (comment.body, dumps(list(comment.mentions)), comment.updated_at, comment.id),
    ).fetchone()
    if row is None:
        raise NotFound(f"comment {comment.id}")
    return append_event(conn, row["board_id"], draft)


def delete_comment(conn: sqlite3.Connection, comment_id: str, draft: EventDraft) -> Event:
    row = conn.execute("DELETE FROM comments WHERE id = ? RETURNING board_id", (comment_id,)).fetchone()
    if row is None:
        raise NotFound(f"comment {comment_id}")
    return append_event(conn, row["board_id"], draft)
