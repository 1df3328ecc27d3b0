"""Comments on tasks. Viewers read them; commenters and up write them; an author edits their
own; the author or a board admin/owner deletes one. Every write appends its event
(``comment.created|updated|deleted``, with the comment as ``data``) in the same store write
and publishes it, like every other board change.

``@mentions``: ``@<email>`` or ``@<name>`` of a board member, case-insensitive, recorded
as user ids in the comment and so in ``data.mentions`` of its event; each member newly
mentioned by someone else is notified (app/services/notifications.py) in the same write.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Sequence
from typing import Protocol

from app.domain import clock
from app.domain.errors import ForbiddenError, NotFoundError
from app.domain.ids import new_id
from app.domain.models import (
    Comment,
    EventDraft,
    Member,
    NotificationDraft,
    NotificationType,
    Role,
    Task,
    User,
)
from app.domain.views import comment_view
from app.events.publisher import EventPublisher
from app.services.access import check_own_or_admin, checked_task, require_role_or, task_not_found
from app.services.notifications import excerpt, mention_notices
from app.services.preferences import PreferenceService
from app.services.publishing import publish_change
from app.services.watching import WatchService
from app.services.wiring import service
from app.store.base import BoardStore, CommentStore, TaskStore


def comment_not_found() -> NotFoundError:
    return NotFoundError("comment_not_found", "No such comment.")


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def find_mentions(body: str, members: list[Member]) -> list[str]:
    """User ids of the members ``body`` mentions, in order of first mention.

    At each ``@`` (not inside a word, so an email address in the text is not a mention)
    the longest handle that matches wins, so ``@Ada Lovelace`` is not taken for ``@Ada``;
    a handle must end at a word boundary, so ``@Adam`` is not ``@Ada``.
    """
    # handle length (in the original text) -> casefolded handle -> user ids
    by_length: dict[int, dict[str, list[str]]] = {}
    for member in members:
        for handle in (member.email, member.name):
            if handle:
                by_length.setdefault(len(handle), {}).setdefault(handle.casefold(), []).append(member.user_id)
    lengths = sorted(by_length, reverse=True)
    mentioned: dict[str, None] = {}
    at = body.find("@")
    while at != -1:
        if at == 0 or not _word_char(body[at - 1]):
            for length in lengths:
                end = at + 1 + length
                if end > len(body) or (end < len(body) and _word_char(body[end])):
                    continue
                user_ids = by_length[length].get(body[at + 1 : end].casefold())
                if user_ids:
                    mentioned.update(dict.fromkeys(user_ids))
                    break
        at = body.find("@", at + 1)
    return list(mentioned)


class CommentServiceStore(BoardStore, CommentStore, TaskStore, Protocol): ...


@service
class CommentService:
    _store: CommentServiceStore
    _publisher: EventPublisher
    _notices: PreferenceService
    _watching: WatchService

    async def _task_for(self, actor: User, task_id: str, needed: Role) -> Task:
        return await checked_task(self._store, actor, task_id, needed)

    async def _comment_for(self, actor: User, comment_id: str, needed: Role) -> tuple[Comment, Member]:
        comment = await self._store.get_comment(comment_id)
        if comment is None:
            raise comment_not_found()
        return comment, await require_role_or(self._store, comment.board_id, actor.id, needed, comment_not_found)

    async def list(
        self, actor: User, task_id: str, after_comment_id: str | None, limit: int
    ) -> tuple[list[Comment], bool]:
        """One page, oldest first, and whether another page follows."""
        await self._task_for(actor, task_id, Role.VIEWER)
        comments = await self._store.list_comments(task_id, after_comment_id, limit + 1)
        return comments[:limit], len(comments) > limit

    async def create(self, actor: User, task_id: str, body: str) -> Comment:
        task = await self._task_for(actor, task_id, Role.COMMENTER)
        at = clock.now()
        comment = Comment(
            id=new_id(),
            board_id=task.board_id,
            task_id=task.id,
            author_id=actor.id,
            body=body,
            mentions=await self._mentions(task.board_id, body),
            created_at=at,
            updated_at=at,
        )
        notify = await self._mention_notices(actor, comment, (), task)
        board = await self._store.get_board(task.board_id)
        if board is not None:
            told = {notice.user_id for notice in notify}
            data = {"excerpt": excerpt(body)}
            watched = NotificationType.COMMENT_WATCHED
            notify += await self._watching.notices(actor, board, task, watched, data, told, comment.id)
        notify = await self._notices.route(notify)
        draft = EventDraft("comment.created", actor.id, at, comment_view(comment), notify=notify)
        await publish_change(self._publisher, self._store.create_comment(comment, draft), task_not_found)
        return comment

    async def edit(self, actor: User, comment_id: str, body: str) -> Comment:
        comment, _ = await self._comment_for(actor, comment_id, Role.COMMENTER)
        if comment.author_id != actor.id:
            raise ForbiddenError("forbidden", "Only its author can edit a comment.")
        at = clock.now()
        edited = dataclasses.replace(
            comment, body=body, mentions=await self._mentions(comment.board_id, body), updated_at=at
        )
        notify = await self._notices.route(await self._mention_notices(actor, edited, comment.mentions))
        draft = EventDraft("comment.updated", actor.id, at, comment_view(edited), notify=notify)
        await publish_change(self._publisher, self._store.update_comment(edited, draft), comment_not_found)
        return edited

    async def delete(self, actor: User, comment_id: str) -> None:
        comment, member = await self._comment_for(actor, comment_id, Role.VIEWER)
        check_own_or_admin(actor, comment.author_id, member, "Only its author or a board admin can delete a comment.")
        draft = EventDraft("comment.deleted", actor.id, clock.now(), comment_view(comment))
        await publish_change(self._publisher, self._store.delete_comment(comment_id, draft), comment_not_found)

    async def _mention_notices(
        self, actor: User, comment: Comment, mentioned_before: Sequence[str], task: Task | None = None
    ) -> builtins.list[NotificationDraft]:
        """``task``: the comment's task when the caller has just read it."""
        if not set(comment.mentions) - set(mentioned_before) - {actor.id}:
            return []  # the usual case, without reading task and board
        task = task or await self._store.get_task(comment.task_id)
        board = await self._store.get_board(comment.board_id)
        if task is None or board is None:
            return []  # gone meanwhile: the write that follows says so
        return mention_notices(actor, board, task, comment, mentioned_before)

    async def _mentions(self, board_id: str, body: str) -> builtins.list[str]:
        if "@" not in body:
            return []
        return find_mentions(body, await self._store.list_members(board_id))
