"""A board's columns one at a time: add, rename, set a work-in-progress limit, reorder and
remove (admins and owners, as for the board's other settings). Each change is one event
in the board's log (``column.created``, ``column.updated``, ``column.moved``,
``column.deleted``) whose data holds the column and the whole board after it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from app.domain import clock
from app.domain.columns import MAX_COLUMNS, column_view, key_for_name, name_clash, shown_name
from app.domain.errors import ConflictError, InvalidInputError, NotFoundError
from app.domain.models import Board, EventDraft, Role, TaskFilter, TaskPageRequest, TaskSort, User
from app.domain.views import board_view
from app.events.publisher import EventPublisher
from app.services.access import board_not_found, require_role
from app.services.publishing import publish_change
from app.services.retry import retried
from app.services.wiring import service
from app.store.base import BoardChanged, BoardTaskStore, TaskStore

_UNSET: Any = object()


def column_not_found(key: str) -> NotFoundError:
    return NotFoundError("column_not_found", "No such column on this board.", details={"column": key})


def copy_of(board: Board) -> Board:
    """A board whose lists and dicts the caller may change."""
    return dataclasses.replace(
        board, columns=list(board.columns), column_names=dict(board.column_names), wip_limits=dict(board.wip_limits)
    )


async def check_removed_columns_are_empty(store: TaskStore, board: Board, columns: list[str]) -> None:
    for removed in set(board.columns) - set(columns):
        page = await store.list_tasks(TaskPageRequest(board.id, TaskFilter(status=removed), TaskSort.POSITION, limit=1))
        if page.items:
            raise ConflictError(
                "column_not_empty",
                f"Move the tasks out of {shown_name(board, removed)!r} before removing it.",
                details={"column": removed},
            )


def _check_position(position: int | None, count: int) -> None:
    if position is not None and not 0 <= position < count:
        raise InvalidInputError(
            "invalid_position", f"position must be between 0 and {count - 1}.", details={"position": position}
        )


def _check_name_free(board: Board, name: str, except_key: str | None = None) -> None:
    if (clash := name_clash(board, name, except_key)) is not None:
        raise ConflictError(
            "column_name_taken", f"Another column is already called {name!r}.", details={"column": clash}
        )


# (the board after the change, the event type, the column's key, the column before it);
# None when the change changes nothing.
Change = tuple[Board, str, str, dict[str, Any] | None] | None


@service
class ColumnService:
    _store: BoardTaskStore
    _publisher: EventPublisher

    async def add(
        self, actor: User, board_id: str, name: str, wip_limit: int | None, position: int | None
    ) -> dict[str, Any]:
        def change(board: Board) -> Change:
            if len(board.columns) >= MAX_COLUMNS:
                raise ConflictError("too_many_columns", f"A board has at most {MAX_COLUMNS} columns.")
            _check_name_free(board, name)
            _check_position(position, len(board.columns) + 1)
            updated = copy_of(board)
            key = key_for_name(name, board.columns)
            updated.columns.insert(len(board.columns) if position is None else position, key)
            updated.column_names[key] = name
            if wip_limit is not None:
                updated.wip_limits[key] = wip_limit
            return updated, "column.created", key, None

        return await self._change(actor, board_id, change)

    async def update(
        self,
        actor: User,
        board_id: str,
        key: str,
        name: str | None = None,
        wip_limit: int | None = _UNSET,
        position: int | None = None,
    ) -> dict[str, Any]:
        """Rename (``name``), set or clear (None) the limit, move to ``position``; an
        unchanged column is answered as it is, with no event."""

        def change(board: Board) -> Change:
            if key not in board.columns:
                raise column_not_found(key)
            _check_position(position, len(board.columns))
            updated = copy_of(board)
            if name is not None:
                _check_name_free(board, name, except_key=key)
                updated.column_names[key] = name
            if wip_limit is None:
                updated.wip_limits.pop(key, None)
            elif wip_limit is not _UNSET:
                updated.wip_limits[key] = wip_limit
            if position is not None:
                updated.columns.remove(key)
                updated.columns.insert(position, key)
            before, after = column_view(board, key), column_view(updated, key)
            if after == before:
                return None
            moved_only = {field for field in after if after[field] != before[field]} == {"position"}
            return updated, "column.moved" if moved_only else "column.updated", key, before

        return await self._change(actor, board_id, change, unchanged=key)

    async def remove(self, actor: User, board_id: str, key: str) -> None:
        def change(board: Board) -> Change:
            if key not in board.columns:
                raise column_not_found(key)
            if len(board.columns) == 1:
                raise ConflictError("last_column", "A board keeps at least one column.")
            updated = copy_of(board)
            updated.columns.remove(key)
            updated.column_names.pop(key, None)
            updated.wip_limits.pop(key, None)
            return updated, "column.deleted", key, column_view(board, key)

        await self._change(actor, board_id, change)

    async def _change(
        self, actor: User, board_id: str, change: Callable[[Board], Change], unchanged: str | None = None
    ) -> dict[str, Any]:
        """Apply ``change`` to the board as read and write it only if nobody wrote the board
        meanwhile; else read it again and retry, so two admins' edits never undo each other."""
        await require_role(self._store, board_id, actor.id, Role.ADMIN)
        return await retried("board", BoardChanged, lambda: self._change_once(actor, board_id, change, unchanged))

    async def _change_once(
        self, actor: User, board_id: str, change: Callable[[Board], Change], unchanged: str | None
    ) -> dict[str, Any]:
        board = await self._store.get_board(board_id)
        if board is None:
            raise board_not_found()
        outcome = change(board)
        if outcome is None:
            assert unchanged is not None
            return column_view(board, unchanged)
        updated, event_type, key, before = outcome
        if event_type == "column.deleted":
            await check_removed_columns_are_empty(self._store, board, updated.columns)
        updated.updated_at = clock.now()
        column = before if event_type == "column.deleted" and before else column_view(updated, key)
        data: dict[str, Any] = {"column": column, "board": board_view(updated)}
        if before is not None and event_type != "column.deleted":
            data["previous"] = before
        draft = EventDraft(event_type, actor.id, updated.updated_at, data)
        write = self._store.update_board(updated, draft, expected_updated_at=board.updated_at)
        await publish_change(self._publisher, write, board_not_found)
        return column
