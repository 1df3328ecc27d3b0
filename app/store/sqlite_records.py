"""Rows to domain records and back."""

from __future__ import annotations

import sqlite3
from typing import Any

from app.domain.models import (
    NO_DUE_DATE_KEY,
    PRIORITY_RANK,
    Board,
    Event,
    Member,
    Notification,
    NotificationType,
    Priority,
    RefreshToken,
    Role,
    Task,
    User,
)
from app.jsonutil import dumps, loads

USER_COLUMNS = "id, email, name, password_hash, created_at, updated_at"
TOKEN_COLUMNS = "token_hash, user_id, family_id, created_at, expires_at, used_at, revoked"
BOARD_COLUMNS = "b.id, b.name, b.description, b.columns, b.created_by, b.created_at, b.updated_at, b.seq"
MEMBER_COLUMNS = "m.board_id, m.user_id, m.role, m.added_at"
TASK_COLUMNS = (
    "t.id, t.board_id, t.title, t.description, t.status, t.priority, t.assignees, t.labels,"
    " t.due_at, t.position, t.created_by, t.created_at, t.updated_at, t.version"
)
EVENT_COLUMNS = "board_id, seq, type, actor, at, data, client_mutation_id"
NOTIFICATION_COLUMNS = (
    "id, user_id, type, board_id, board_name, actor, actor_name, at, seq, task_id, comment_id, data, read_at"
)


def user_from_row(row: sqlite3.Row) -> User:
    return User(**dict(row))


def token_from_row(row: sqlite3.Row) -> RefreshToken:
    return RefreshToken(**{**dict(row), "revoked": bool(row["revoked"])})


def board_from_row(row: sqlite3.Row) -> Board:
    return Board(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        columns=loads(row["columns"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        seq=row["seq"],
    )


def member_from_row(row: sqlite3.Row) -> Member:
    # email and name come from a join with users, only present when listing.
    profile = {key: row[key] or "" for key in ("email", "name") if key in row.keys()}  # noqa: SIM118 (`in row` tests values)
    return Member(
        board_id=row["board_id"],
        user_id=row["user_id"],
        role=Role(row["role"]),
        added_at=row["added_at"],
        **profile,
    )


def task_from_row(row: sqlite3.Row) -> Task:
    return Task(
        id=row["id"],
        board_id=row["board_id"],
        title=row["title"],
        description=row["description"],
        status=row["status"],
        priority=Priority(row["priority"]),
        assignees=loads(row["assignees"]),
        labels=loads(row["labels"]),
        due_at=row["due_at"],
        position=row["position"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


def task_params(task: Task) -> dict[str, Any]:
    """Named parameters for the tasks table, including the derived sort keys."""
    priority = Priority(task.priority)
    return {
        "id": task.id,
        "board_id": task.board_id,
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "priority": priority.value,
        "priority_rank": PRIORITY_RANK[priority],
        "assignees": dumps(list(task.assignees)),
        "labels": dumps(list(task.labels)),
        "due_at": task.due_at,
        "due_key": task.due_at or NO_DUE_DATE_KEY,
        "position": task.position,
        "created_by": task.created_by,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "version": task.version,
    }


def event_from_row(row: sqlite3.Row) -> Event:
    return Event(
        board_id=row["board_id"],
        seq=row["seq"],
        type=row["type"],
        actor=row["actor"],
        at=row["at"],
        data=loads(row["data"]),
        client_mutation_id=row["client_mutation_id"],
    )


def notification_from_row(row: sqlite3.Row) -> Notification:
    return Notification(
        id=row["id"],
        user_id=row["user_id"],
        type=NotificationType(row["type"]),
        board_id=row["board_id"],
        board_name=row["board_name"],
        actor=row["actor"],
        actor_name=row["actor_name"],
        at=row["at"],
        seq=row["seq"],
        data=loads(row["data"]),
        task_id=row["task_id"],
        comment_id=row["comment_id"],
        read_at=row["read_at"],
    )
