"""Recurring tasks: set, read and clear a task's rule; and, when a task with a rule reaches
its board's last column, create its next occurrence once.

The next occurrence is a copy of the task (title, description, priority, labels, the
assignees still on the board, the checklist with every item new and not done) in the
board's first column, due at ``next_due`` and with
the same rule. Its ``task.created`` event and the done task's ``task.recurred`` event
(``data``: ``task_id``, ``next_task_id``, ``title``, ``due_at``) are written with it in one
store write, which succeeds once per done task across every instance
(``Store.create_next_occurrence``); reopening and finishing the task again creates nothing
more. The history links them: ``task.recurred`` is in the done task's history, and the new
task's rule names it as ``previous_task_id``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Protocol

from app.domain import clock
from app.domain.errors import InvalidInputError, NotFoundError
from app.domain.ids import new_id
from app.domain.models import Board, EventDraft, Role, Task, User
from app.domain.ordering import key_between
from app.domain.recurrence import WEEKDAYS, Recurrence, RecurrenceKind, next_due
from app.domain.views import recurrence_view, task_view
from app.events.publisher import EventPublisher
from app.services.access import checked_task, task_not_found
from app.services.publishing import publish_change
from app.services.watching import WatchService
from app.services.wiring import service
from app.store.base import BoardStore, NotFound, RecurrenceStore, TaskStore

log = logging.getLogger(__name__)


def recurrence_not_found() -> NotFoundError:
    return NotFoundError("recurrence_not_found", "This task does not recur.")


def _check_rule(kind: RecurrenceKind, weekdays: list[str], day_of_month: int | None) -> None:
    if kind is RecurrenceKind.WEEKLY and not weekdays:
        raise InvalidInputError("invalid_recurrence", f"A weekly rule needs weekdays, some of {list(WEEKDAYS)}.")
    if kind is not RecurrenceKind.WEEKLY and weekdays:
        raise InvalidInputError("invalid_recurrence", "Only a weekly rule takes weekdays.")
    if (kind is RecurrenceKind.MONTHLY) != (day_of_month is not None):
        raise InvalidInputError("invalid_recurrence", "A monthly rule, and only a monthly rule, takes day_of_month.")


class RecurrenceServiceStore(BoardStore, RecurrenceStore, TaskStore, Protocol): ...


@service
class RecurrenceService:
    _store: RecurrenceServiceStore
    _publisher: EventPublisher
    _watching: WatchService

    async def _task(self, actor: User, task_id: str, needed: Role) -> Task:
        return await checked_task(self._store, actor, task_id, needed)

    async def get(self, actor: User, task_id: str) -> Recurrence | None:
        """None: the task does not repeat."""
        await self._task(actor, task_id, Role.VIEWER)
        return await self._store.get_recurrence(task_id)

    async def set(
        self,
        actor: User,
        task_id: str,
        kind: RecurrenceKind,
        interval: int,
        weekdays: list[str],
        day_of_month: int | None,
    ) -> Recurrence:
        """Give the task a rule, or change it; the series and its links stay."""
        task = await self._task(actor, task_id, Role.EDITOR)
        _check_rule(kind, weekdays, day_of_month)
        current = await self._store.get_recurrence(task_id)
        at = clock.now()
        recurrence = Recurrence(
            task_id=task.id,
            board_id=task.board_id,
            kind=kind,
            interval=interval,
            weekdays=sorted(set(weekdays), key=WEEKDAYS.index),
            day_of_month=day_of_month,
            series_id=current.series_id if current else task.id,
            previous_task_id=current.previous_task_id if current else None,
            next_task_id=current.next_task_id if current else None,
            created_by=actor.id,
            updated_at=at,
        )
        try:
            notify = await self._watching.changed(actor, task, ["recurrence"])
            event = await self._store.set_recurrence(
                recurrence, EventDraft("task.recurrence_set", actor.id, at, recurrence_view(recurrence), notify=notify)
            )
        except NotFound:
            raise task_not_found() from None
        await self._publisher.publish(event)
        return recurrence

    async def clear(self, actor: User, task_id: str) -> None:
        task = await self._task(actor, task_id, Role.EDITOR)
        notify = await self._watching.changed(actor, task, ["recurrence"])
        draft = EventDraft("task.recurrence_cleared", actor.id, clock.now(), {"task_id": task_id}, notify=notify)
        await publish_change(self._publisher, self._store.delete_recurrence(task_id, draft), recurrence_not_found)

    async def task_completed(self, actor: User, task: Task, board: Board) -> None:
        """Called once the task's move into the board's last column is stored. A failure
        here must not undo that move, so it is logged, not raised."""
        try:
            await self._create_next(actor, task, board)
        except Exception:
            log.exception("the next occurrence of task %s was not created", task.id)

    async def _create_next(self, actor: User, task: Task, board: Board) -> None:
        rule = await self._store.get_recurrence(task.id)
        if rule is None or rule.next_task_id is not None:
            return
        at = clock.now()
        members = {member.user_id for member in await self._store.list_members(board.id)}
        status = board.columns[0]
        # The done task again (its title, description and priority), as a new task.
        following = dataclasses.replace(
            task,
            id=new_id(),
            status=status,
            assignees=[user_id for user_id in task.assignees if user_id in members],
            labels=list(task.labels),
            # New ids: an item of the next occurrence is not the done task's item.
            checklist=[{"id": new_id(), "text": item["text"], "done": False} for item in task.checklist],
            due_at=next_due(rule, task.due_at, at),
            position=key_between(await self._store.last_position(board.id, status), None),
            created_by=actor.id,
            created_at=at,
            updated_at=at,
            version=1,
            archived_at=None,
        )
        following_rule = dataclasses.replace(
            rule,
            task_id=following.id,
            weekdays=list(rule.weekdays),
            previous_task_id=task.id,
            next_task_id=None,
            updated_at=at,
        )
        recurred = {"task_id": task.id, "next_task_id": following.id, "title": task.title, "due_at": following.due_at}
        events = await self._store.create_next_occurrence(
            task.id,
            following,
            following_rule,
            [
                EventDraft("task.created", actor.id, at, task_view(following)),
                EventDraft("task.recurred", actor.id, at, recurred),
            ],
        )
        for event in events or ():
            await self._publisher.publish(event)
