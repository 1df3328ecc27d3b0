"""The trash of deleted tasks and boards: list it, restore from it, delete for good, and
the purge of what has been there longer than ``TASKWIRE_TRASH_RETENTION_DAYS``.

A deleted board goes to the trash whole: tasks, comments, files, documents, webhooks and
its log stay; its members are kept aside, so it reads as gone to everyone (like a board
deleted for good: 404, out of every list, live subscriptions ended) until one of its owners
restores it, members and all, or deletes it for good.

Every instance runs a ``TrashPurger``; a named lease in the store (like each webhook's
delivery lease) lets one instance at a time purge, so no entry is purged twice and a
crashed purger's lease runs out for another instance to take over. Each purge, like each
restore, is an event in the board's log.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import dataclasses
import logging
from datetime import timedelta
from typing import Any, Protocol

from app.domain import clock
from app.domain.errors import NotFoundError
from app.domain.ids import lease_owner
from app.domain.models import Board, Comment, EventDraft, Priority, Role, Task, User
from app.domain.ordering import key_between
from app.domain.request_context import board_allowed
from app.domain.trash import TrashedBoard, TrashedTask, trashed_board_record_view
from app.domain.views import task_view
from app.events.publisher import EventPublisher
from app.services.access import board_not_found, check_role, require_role
from app.services.watching import WatchService
from app.services.wiring import service
from app.settings import Settings
from app.store.base import BoardStore, BoardTrashStore, NotFound, ScheduleStore, StoreUnavailable, TaskStore, TrashStore
from app.webhooks.delivery import SYSTEM_ACTOR

log = logging.getLogger(__name__)

TRASH_PAGE = 200
PURGE_LEASE = "trash-purge"
PURGE_BATCH = 100


def not_in_trash() -> NotFoundError:
    return NotFoundError("task_not_in_trash", "No such task in the trash.")


def board_not_in_trash() -> NotFoundError:
    return NotFoundError("board_not_in_trash", "No such board in your trash.")


def restored_task(entry: TrashedTask, columns: list[str], members: set[str], last_position: str | None) -> Task:
    """The task as it comes back: one version on (a client holding the deleted version
    gets a conflict rather than overwriting it), in its column if the board still has it
    (else at the end of the first), assigned to those who are still members."""
    view: dict[str, Any] = dict(entry.task)
    task = Task(**{**view, "priority": Priority(view["priority"])})
    task.assignees = [user_id for user_id in task.assignees if user_id in members]
    if task.status not in columns:
        task.status, task.position = columns[0], key_between(last_position, None)
    task.version += 1
    task.updated_at = clock.now()
    return task


class TrashServiceStore(BoardStore, BoardTrashStore, ScheduleStore, TaskStore, TrashStore, Protocol): ...


@service
class TrashService:
    retention_days: float  # TASKWIRE_TRASH_RETENTION_DAYS
    _store: TrashServiceStore
    _publisher: EventPublisher
    _watching: WatchService

    async def _entry_for(self, actor: User, board_id: str, task_id: str, needed: Role) -> TrashedTask:
        await require_role(self._store, board_id, actor.id, needed)
        entry = await self._store.get_trashed_task(task_id)
        if entry is None or entry.board_id != board_id:
            raise not_in_trash()
        return entry

    async def list(self, actor: User, board_id: str) -> list[TrashedTask]:
        await require_role(self._store, board_id, actor.id, Role.VIEWER)
        return await self._store.list_trash(board_id, TRASH_PAGE)

    async def restore(self, actor: User, board_id: str, task_id: str) -> Task:
        entry = await self._entry_for(actor, board_id, task_id, Role.EDITOR)
        board = await self._store.get_board(board_id)
        if board is None:
            raise not_in_trash()
        members = {member.user_id for member in await self._store.list_members(board_id)}
        status = entry.task.get("status")
        last = None if status in board.columns else await self._store.last_position(board_id, board.columns[0])
        task = restored_task(entry, board.columns, members, last)
        comments = [Comment(**comment) for comment in entry.comments.get("items", [])]
        notify = await self._watching.changed(actor, task, ["restored"], board)
        draft = EventDraft("task.restored", actor.id, task.updated_at, task_view(task), notify=notify)
        try:
            event = await self._store.restore_task(task, comments, draft)
        except NotFound:
            raise not_in_trash() from None  # restored or purged meanwhile
        await self._publisher.publish(event)
        return task

    async def delete_forever(self, actor: User, board_id: str, task_id: str) -> None:
        entry = await self._entry_for(actor, board_id, task_id, Role.ADMIN)
        await self._purge(entry, actor.id)

    async def _purge(self, entry: TrashedTask, actor_id: str) -> bool:
        data = {"id": entry.id, "board_id": entry.board_id, "title": entry.title}
        try:
            event = await self._store.purge_trashed_task(
                entry.id, EventDraft("task.purged", actor_id, clock.now(), data, client_mutation_id=None)
            )
        except NotFound:
            return False  # restored or purged meanwhile
        await self._publisher.publish(event)
        return True

    # -- boards -------------------------------------------------------------------------
    async def trash_board(self, actor: User, board_id: str) -> None:
        """Delete a board (owners only): into the trash, restorable by its owners."""
        await require_role(self._store, board_id, actor.id, Role.OWNER)
        board = await self._store.get_board(board_id)
        members = await self._store.list_members(board_id)
        if board is None:
            raise board_not_found()
        entry = TrashedBoard(board.id, board.name, board.description, actor.id, clock.now())
        draft = EventDraft("board.deleted", actor.id, entry.deleted_at, trashed_board_record_view(entry))
        try:
            event = await self._store.trash_board(board_id, actor.id, draft)
        except NotFound:
            raise board_not_found() from None
        await self._publisher.publish(event)
        await self._publisher.publish_board_deleted(board_id)
        await self._publisher.publish_boards_changed([m.user_id for m in members], board_id, "board_deleted")

    async def _owned_in_trash(self, actor: User, board_id: str) -> TrashedBoard:
        member = await self._store.get_trashed_member(board_id, actor.id)
        entry = await self._store.get_trashed_board(board_id) if member is not None else None
        if entry is None:
            raise board_not_in_trash()
        try:
            check_role(board_id, member, Role.OWNER)
        except NotFoundError:
            raise board_not_in_trash() from None  # an API token held to other boards
        return entry

    async def list_boards(self, actor: User) -> builtins.list[TrashedBoard]:
        """The deleted boards the caller owned, most recent first."""
        return [
            entry for entry in await self._store.list_trashed_boards(actor.id, TRASH_PAGE) if board_allowed(entry.id)
        ]

    async def restore_board(self, actor: User, board_id: str) -> Board:
        """Bring a deleted board back (its owners), whole, with its members."""
        entry = await self._owned_in_trash(actor, board_id)
        draft = EventDraft("board.restored", actor.id, clock.now(), trashed_board_record_view(entry))
        try:
            event = await self._store.restore_board(board_id, draft)
        except NotFound:
            raise board_not_in_trash() from None  # restored or purged meanwhile
        await self._publisher.publish(event)
        members = await self._store.list_members(board_id)
        await self._publisher.publish_boards_changed([m.user_id for m in members], board_id, "board_restored")
        board = await self._store.get_board(board_id)
        if board is None:
            raise board_not_found()  # deleted again meanwhile
        return board

    async def delete_board_forever(self, actor: User, board_id: str) -> None:
        """Delete a board in the trash for good (its owners), with all it holds."""
        await self._owned_in_trash(actor, board_id)
        if not await self._store.purge_trashed_board(board_id):
            raise board_not_in_trash()

    async def purge_expired(self, owner: str, lease_seconds: float) -> int | None:
        """Purge what is past its retention, if this ``owner`` gets the purge lease: how
        many went, or None when another instance holds the lease."""
        now = clock.now()
        until = clock.format_time(clock.parse_time(now) + timedelta(seconds=lease_seconds))
        if not await self._store.claim_lease(PURGE_LEASE, owner, now, until):
            return None
        try:
            cutoff = clock.format_time(clock.parse_time(now) - timedelta(days=self.retention_days))
            purged = 0
            while expired := await self._store.list_expired_trash(cutoff, PURGE_BATCH):
                for entry in expired:
                    purged += await self._purge(entry, SYSTEM_ACTOR)
                if len(expired) < PURGE_BATCH:
                    break
            while expired_boards := await self._store.list_expired_board_trash(cutoff, PURGE_BATCH):
                for board in expired_boards:
                    purged += await self._store.purge_trashed_board(board.id)
                if len(expired_boards) < PURGE_BATCH:
                    break
            return purged
        finally:
            await self._store.release_lease(PURGE_LEASE, owner)


@service
class TrashPurger:
    """The loop every instance runs: a purge every ``TASKWIRE_TRASH_PURGE_INTERVAL`` seconds."""

    settings: dataclasses.InitVar[Settings]
    _trash: TrashService
    owner: str = dataclasses.field(init=False, default_factory=lease_owner)
    _interval: float = dataclasses.field(init=False)
    _loop: asyncio.Task[None] | None = dataclasses.field(init=False, default=None)

    def __post_init__(self, settings: Settings) -> None:
        self._interval = settings.trash_purge_interval_seconds

    async def open(self) -> None:
        self._loop = asyncio.create_task(self._purge_forever(), name="trash-purger")

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop

    async def _purge_forever(self) -> None:
        while True:
            try:
                # The lease outlives a slow purge's batches, never a crashed instance by long.
                await self._trash.purge_expired(self.owner, max(60.0, self._interval))
            except asyncio.CancelledError:
                raise
            except StoreUnavailable as error:
                log.warning("trash purge: store unavailable: %s", error)
            except Exception:
                log.exception("trash purge failed")
            await asyncio.sleep(self._interval)
