"""The public JSON shape of each record (docs/design.md "Public contract, v1"), used by the REST
API, event data and WebSocket messages alike, so that the three never disagree.
"""

from __future__ import annotations

from typing import Any

from app.domain.models import ApiToken, Board, Comment, Event, Member, Notification, Role, Task, User


def user_view(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "created_at": user.created_at}


def board_view(board: Board, role: Role | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": board.id,
        "name": board.name,
        "description": board.description,
        "columns": list(board.columns),
        "created_by": board.created_by,
        "created_at": board.created_at,
        "updated_at": board.updated_at,
        "seq": board.seq,
    }
    if role is not None:
        view["role"] = role.value
    return view


def member_view(member: Member) -> dict[str, Any]:
    return {
        "board_id": member.board_id,
        "user_id": member.user_id,
        "role": member.role.value,
        "email": member.email,
        "name": member.name,
        "added_at": member.added_at,
    }


def task_view(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "board_id": task.board_id,
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "priority": task.priority.value,
        "assignees": list(task.assignees),
        "labels": list(task.labels),
        "due_at": task.due_at,
        "position": task.position,
        "created_by": task.created_by,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "version": task.version,
    }


def event_view(event: Event) -> dict[str, Any]:
    view = {
        "board_id": event.board_id,
        "seq": event.seq,
        "type": event.type,
        "actor": event.actor,
        "at": event.at,
        "data": event.data,
    }
    return _with_client_mutation_id(view, event)


def event_message(event: Event) -> dict[str, Any]:
    """The WebSocket ``event`` message for an event."""
    message = {
        "type": "event",
        "board": event.board_id,
        "seq": event.seq,
        "event": event.type,
        "actor": event.actor,
        "at": event.at,
        "data": event.data,
    }
    return _with_client_mutation_id(message, event)


def _with_client_mutation_id(view: dict[str, Any], event: Event) -> dict[str, Any]:
    # Only present when the writing request sent one: older clients see the v1 shape unchanged.
    if event.client_mutation_id is not None:
        view["client_mutation_id"] = event.client_mutation_id
    return view


def comment_view(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "board_id": comment.board_id,
        "task_id": comment.task_id,
        "author_id": comment.author_id,
        "body": comment.body,
        "mentions": list(comment.mentions),
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
    }


def api_token_view(token: ApiToken) -> dict[str, Any]:
    """A token as its owner may list it: never the secret nor its hash."""
    return {
        "id": token.id,
        "name": token.name,
        "scopes": list(token.scopes),
        "boards": None if token.board_ids is None else list(token.board_ids),
        "prefix": token.prefix,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
    }


def notification_view(notification: Notification) -> dict[str, Any]:
    """One notification, the same over REST and in the WebSocket ``notification`` message."""
    return {
        "id": notification.id,
        "type": notification.type.value,
        "board_id": notification.board_id,
        "board_name": notification.board_name,
        "task_id": notification.task_id,
        "comment_id": notification.comment_id,
        "actor": {"id": notification.actor, "name": notification.actor_name},
        "at": notification.at,
        "read_at": notification.read_at,
        "seq": notification.seq,
        "data": dict(notification.data),
    }


def notification_message(notification: Notification) -> dict[str, Any]:
    """The WebSocket ``notification`` message, published on the user's channel."""
    return {"type": "notification", "notification": notification_view(notification)}
