"""Watching tasks and boards: who hears of a task's comments and changes.

A task's author and assignees watch it unless they chose not to; anyone who can see a
board may watch a task of it or the whole board (every task on it, and tasks added to
it). Watchers are told of comments (``comment.watched``) and of every change to the task
(``task.changed``, one per change event, ``data.changes`` naming what changed), never of
what they did themselves, and not again when the same event already tells them in a more
specific way (assigned, mentioned: the caller passes those as ``skip``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from app.domain import clock
from app.domain.mail import Watch, watchers
from app.domain.models import Board, NotificationDraft, NotificationType, Role, Task, User
from app.services.access import require_role, task_not_found
from app.services.notifications import notices_for
from app.services.preferences import PreferenceService
from app.services.wiring import service
from app.store.base import BoardStore, TaskStore, WatchStore


class WatchServiceStore(BoardStore, TaskStore, WatchStore, Protocol): ...


@service
class WatchService:
    _store: WatchServiceStore
    _preferences: PreferenceService

    async def _visible_task(self, actor: User, task_id: str) -> Task:
        task = await self._store.get_task(task_id)
        if task is None:
            raise task_not_found()
        await require_role(self._store, task.board_id, actor.id, Role.VIEWER)
        return task

    async def task(self, actor: User, task_id: str) -> bool:
        task = await self._visible_task(actor, task_id)
        rows = await self._store.list_watches(task.board_id, task.id)
        return actor.id in watchers(task.created_by, task.assignees, task.id, rows)

    async def set_task(self, actor: User, task_id: str, watching: bool) -> bool:
        task = await self._visible_task(actor, task_id)
        await self._store.save_watch(Watch(actor.id, task.board_id, task.id, watching, clock.now()))
        return watching

    async def board(self, actor: User, board_id: str) -> bool:
        await require_role(self._store, board_id, actor.id, Role.VIEWER)
        rows = await self._store.list_watches(board_id, None)
        return any(row.user_id == actor.id and row.watching for row in rows)

    async def set_board(self, actor: User, board_id: str, watching: bool) -> bool:
        await require_role(self._store, board_id, actor.id, Role.VIEWER)
        await self._store.save_watch(Watch(actor.id, board_id, "", watching, clock.now()))
        return watching

    async def notices(
        self,
        actor: User,
        board: Board,
        task: Task,
        type: NotificationType,
        data: dict[str, Any],
        skip: Iterable[str] = (),
        comment_id: str | None = None,
        watches: Sequence[Watch] | None = None,
    ) -> list[NotificationDraft]:
        """Notices of ``type`` for the task's watchers who are still members, less the
        actor and ``skip`` (those told of the same change in another way); the caller
        routes them by preferences with the rest of its notices. ``watches``: the watch
        choices, when the caller read them with the task (else they are read here)."""
        rows = await self._store.list_watches(board.id, task.id) if watches is None else watches
        users = watchers(task.created_by, task.assignees, task.id, rows) - {actor.id, *skip}
        if not users:
            return []
        members = {member.user_id for member in await self._store.list_members(board.id)}
        data = {"task_title": task.title, **data}
        return notices_for(actor, board, type, sorted(users & members), (), data, task.id, comment_id)

    async def changed(
        self,
        actor: User,
        task: Task,
        changes: Sequence[str],
        board: Board | None = None,
        **data: Any,
    ) -> list[NotificationDraft]:
        """The ``task.changed`` notices of one change event, routed by their users'
        preferences: ready for ``EventDraft.notify``."""
        if not changes:
            return []
        board = board or await self._store.get_board(task.board_id)
        if board is None:
            return []  # gone meanwhile: the write that follows says so
        notices = await self.notices(actor, board, task, NotificationType.TASK_CHANGED, change_data(changes, data))
        return await self._preferences.route(notices)


def change_data(changes: Sequence[str], data: dict[str, Any]) -> dict[str, Any]:
    return {"changes": list(changes), **{key: value for key, value in data.items() if value is not None}}
