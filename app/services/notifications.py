"""The personal notification channel: who is told what, and a user's own list.

A notification is made for a user newly assigned to a task, newly @mentioned in a comment,
or added to a board, never for what they did themselves. The services that make those
changes put the notices on the event draft (``EventDraft.notify``), so the store writes them
in the same write as the event; the publisher then sends each on its user's channel.

Only the owner ever sees or marks a notification; an API token limited to some boards sees
only those boards' (``NotificationScope``).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from app.domain import clock
from app.domain.errors import NotFoundError
from app.domain.ids import new_id
from app.domain.models import (
    Board,
    Comment,
    Member,
    Notification,
    NotificationDraft,
    NotificationScope,
    NotificationType,
    Task,
    User,
)
from app.domain.request_context import current_token_limits
from app.services.wiring import service
from app.store.base import NotificationStore

EXCERPT_CHARS = 140


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def notices_for(
    actor: User,
    board: Board,
    kind: NotificationType,
    user_ids: Iterable[str],
    before: Iterable[str],
    data: dict[str, Any],
    task_id: str | None = None,
    comment_id: str | None = None,
) -> list[NotificationDraft]:
    """A notice of ``kind`` for each of ``user_ids`` newly added: not among ``before``, nor the actor."""
    seen = set(before) | {actor.id}
    return [
        NotificationDraft(
            id=new_id(),
            user_id=user_id,
            type=kind,
            board_name=board.name,
            actor_name=actor.name,
            data=dict(data),
            task_id=task_id,
            comment_id=comment_id,
        )
        for user_id in dict.fromkeys(user_ids)
        if user_id not in seen
    ]


def assignment_notices(
    actor: User, board: Board, task: Task, assigned_before: Iterable[str]
) -> list[NotificationDraft]:
    data = {"task_title": task.title}
    return notices_for(actor, board, NotificationType.TASK_ASSIGNED, task.assignees, assigned_before, data, task.id)


def mention_notices(
    actor: User, board: Board, task: Task, comment: Comment, mentioned_before: Iterable[str]
) -> list[NotificationDraft]:
    data = {"task_title": task.title, "excerpt": excerpt(comment.body)}
    kind = NotificationType.COMMENT_MENTIONED
    return notices_for(actor, board, kind, comment.mentions, mentioned_before, data, task.id, comment.id)


def member_added_notices(actor: User, board: Board, member: Member) -> list[NotificationDraft]:
    return notices_for(actor, board, NotificationType.MEMBER_ADDED, [member.user_id], (), {"role": member.role.value})


def notification_not_found() -> NotFoundError:
    return NotFoundError("notification_not_found", "No such notification.")


def caller_scope(user: User) -> NotificationScope:
    """The caller's own notifications, narrowed to their API token's boards if it names some."""
    limits = current_token_limits()
    return NotificationScope(user.id, None if limits is None else limits.board_ids)


@service
class NotificationService:
    _store: NotificationStore

    async def list(
        self, user: User, unread_only: bool, before_id: str | None, limit: int
    ) -> tuple[list[Notification], bool, int]:
        """One page newest first, whether another follows, and the unread count."""
        scope = caller_scope(user)
        items = await self._store.list_notifications(scope, unread_only, before_id, limit + 1)
        return items[:limit], len(items) > limit, await self._store.count_unread_notifications(scope)

    async def mark_read(self, user: User, ids: builtins.list[str] | None, up_to_id: str | None) -> tuple[int, int]:
        """Mark ``ids`` (None: all, up to ``up_to_id`` when given) read; how many changed and
        how many stay unread. Ids that are not the caller's are ignored, as if unknown."""
        scope = caller_scope(user)
        marked = await self._store.mark_notifications_read(scope, ids, up_to_id, clock.now())
        return marked, await self._store.count_unread_notifications(scope)

    async def set_read(self, user: User, notification_id: str, read: bool) -> Notification:
        notification = await self._store.set_notification_read(
            caller_scope(user), notification_id, clock.now() if read else None
        )
        if notification is None:
            raise notification_not_found()  # also another user's: the same answer
        return notification
