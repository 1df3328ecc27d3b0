"""The trash: a deleted task is kept here, with its comments, and a deleted board with all
it holds, until restored or purged (``TASKWIRE_TRASH_RETENTION_DAYS`` after the deletion)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.domain.clock import format_time, parse_time
from app.domain.shape import field, record
from app.domain.views import record_view


@record
class TrashedTask:
    id: str  # the task's id: a restored task comes back under it
    board_id: str
    title: str
    deleted_by: str
    deleted_at: str
    task: dict[str, Any] = field(doc="The task as it was when it was deleted.")
    # Restored with the task; a comment's events stay in the log meanwhile.
    comments: dict[str, Any] = field(view=None)  # {"items": [comment view, ...]}


def purge_time(deleted_at: str, retention_days: float) -> str:
    """When a task or board deleted at ``deleted_at`` is purged, ``retention_days`` later."""
    return format_time(parse_time(deleted_at) + timedelta(days=retention_days))


_view = record_view(TrashedTask)


def trashed_task_view(entry: TrashedTask, retention_days: float) -> dict[str, Any]:
    return {**_view(entry), "purge_at": purge_time(entry.deleted_at, retention_days)}


@record
class TrashedBoard:
    """A deleted board, kept whole (tasks, comments, files, history, webhooks) until it is
    restored or purged; its members are kept aside meanwhile, so it reads as gone to all."""

    id: str  # the board's id: a restored board comes back under it
    name: str
    description: str
    deleted_by: str
    deleted_at: str


# The data of the board.deleted and board.restored events.
trashed_board_record_view = record_view(TrashedBoard)


def trashed_board_view(entry: TrashedBoard, retention_days: float) -> dict[str, Any]:
    return {**trashed_board_record_view(entry), "purge_at": purge_time(entry.deleted_at, retention_days)}
