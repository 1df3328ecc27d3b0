"""A task's checklist: items of text and done, added, edited, ticked, reordered and removed
(editors and up). The checklist is part of the task: each change is a new version of the
task, written at the version it was read at and retried on a fresh read when someone else
wrote the task meanwhile, so ticking an item never needs the client's version. Each change
is one event (``checklist_item.created``, ``.updated``, ``.moved``, ``.deleted``) whose
data holds the item, the task's id and the whole task after it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from app.domain import clock
from app.domain.errors import ConflictError, InvalidInputError, NotFoundError
from app.domain.ids import new_id
from app.domain.models import EventDraft, Role, Task, User
from app.domain.views import task_view
from app.events.publisher import EventPublisher
from app.services.access import require_role, task_not_found
from app.services.publishing import publish_change
from app.services.retry import retried
from app.services.watching import WatchService
from app.services.wiring import service
from app.store.base import BoardTaskStore, VersionConflict

MAX_CHECKLIST_ITEMS = 100
MAX_ITEM_TEXT = 500  # characters of one item's text

# (the new checklist, the item it is about, the event type, the item before the change);
# None when the change changes nothing.
Change = tuple[list[dict[str, Any]], dict[str, Any], str, dict[str, Any] | None] | None


def item_not_found(item_id: str) -> NotFoundError:
    return NotFoundError("checklist_item_not_found", "No such checklist item on this task.", details={"id": item_id})


def _check_position(position: int | None, count: int) -> None:
    if position is not None and not 0 <= position < count:
        raise InvalidInputError(
            "invalid_position", f"position must be between 0 and {count - 1}.", details={"position": position}
        )


def _index_of(checklist: list[dict[str, Any]], item_id: str) -> int:
    for index, item in enumerate(checklist):
        if item["id"] == item_id:
            return index
    raise item_not_found(item_id)


@service
class ChecklistService:
    _store: BoardTaskStore
    _publisher: EventPublisher
    _watching: WatchService

    async def add(self, actor: User, task_id: str, text: str, position: int | None = None) -> Task:
        def change(checklist: list[dict[str, Any]]) -> Change:
            if len(checklist) >= MAX_CHECKLIST_ITEMS:
                raise ConflictError("checklist_full", f"A checklist has at most {MAX_CHECKLIST_ITEMS} items.")
            _check_position(position, len(checklist) + 1)
            item = {"id": new_id(), "text": text, "done": False}
            checklist.insert(len(checklist) if position is None else position, item)
            return checklist, item, "checklist_item.created", None

        return await self._change(actor, task_id, change)

    async def update(
        self,
        actor: User,
        task_id: str,
        item_id: str,
        text: str | None = None,
        done: bool | None = None,
        position: int | None = None,
    ) -> Task:
        def change(checklist: list[dict[str, Any]]) -> Change:
            index = _index_of(checklist, item_id)
            _check_position(position, len(checklist))
            before = checklist[index]
            item = {
                **before,
                **({"text": text} if text is not None else {}),
                **({"done": done} if done is not None else {}),
            }
            checklist.pop(index)
            checklist.insert(index if position is None else position, item)
            moved = checklist.index(item) != index
            if item == before and not moved:
                return None
            return checklist, item, "checklist_item.moved" if item == before else "checklist_item.updated", before

        return await self._change(actor, task_id, change)

    async def remove(self, actor: User, task_id: str, item_id: str) -> Task:
        def change(checklist: list[dict[str, Any]]) -> Change:
            item = checklist.pop(_index_of(checklist, item_id))
            return checklist, item, "checklist_item.deleted", None

        return await self._change(actor, task_id, change)

    async def _change(self, actor: User, task_id: str, change: Callable[[list[dict[str, Any]]], Change]) -> Task:
        return await retried("task", VersionConflict, lambda: self._change_once(actor, task_id, change))

    async def _change_once(self, actor: User, task_id: str, change: Callable[[list[dict[str, Any]]], Change]) -> Task:
        task = await self._store.get_task(task_id)
        if task is None:
            raise task_not_found()
        try:
            await require_role(self._store, task.board_id, actor.id, Role.EDITOR)
        except NotFoundError:
            raise task_not_found() from None  # a task of a board the caller cannot see
        outcome = change([dict(item) for item in task.checklist])
        if outcome is None:
            return task
        checklist, item, event_type, before = outcome
        at = clock.now()
        updated = dataclasses.replace(task, checklist=checklist, version=task.version + 1, updated_at=at)
        data: dict[str, Any] = {"task_id": task.id, "item": item, "task": task_view(updated)}
        if before is not None:
            data["previous"] = before
        # Reordering the checklist is not news to a task's watchers.
        moved = event_type == "checklist_item.moved"
        notify = [] if moved else await self._watching.changed(actor, updated, ["checklist"])
        draft = EventDraft(event_type, actor.id, at, data, notify=notify)
        await publish_change(self._publisher, self._store.update_task(updated, task.version, draft), task_not_found)
        return updated
