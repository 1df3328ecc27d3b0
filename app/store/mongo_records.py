"""MongoDB documents <-> domain records, with the type checks that stop operator injection.

Every value that reaches a filter or a document passes through one of the ``want_*``
checks first: a dict handed in where a string belongs would otherwise become a query
operator (``{"$ne": ""}``), so the adapter refuses it at its edge with TypeError.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from app.domain.clock import parse_time
from app.domain.models import (
    NO_DUE_DATE_KEY,
    PRIORITY_RANK,
    Board,
    Event,
    EventDraft,
    Member,
    Notification,
    NotificationType,
    Priority,
    RefreshToken,
    Role,
    Task,
    User,
)

Document = dict[str, Any]


def want_str(value: object, name: str) -> str:
    # str() turns a StrEnum into its plain value, so documents hold plain strings only.
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    return str(value)


def want_optional_str(value: object, name: str) -> str | None:
    return None if value is None else want_str(value, name)


def want_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    return int(value)


def want_page_size(limit: int) -> int:
    # MongoDB reads limit(0) as "no limit", so zero must never reach the driver.
    size = want_int(limit, "limit")
    if size < 0:
        raise ValueError("limit must not be negative")
    return size


def want_str_list(values: object, name: str) -> list[str]:
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of strings, not {type(values).__name__}")
    return [want_str(value, name) for value in values]


def member_key(board_id: str, user_id: str) -> str:
    """A member's _id: the pair itself, so a duplicate is refused by the primary key too."""
    return f"{want_str(board_id, 'board_id')}:{want_str(user_id, 'user_id')}"


# -- users and tokens -----------------------------------------------------------------


def user_doc(user: User) -> Document:
    return {
        "_id": want_str(user.id, "id"),
        "email": want_str(user.email, "email").lower(),
        "name": want_str(user.name, "name"),
        "password_hash": want_str(user.password_hash, "password_hash"),
        "created_at": want_str(user.created_at, "created_at"),
        "updated_at": want_str(user.updated_at, "updated_at"),
    }


def user_record(doc: Mapping[str, Any]) -> User:
    return User(
        id=doc["_id"],
        email=doc["email"],
        name=doc["name"],
        password_hash=doc["password_hash"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )


# Spent and expired tokens linger this long before the TTL monitor removes them, so a
# replay shortly after expiry is still recognised as reuse rather than as unknown.
TOKEN_RETENTION = timedelta(days=1)


def token_doc(token: RefreshToken) -> Document:
    expires_at = want_str(token.expires_at, "expires_at")
    return {
        "_id": want_str(token.token_hash, "token_hash"),
        "user_id": want_str(token.user_id, "user_id"),
        "family_id": want_str(token.family_id, "family_id"),
        "created_at": want_str(token.created_at, "created_at"),
        "expires_at": expires_at,
        "used_at": want_optional_str(token.used_at, "used_at"),
        "revoked": bool(token.revoked),
        # A BSON date only for the TTL index; the record keeps the ISO string.
        "purge_after": parse_time(expires_at) + TOKEN_RETENTION,
    }


def token_record(doc: Mapping[str, Any]) -> RefreshToken:
    return RefreshToken(
        token_hash=doc["_id"],
        user_id=doc["user_id"],
        family_id=doc["family_id"],
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
        used_at=doc.get("used_at"),
        revoked=bool(doc.get("revoked", False)),
    )


# -- boards and members -----------------------------------------------------------------


def board_doc(board: Board) -> Document:
    return {
        "_id": want_str(board.id, "id"),
        "created_by": want_str(board.created_by, "created_by"),
        "created_at": want_str(board.created_at, "created_at"),
        "seq": want_int(board.seq, "seq"),
        **board_profile(board),
    }


def board_profile(board: Board) -> Document:
    """The fields ``update_board`` replaces."""
    return {
        "name": want_str(board.name, "name"),
        "description": want_str(board.description, "description"),
        "columns": want_str_list(board.columns, "columns"),
        "updated_at": want_str(board.updated_at, "updated_at"),
    }


def board_record(doc: Mapping[str, Any]) -> Board:
    return Board(
        id=doc["_id"],
        name=doc["name"],
        description=doc["description"],
        columns=list(doc["columns"]),
        created_by=doc["created_by"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        seq=int(doc.get("seq", 0)),
    )


def member_doc(member: Member) -> Document:
    return {
        "_id": member_key(member.board_id, member.user_id),
        "board_id": str(member.board_id),
        "user_id": str(member.user_id),
        "role": Role(want_str(member.role, "role")).value,
        "added_at": want_str(member.added_at, "added_at"),
    }


def member_record(doc: Mapping[str, Any], user: Mapping[str, Any] | None = None) -> Member:
    return Member(
        board_id=doc["board_id"],
        user_id=doc["user_id"],
        role=Role(doc["role"]),
        added_at=doc["added_at"],
        email=user["email"] if user else "",
        name=user["name"] if user else "",
    )


# -- tasks and events -------------------------------------------------------------------


def task_doc(task: Task) -> Document:
    priority = Priority(want_str(task.priority, "priority"))
    due_at = want_optional_str(task.due_at, "due_at")
    return {
        "_id": want_str(task.id, "id"),
        "board_id": want_str(task.board_id, "board_id"),
        "title": want_str(task.title, "title"),
        "description": want_str(task.description, "description"),
        "status": want_str(task.status, "status"),
        "priority": priority.value,
        "assignees": want_str_list(task.assignees, "assignees"),
        "labels": want_str_list(task.labels, "labels"),
        "due_at": due_at,
        "position": want_str(task.position, "position"),
        "created_by": want_str(task.created_by, "created_by"),
        "created_at": want_str(task.created_at, "created_at"),
        "updated_at": want_str(task.updated_at, "updated_at"),
        "version": want_int(task.version, "version"),
        # Sort keys stored beside the task so that every sort of list_tasks is an index scan.
        "priority_rank": PRIORITY_RANK[priority],
        "due_key": due_at or NO_DUE_DATE_KEY,
    }


def task_record(doc: Mapping[str, Any]) -> Task:
    return Task(
        id=doc["_id"],
        board_id=doc["board_id"],
        title=doc["title"],
        description=doc["description"],
        status=doc["status"],
        priority=Priority(doc["priority"]),
        assignees=list(doc["assignees"]),
        labels=list(doc["labels"]),
        due_at=doc.get("due_at"),
        position=doc["position"],
        created_by=doc["created_by"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        version=int(doc["version"]),
    )


def checked_draft(draft: EventDraft) -> EventDraft:
    if not isinstance(draft.data, dict):
        raise TypeError(f"event data must be a dict, not {type(draft.data).__name__}")
    return EventDraft(
        type=want_str(draft.type, "event type"),
        actor=want_str(draft.actor, "actor"),
        at=want_str(draft.at, "at"),
        # The caller may keep mutating its dict; the log must hold the data as it was.
        data=copy.deepcopy(draft.data),
        client_mutation_id=want_optional_str(draft.client_mutation_id, "client_mutation_id"),
        notify=[dataclasses.replace(notice, data=copy.deepcopy(notice.data)) for notice in draft.notify],
    )


def event_doc(board_id: str, seq: int, draft: EventDraft) -> Document:
    return {
        "board_id": board_id,
        "seq": seq,
        "type": draft.type,
        "actor": draft.actor,
        "at": draft.at,
        "data": draft.data,
        # Absent rather than null when unset, so events logged before it existed read alike.
        **({"client_mutation_id": draft.client_mutation_id} if draft.client_mutation_id is not None else {}),
    }


def event_record(doc: Mapping[str, Any]) -> Event:
    return Event(
        board_id=doc["board_id"],
        seq=int(doc["seq"]),
        type=doc["type"],
        actor=doc["actor"],
        at=doc["at"],
        data=doc["data"],  # fresh from the driver, or the draft's own copy (checked_draft)
        client_mutation_id=doc.get("client_mutation_id"),
    )


# -- notifications ------------------------------------------------------------------------


def notification_doc(notification: Notification) -> Document:
    if not isinstance(notification.data, dict):
        raise TypeError(f"notification data must be a dict, not {type(notification.data).__name__}")
    return {
        "_id": want_str(notification.id, "id"),
        "user_id": want_str(notification.user_id, "user_id"),
        "type": NotificationType(want_str(notification.type, "type")).value,
        "board_id": want_str(notification.board_id, "board_id"),
        "board_name": want_str(notification.board_name, "board_name"),
        "actor": want_str(notification.actor, "actor"),
        "actor_name": want_str(notification.actor_name, "actor_name"),
        "at": want_str(notification.at, "at"),
        "seq": want_int(notification.seq, "seq"),
        "task_id": want_optional_str(notification.task_id, "task_id"),
        "comment_id": want_optional_str(notification.comment_id, "comment_id"),
        "data": copy.deepcopy(notification.data),
        "read_at": want_optional_str(notification.read_at, "read_at"),
    }


def notification_record(doc: Mapping[str, Any]) -> Notification:
    return Notification(
        id=doc["_id"],
        user_id=doc["user_id"],
        type=NotificationType(doc["type"]),
        board_id=doc["board_id"],
        board_name=doc["board_name"],
        actor=doc["actor"],
        actor_name=doc["actor_name"],
        at=doc["at"],
        seq=int(doc["seq"]),
        data=dict(doc["data"]),
        task_id=doc.get("task_id"),
        comment_id=doc.get("comment_id"),
        read_at=doc.get("read_at"),
    )
