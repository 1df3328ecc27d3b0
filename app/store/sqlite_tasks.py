"""Tasks, for SQLiteStore, and the one task list query."""

from __future__ import annotations

import dataclasses
import json
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
    stored_sort_keys,
)
from app.store.base import NewTaskPlace, NotFound, TaskAccess, VersionConflict
from app.store.sqlite_attachments import delete_attachments
from app.store.sqlite_boards import board_of, member_of
from app.store.sqlite_events import append_event
from app.store.sqlite_mail import watches_of
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows

TASK_ROWS = Rows(Task)
TASK_COLUMNS = TASK_ROWS.qualified("t")

# The task's own fields and the sort keys stored beside them (stored_sort_keys).
_TASK_FIELDS = ", ".join((*TASK_ROWS.names, "priority_rank", "due_key"))
_TASK_VALUES = ", ".join(f":{name.strip()}" for name in _TASK_FIELDS.split(","))
# board_id and id are not replaced: a task never changes board.
_TASK_ASSIGNMENTS = ", ".join(
    f"{name} = :{name}"
    for name in (field.strip() for field in _TASK_FIELDS.split(","))
    if name not in ("id", "board_id")
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


# A prefix this short is the start of most words: FTS5 merges the postings of every word
# it starts, which costs as much as the search itself, so a probe leaves it out.
SHORT_PREFIX = 2


def fts_query(text: str, *, probe: bool = False) -> str | None:
    """The user's text as an FTS5 query: every word quoted (so nothing in it is FTS
    syntax), all words required, the last one as a prefix. None when it has no words.
    With ``probe``, a last word of at most SHORT_PREFIX letters is left out (so the query
    may match more tasks than the text does), and None when nothing is left."""
    words = _WORD.findall(text)
    if not words:
        return None
    *whole, last = words
    terms = [f'"{word}"' for word in whole]
    if not (probe and len(last) <= SHORT_PREFIX):
        terms.append(f'"{last}"*')
    return " AND ".join(terms) or None


def _task_params(task: Task) -> dict[str, Any]:
    return {**TASK_ROWS.named(task), **stored_sort_keys(task)}


def _last_position(conn: sqlite3.Connection, board_id: str, status: str) -> str | None:
    row = conn.execute(
        "SELECT max(position) FROM tasks WHERE board_id = ? AND status = ?", (board_id, status)
    ).fetchone()
    position: str | None = row[0]
    return position


def insert_task(conn: sqlite3.Connection, task: Task) -> None:
    """Inside a write transaction that also appends the task's event."""
    conn.execute(f"INSERT INTO tasks ({_TASK_FIELDS}) VALUES ({_TASK_VALUES})", _task_params(task))
    _save_tags(conn, task)


def _task(conn: sqlite3.Connection, task_id: str) -> Task | None:
    return TASK_ROWS.one(conn, f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = ?", (task_id,))


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


# A set filter (text, label, assignee) matched by at most this many tasks of the board
# drives the query: those tasks are fetched by rowid and sorted. Above it, walking the
# sort's index and checking each task finds a page of matches within a few thousand
# steps. Either way a page costs about the same whatever the board's size; the walk alone
# read the whole board for a rare word or label (issue 13).
DRIVING_MATCHES = 1000


def _board_match(board_id: str, words: str) -> str:
    """The FTS5 query for ``words`` (see fts_query) within one board's tasks: the index
    holds each task's board id, so a common word never lists the other boards' matches."""
    quoted = '"' + board_id.replace('"', '""') + '"'
    return f"board_id : {quoted} AND {{title description}} : ({words})"


@dataclasses.dataclass(frozen=True, slots=True)
class _SetFilter:
    """A filter matching a set of the board's tasks: a statement listing their rowids
    (None: too costly to list), and the condition as a check on one task ``t``."""

    probe: str | None
    probe_params: list[Any]
    check: str
    check_params: list[Any]
    # False when the probe lists more tasks than the filter matches (a short prefix left out).
    exact: bool = True


def _set_filters(request: TaskPageRequest, match: str | None) -> list[_SetFilter]:
    wanted, board_id = request.filter, request.board_id
    found = []
    if wanted.text is not None and match is not None:
        probe = fts_query(wanted.text, probe=True)
        found.append(
            _SetFilter(
                None if probe is None else "SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ?",
                [] if probe is None else [_board_match(board_id, probe)],
                "t.rid IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ?)",
                [_board_match(board_id, match)],
                exact=probe == match,
            )
        )
    # Correlated checks, not IN lists: a walk stops at the page's end instead of first
    # listing every task of the board that has the label or the assignee.
    if wanted.label is not None:
        found.append(
            _SetFilter(
                "SELECT t.rid FROM task_labels l JOIN tasks t ON t.id = l.task_id WHERE l.board_id = ? AND l.label = ?",
                [board_id, wanted.label],
                "EXISTS (SELECT 1 FROM task_labels l WHERE l.board_id = t.board_id AND l.label = ? AND l.task_id = t.id)",
                [wanted.label],
            )
        )
    if wanted.assignee is not None:
        found.append(
            _SetFilter(
                "SELECT t.rid FROM task_assignees a JOIN tasks t ON t.id = a.task_id"
                " WHERE a.board_id = ? AND a.user_id = ?",
                [board_id, wanted.assignee],
                "EXISTS (SELECT 1 FROM task_assignees a"
                " WHERE a.board_id = t.board_id AND a.user_id = ? AND a.task_id = t.id)",
                [wanted.assignee],
            )
        )
    return found


def _driving(conn: sqlite3.Connection, filters: list[_SetFilter]) -> tuple[_SetFilter, list[int]] | None:
    """The set filter matching the fewest tasks with their rowids, if it matches at most
    DRIVING_MATCHES; None when every one matches more (or there is none)."""
    fewest: tuple[_SetFilter, list[int]] | None = None
    for candidate in filters:
        if candidate.probe is None:
            continue
        rows = conn.execute(f"{candidate.probe} LIMIT ?", [*candidate.probe_params, DRIVING_MATCHES + 1]).fetchall()
        if len(rows) <= DRIVING_MATCHES and (fewest is None or len(rows) < len(fewest[1])):
            fewest = candidate, [row[0] for row in rows]
    return fewest


def _where(
    request: TaskPageRequest,
    set_filters: list[_SetFilter],
    driver: tuple[_SetFilter, str, list[Any]] | None,
    rowids_drive: bool = True,
) -> tuple[str, list[Any]]:
    """The WHERE clause. With a ``driver`` (a set filter, and a statement listing the
    rowids it matches) that list drives, unless ``rowids_drive`` is false: then the
    planner chooses. Without one, the board's index for the sort does."""
    if driver is None:
        clauses, params = ["t.board_id = ?"], [request.board_id]
    else:
        # The unary + keeps the planner off the board's indexes.
        board = "+t.board_id = ?" if rowids_drive else "t.board_id = ?"
        clauses, params = [f"t.rid IN ({driver[1]})", board], [*driver[2], request.board_id]
    if request.filter.status is not None:
        clauses.append("t.status = ?")
        params.append(request.filter.status)
    clauses.append("t.archived_at IS NOT NULL" if request.filter.archived else "t.archived_at IS NULL")
    for set_filter in set_filters:
        if driver is None or set_filter is not driver[0] or not set_filter.exact:
            clauses.append(set_filter.check)
            params += set_filter.check_params
    return " AND ".join(clauses), params


def list_tasks(conn: sqlite3.Connection, request: TaskPageRequest) -> TaskPage:
    """A probe per set filter (at most DRIVING_MATCHES rows each), then the page and the total."""
    match = None if request.filter.text is None else fts_query(request.filter.text)
    if request.filter.text is not None and match is None:
        # Text without a single word cannot match any task (as in MongoDB's $text).
        return TaskPage(items=[], has_more=False, total=0 if request.include_total else None)
    set_filters = _set_filters(request, match)
    driving = _driving(conn, set_filters)
    page_driver = None if driving is None else (driving[0], "SELECT value FROM json_each(?)", [json.dumps(driving[1])])
    where, params = _where(request, set_filters, page_driver)
    total = None
    if request.include_total:
        count_where, count_params = where, params
        exact = [(f, f.probe, f.probe_params) for f in set_filters if f.exact and f.probe is not None]
        if page_driver is None and exact:
            # Every match is read anyway: one list of a set filter's matches checked
            # along the board's smallest index beats a check per task.
            count_where, count_params = _where(request, set_filters, exact[0], False)
        total = conn.execute(f"SELECT count(*) FROM tasks t WHERE {count_where}", count_params).fetchone()[0]
    column = _SORT_COLUMNS[TaskSort(request.sort)]
    direction, beyond = ("DESC", "<") if sort_is_descending(request.sort) else ("ASC", ">")
    page_params = list(params)
    if request.after is not None:
        where += f" AND (t.{column}, t.id) {beyond} (?, ?)"
        page_params += [request.after[0], request.after[1]]
    rows = conn.execute(
        f"SELECT {TASK_COLUMNS} FROM tasks t WHERE {where} ORDER BY t.{column} {direction}, t.id {direction} LIMIT ?",
        [*page_params, request.limit + 1],
    ).fetchall()
    items = [TASK_ROWS.record(row) for row in rows[: request.limit]]
    return TaskPage(items=items, has_more=len(rows) > request.limit, total=total)


class SQLiteTasks(SQLiteStoreBase):
    @reads
    def get_task(self, conn: sqlite3.Connection, task_id: str) -> Task | None:
        return _task(conn, task_id)

    @writes
    def create_task(self, conn: sqlite3.Connection, task: Task, event: EventDraft) -> Event:
        appended = append_event(conn, task.board_id, event)
        insert_task(conn, task)
        return appended

    @writes
    def update_task(self, conn: sqlite3.Connection, task: Task, expected_version: int, event: EventDraft) -> Event:
        params = {**_task_params(task), "expected_version": expected_version}
        row = conn.execute(
            f"UPDATE tasks SET {_TASK_ASSIGNMENTS} WHERE id = :id AND version = :expected_version RETURNING board_id",
            params,
        ).fetchone()
        if row is None:
            current = _task(conn, task.id)
            if current is None:
                raise NotFound(f"task {task.id}")
            raise VersionConflict(current)
        _save_tags(conn, dataclasses.replace(task, board_id=row["board_id"]))
        return append_event(conn, row["board_id"], event)

    @writes
    def delete_task(
        self, conn: sqlite3.Connection, task_id: str, expected_version: int | None, event: EventDraft
    ) -> Event:
        current = _task(conn, task_id)
        if current is None:
            raise NotFound(f"task {task_id}")
        if expected_version is not None and current.version != expected_version:
            raise VersionConflict(current)
        # Explicit, like delete_board: not left to the foreign-key cascade alone.
        conn.execute("DELETE FROM comments WHERE task_id = ?", (task_id,))
        delete_attachments(conn, "task_id", task_id)
        conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
        return append_event(conn, current.board_id, event)

    @reads
    def last_position(self, conn: sqlite3.Connection, board_id: str, status: str) -> str | None:
        return _last_position(conn, board_id, status)

    @reads
    def get_task_access(self, conn: sqlite3.Connection, task_id: str, user_id: str, with_board: bool) -> TaskAccess:
        task = _task(conn, task_id)
        if task is None:
            return TaskAccess(None)
        if not with_board:
            return TaskAccess(task, member_of(conn, task.board_id, user_id))
        watches = tuple(watches_of(conn, task.board_id, task.id))
        return TaskAccess(task, member_of(conn, task.board_id, user_id), board_of(conn, task.board_id), watches)

    @reads
    def get_new_task_place(
        self, conn: sqlite3.Connection, board_id: str, user_id: str, status: str | None
    ) -> NewTaskPlace:
        board = board_of(conn, board_id)
        column = status if status is not None or board is None else board.columns[0]
        last = _last_position(conn, board_id, column) if column is not None else None
        return NewTaskPlace(member_of(conn, board_id, user_id), board, last, tuple(watches_of(conn, board_id, None)))

    @reads
    def list_tasks(self, conn: sqlite3.Connection, request: TaskPageRequest) -> TaskPage:
        # The query is the module's list_tasks, which the plan tests and bench/growth.py also
        # run on a connection of their own.
        return list_tasks(conn, request)
