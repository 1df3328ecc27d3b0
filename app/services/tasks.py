"""Tasks: create, edit with optimistic concurrency, move between and within columns,
delete, list. Every write appends its event in the same store write and publishes it."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from app.domain import clock
from app.domain.errors import InvalidInputError, StaleVersionError
from app.domain.ids import new_id
from app.domain.mail import Watch
from app.domain.models import (
    Board,
    Event,
    EventDraft,
    NotificationDraft,
    NotificationType,
    Priority,
    Role,
    Task,
    TaskFilter,
    TaskPage,
    TaskPageRequest,
    TaskSort,
    User,
)
from app.domain.ordering import key_between
from app.domain.views import task_view
from app.events.publisher import EventPublisher
from app.services.access import board_not_found, check_role, checked_task, checked_task_of, require_role, task_not_found
from app.services.cache import BOARD_READ_TTL_SECONDS, ReadCache, decode_page, encode_page, query_fingerprint
from app.services.documents import DescriptionMerge, TaskDocumentService
from app.services.notifications import assignment_notices
from app.services.preferences import PreferenceService
from app.services.publishing import publish_change
from app.services.watching import WatchService, change_data
from app.services.wiring import service
from app.store.base import BoardStore, CommentStore, NotFound, TaskStore, TrashStore, VersionConflict

EDITABLE_FIELDS = ("title", "description", "status", "priority", "assignees", "labels", "due_at")
# A task's field -> its name in a task.changed notice's ``changes``.
CHANGE_NAMES = {
    "title": "title",
    "description": "description",
    "status": "column",
    "priority": "priority",
    "labels": "labels",
    "assignees": "assignees",
    "due_at": "due_date",
}
# A move reads the task and writes it back; under contention it retries on the fresh version.
MOVE_ATTEMPTS = 5
# Told when a task reaches its board's last column (recurring tasks: app/services/recurrence.py).
type CompletionListener = Callable[[User, Task, Board], Awaitable[None]]


def _differs(field: str, before: Task, after: Task) -> bool:
    old, new = getattr(before, field), getattr(after, field)
    return set(old) != set(new) if field == "assignees" else bool(old != new)


def version_conflict(current: Task) -> StaleVersionError:
    return StaleVersionError(
        "version_conflict",
        "The task was changed by someone else; here is the current version.",
        task_view(current),
        details={"current_version": current.version},
    )


class TaskServiceStore(BoardStore, CommentStore, TaskStore, TrashStore, Protocol): ...


@service
class TaskService:
    _store: TaskServiceStore
    _publisher: EventPublisher
    _cache: ReadCache
    _documents: TaskDocumentService
    _notices: PreferenceService
    _watching: WatchService
    _on_completed: CompletionListener | None = None

    async def _task_for(self, actor: User, task_id: str, needed: Role) -> tuple[Task, Board, tuple[Watch, ...]]:
        """The task, its board and their watch choices (for telling watchers), one read."""
        access = await self._store.get_task_access(task_id, actor.id, with_board=True)
        task = checked_task_of(access, needed)
        if access.board is None:
            raise task_not_found()  # cannot happen in one snapshot: a task goes with its board
        return task, access.board, access.watches

    async def _checked_task(self, actor: User, task_id: str, needed: Role) -> Task:
        return await checked_task(self._store, actor, task_id, needed)

    async def _check_fields(self, board: Board, fields: dict[str, Any]) -> None:
        if "status" in fields and fields["status"] not in board.columns:
            raise InvalidInputError(
                "invalid_status",
                f"Status must be one of the board's columns: {board.columns}.",
                details={"columns": board.columns},
            )
        if fields.get("assignees"):
            members = {member.user_id for member in await self._store.list_members(board.id)}
            for user_id in fields["assignees"]:
                if user_id not in members:
                    raise InvalidInputError(
                        "assignee_not_member", "Assignees must be members of the board.", details={"user_id": user_id}
                    )

    async def create(self, actor: User, board_id: str, fields: dict[str, Any]) -> Task:
        place = await self._store.get_new_task_place(board_id, actor.id, fields.get("status"))
        check_role(board_id, place.member, Role.EDITOR)
        if (board := place.board) is None:
            raise board_not_found()
        fields.setdefault("status", board.columns[0])
        await self._check_fields(board, fields)
        at = clock.now()
        task = Task(
            id=new_id(),
            board_id=board.id,
            title=fields["title"],
            description=fields.get("description", ""),
            status=fields["status"],
            priority=Priority(fields.get("priority", Priority.MEDIUM)),
            assignees=list(dict.fromkeys(fields.get("assignees", []))),
            labels=list(dict.fromkeys(fields.get("labels", []))),
            due_at=fields.get("due_at"),
            position=key_between(place.last_position, None),
            created_by=actor.id,
            created_at=at,
            updated_at=at,
            version=1,
        )
        notify = assignment_notices(actor, board, task, ())
        told = {notice.user_id for notice in notify}
        notify += await self._watching.notices(
            actor, board, task, NotificationType.TASK_CREATED, {}, told, watches=place.watches
        )
        draft = EventDraft("task.created", actor.id, at, task_view(task), notify=await self._notices.route(notify))
        await publish_change(self._publisher, self._store.create_task(task, draft), board_not_found)
        return task

    async def get(self, actor: User, task_id: str) -> Task:
        return await self._checked_task(actor, task_id, Role.VIEWER)

    async def update(self, actor: User, task_id: str, expected_version: int, changes: dict[str, Any]) -> Task:
        task, board, watches = await self._task_for(actor, task_id, Role.EDITOR)
        if task.version != expected_version:
            raise version_conflict(task)
        await self._check_fields(board, changes)
        merge: DescriptionMerge | None = None
        if "description" in changes and changes["description"] != task.description:
            # Live editors may have typed since: merge into their document, not over it.
            merge = await self._documents.merge_description(task, changes["description"])
            if merge is not None:
                changes = {**changes, "description": merge.text}
        updated = dataclasses.replace(task, assignees=list(task.assignees), labels=list(task.labels))
        for field in EDITABLE_FIELDS:
            if field in changes:
                value = changes[field]
                if field in ("assignees", "labels"):
                    value = list(dict.fromkeys(value))
                setattr(updated, field, Priority(value) if field == "priority" else value)
        if "status" in changes and changes["status"] != task.status:
            # A task changing column goes to the end of its new column.
            updated.position = key_between(await self._store.last_position(board.id, updated.status), None)
        notify = assignment_notices(actor, board, updated, task.assignees)
        notify += await self._watcher_notices(actor, board, task, updated, {n.user_id for n in notify}, watches)
        written = await self._write(actor, updated, expected_version, "task.updated", notify)
        if merge is not None:
            await self._documents.commit_description(actor, task, merge)
        return await self._completed(actor, task, written, board)

    async def _watcher_notices(
        self, actor: User, board: Board, before: Task, after: Task, told: set[str], watches: tuple[Watch, ...]
    ) -> list[NotificationDraft]:
        """One ``task.changed`` notice per watcher naming what changed; reordering within a
        column changes nothing a watcher needs to hear of."""
        changes = [name for field, name in CHANGE_NAMES.items() if _differs(field, before, after)]
        if not changes:
            return []
        data = change_data(
            changes,
            {
                "column": after.status if "column" in changes else None,
                "due_at": after.due_at if "due_date" in changes else None,
            },
        )
        return await self._watching.notices(
            actor, board, after, NotificationType.TASK_CHANGED, data, told, watches=watches
        )

    async def _completed(self, actor: User, before: Task, after: Task, board: Board) -> Task:
        if self._on_completed and after.status == board.columns[-1] != before.status:
            await self._on_completed(actor, after, board)
        return after

    async def _write(
        self,
        actor: User,
        updated: Task,
        expected_version: int,
        event_type: str,
        notify: list[NotificationDraft] | None = None,
    ) -> Task:
        updated.version = expected_version + 1
        updated.updated_at = clock.now()
        notify = await self._notices.route(notify or [])
        draft = EventDraft(event_type, actor.id, updated.updated_at, task_view(updated), notify=notify)
        await self._commit(self._store.update_task(updated, expected_version, draft))
        return updated

    async def _commit(self, versioned_write: Awaitable[Event]) -> None:
        """A write checked against the task's version; its event goes out once it is stored."""
        try:
            event = await versioned_write
        except VersionConflict as conflict:
            raise version_conflict(conflict.current) from None
        except NotFound:
            raise task_not_found() from None
        await self._publisher.publish(event)

    async def move(self, actor: User, task_id: str, status: str, before_id: str | None, after_id: str | None) -> Task:
        """Place the task in ``status`` between ``before_id`` (the task above it) and
        ``after_id`` (the task below it); with neither, at the end of the column."""
        for attempt in range(MOVE_ATTEMPTS):
            task, board, watches = await self._task_for(actor, task_id, Role.EDITOR)
            await self._check_fields(board, {"status": status})
            moved = dataclasses.replace(task, status=status, assignees=list(task.assignees), labels=list(task.labels))
            moved.position = await self._position_between(board, status, task_id, before_id, after_id)
            notify = await self._watcher_notices(actor, board, task, moved, set(), watches)
            try:
                written = await self._write(actor, moved, task.version, "task.moved", notify)
            except StaleVersionError:
                if attempt == MOVE_ATTEMPTS - 1:
                    raise
                continue
            return await self._completed(actor, task, written, board)
        raise AssertionError("unreachable")

    async def _neighbour(self, board: Board, status: str, task_id: str, neighbour_id: str) -> Task:
        neighbour = await self._store.get_task(neighbour_id)
        if neighbour is None or neighbour.board_id != board.id or neighbour.status != status or neighbour.id == task_id:
            raise InvalidInputError(
                "invalid_neighbour",
                "before/after must be other tasks of the target column.",
                details={"task_id": neighbour_id},
            )
        return neighbour

    async def _position_between(
        self, board: Board, status: str, task_id: str, before_id: str | None, after_id: str | None
    ) -> str:
        above = await self._neighbour(board, status, task_id, before_id) if before_id else None
        below = await self._neighbour(board, status, task_id, after_id) if after_id else None
        if above is None and below is None:
            return key_between(await self._store.last_position(board.id, status), None)
        low, high = (above.position if above else None), (below.position if below else None)
        if low is not None and high is not None and not low < high:
            raise InvalidInputError("invalid_neighbour", "before must be above after in the column.")
        return key_between(low, high)

    async def delete(self, actor: User, task_id: str, expected_version: int | None) -> None:
        """Into the trash (app/services/trash.py restores it): gone from every read, as a
        v1 client expects, until restored."""
        task = await self._checked_task(actor, task_id, Role.EDITOR)
        notify = await self._watching.changed(actor, task, ["trashed"])
        draft = EventDraft("task.deleted", actor.id, clock.now(), task_view(task), notify=notify)
        await self._commit(self._store.trash_task(task_id, expected_version, actor.id, draft))

    async def set_archived(self, actor: User, task_id: str, expected_version: int | None, archived: bool) -> Task:
        """Archive (hidden from the board and its lists, kept whole) or bring back. Asking
        for the state the task is already in changes nothing."""
        task, board, watches = await self._task_for(actor, task_id, Role.EDITOR)
        if expected_version is not None and task.version != expected_version:
            raise version_conflict(task)
        if (task.archived_at is not None) == archived:
            return task
        changed = dataclasses.replace(task, assignees=list(task.assignees), labels=list(task.labels))
        changed.archived_at = clock.now() if archived else None
        if not archived and task.status not in board.columns:
            # Its column went while it was archived: back at the end of the first one.
            changed.status = board.columns[0]
            changed.position = key_between(await self._store.last_position(board.id, changed.status), None)
        notify = await self._watching.notices(
            actor,
            board,
            changed,
            NotificationType.TASK_CHANGED,
            change_data(["archived" if archived else "unarchived"], {}),
            watches=watches,
        )
        return await self._write(
            actor, changed, task.version, "task.archived" if archived else "task.unarchived", notify
        )

    async def comment_counts(self, tasks: Sequence[Task]) -> dict[str, int]:
        """Counted when read, not stored on the task: a comment never changes its task's
        version, and a stored count would race the task's own writes."""
        return await self._store.count_comments([task.id for task in tasks])

    async def list(
        self,
        actor: User,
        board_id: str,
        task_filter: TaskFilter,
        sort: TaskSort,
        limit: int,
        after: tuple[str | int, str] | None,
        include_total: bool,
    ) -> TaskPage:
        await require_role(self._store, board_id, actor.id, Role.VIEWER)
        if task_filter.assignee == "me":
            task_filter.assignee = actor.id
        request = TaskPageRequest(board_id, task_filter, sort, limit, after, include_total)
        if not self._cache.enabled:
            return await self._store.list_tasks(request)
        board = await self._store.get_board(board_id)
        if board is None:
            raise board_not_found()
        fingerprint = query_fingerprint(dataclasses.asdict(task_filter), sort, limit, after, include_total)
        return await self._cache.get_or_load(
            f"tasks:{board_id}:{board.seq}:{fingerprint}",
            BOARD_READ_TTL_SECONDS,
            lambda: self._store.list_tasks(request),
            encode_page,
            decode_page,
        )
