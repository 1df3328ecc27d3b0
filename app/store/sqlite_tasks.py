"""SQLite bodies of the task and event use cases, and the one task list query.

Each function takes the connection of the thread it runs on and is run inside one
transaction by ``SQLiteStore``; raising rolls the whole use case back.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from typing import Any

from app.domain.models import (
    Event,
    EventDraft,
    Task,
    TaskPage,
    TaskPageRequest,
    TaskSort,
    sort_is_descending,
)
from app.store.base import NotFound, VersionConflict
from app.store.sqlite_records import (
    EVENT_COLUMNS,
    TASK_COLUMNS,
    append_event,
    event_from_row,
    task_from_row,
    task_params,
)

_TASK_FIELDS = (
    "id, board_id, title, description, status, priority, priority_rank, assignees, labels,"
    " due_at, due_key, position, created_by, created_at, updated_at, version"
)
_TASK_VALUES = ", ".join(f":{name.strip()}" for name in _TASK_FIELDS.split(","))
# board_id and id are not replaced: a task never changes board.
_TASK_ASSIGNMENTS = ", ".join(
    f"{name} = :{name}" for name in (field.strip() for field in _TASK_FIELDS.split(",")) if name not in ("id", "board_id")
)

# Each sort's column; every one has a (board_id, column, id) index. Identifiers from
# this table are the only text ever formatted into a task query.
_SORT_COLUMNS = {
    TaskSort.POSITION: "position",
    TaskSort.CREATED_DESC: "created_at",
    TaskSort.UPDATED_DESC: "updated_at",
    TaskSort.DUE_AT: "due_key",
    TaskSort.PRIORITY: "priority_rank",
}

# What unicode61 indexes as a token: runs of letters and digits.
_WORD = re.compile(r"[^\W_]+")


def fts_query(text: str) -> str | None:
    """The user's text as an FTS5 query: every word quoted (so nothing in it is FTS
    syntax), all words required, the last one as a prefix. None when it has no words."""
    words = _WORD.findall(text)
    if not words:
        return None
    terms = [f'"{word}"' for word in words]
    terms[-1] += "*"
    return " AND ".join(terms)


def get_task(conn: sqlite3.Connection, task_id: str) -> Task | None:
    row = conn.execute(f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = ?", (task_id,)).fetchone()
    return None if row is None else task_from_row(row)


def _save_tags(conn: sqlite3.Connection, task: Task) -> None:
    conn.execute("DELETE FROM task_assignees WHERE task_id = ?", (task.id,))
    conn.execute("DELETE FROM task_labels WHERE task_id = ?", (task.id,))
    conn.executemany(
        "INSERT OR IGNORE INTO task_assignees (board_id, user_id, task_id) VALUES (?, ?, ?)",
        [(task.board_id, user_id, task.id) for user_id in task.assignees],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO task_labels (board_id, label, task_id) VALUES (?, ?, ?)",
        [(task.board_id, label, task.id) for label in task.labels],
    )


def create_task(conn: sqlite3.Connection, task: Task, draft: EventDraft) -> Event:
    event = append_event(conn, task.board_id, draft)
    conn.execute(f"INSERT INTO tasks ({_TASK_FIELDS}) VALUES ({_TASK_VALUES})", task_params(task))
    _save_tags(conn, task)
    return event


def update_task(conn: sqlite3.Connection, task: Task, expected_version: int, draft: EventDraft) -> Event:
    params = {**task_params(task), "expected_version": expected_version}
    row = conn.execute(
        f"UPDATE tasks SET {_TASK_ASSIGNMENTS} WHERE id = :id AND version = :expected_version RETURNING board_id",
        params,
    ).fetchone()
    if row is None:
        current = get_task(conn, task.id)
        if current is None:
            raise NotFound(f"task {task.id}")
        raise VersionConflict(current)
    _save_tags(conn, dataclasses.replace(task, board_id=row["board_id"]))
    return append_event(conn, row["board_id"], draft)


def delete_task(conn: sqlite3.Connection, task_id: str, expected_version: int | None, draft: EventDraft) -> Event:
    current = get_task(conn, task_id)
    if current is None:
        raise NotFound(f"task {task_id}")
    if expected_version is not None and current.version != expected_version:
        raise VersionConflict(current)
    # Explicit, like delete_board: not left to the foreign-key cascade alone.
    conn.execute("DELETE FROM comments WHERE task_id = ?", (task_id,))
    conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
    return append_event(conn, current.board_id, draft)


def last_position(conn: sqlite3.Connection, board_id: str, status: str) -> str | None:
    row = conn.execute(
        "SELECT max(position) FROM tasks WHERE board_id = ? AND status = ?", (board_id, status)
    ).fetchone()
    return row[0]


def _filters(request: TaskPageRequest) -> tuple[list[str], list[Any]]:
    wanted = request.filter
    clauses, params = ["t.board_id = ?"], [request.board_id]
    if wanted.status is not None:
        clauses.append("t.status = ?")
        params.append(wanted.status)
    if wanted.assignee is not None:
        clauses.append("t.id IN (SELECT task_id FROM task_assignees WHERE board_id = ? AND user_id = ?)")
        params += [request.board_id, wanted.assignee]
    if wanted.label is not None:
        clauses.append("t.id IN (SELECT task_id FROM task_labels WHERE board_id = ? AND label = ?)")
        params += [request.board_id, wanted.label]
    if wanted.text is not None:
        match = fts_query(wanted.text)
        # Text without a single word cannot match any task (as in MongoDB's $text).
        clauses.append("0" if match is None else "t.rid IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ?)")
        params += [] if match is None else [match]
    return clauses, params


def list_tasks(conn: sqlite3.Connection, request: TaskPageRequest) -> TaskPage:
    """Two queries at most (the page, the total), whatever the page size."""
    clauses, params = _filters(request)
    where = " AND ".join(clauses)
    total = None
    if request.include_total:
        total = conn.execute(f"SELECT count(*) FROM tasks t WHERE {where}", params).fetchone()[0]
    column = _SORT_COLUMNS[TaskSort(request.sort)]
    direction, beyond = ("DESC", "<") if sort_is_descending(request.sort) else ("ASC", ">")
    page_params = list(params)
    if request.after is not None:
        where += f" AND (t.{column}, t.id) {beyond} (?, ?)"
        page_params += [request.after[0], request.after[1]]
    rows = conn.execute(
        f"SELECT {TASK_COLUMNS} FROM tasks t WHERE {where}"
        f" ORDER BY t.{column} {direction}, t.id {direction} LIMIT ?",
        [*page_params, request.limit + 1],
    ).fetchall()
    items = [task_from_row(row) for row in rows[: request.limit]]
    return TaskPage(items=items, has_more=len(rows) > request.limit, total=total)


def list_events(conn: sqlite3.Connection, board_id: str, after_seq: int, limit: int) -> list[Event]:
    rows = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE board_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        (board_id, after_seq, limit),
    ).fetchall()
    return [event_from_row(row) for row in rows]
