"""Tasks: /api/v1/boards/<id>/tasks (list, create) and /api/v1/tasks/<id>."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, request

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.cursors import decode_cursor, encode_cursor
from app.api.errors import APIError
from app.api.guards import READ, WRITE, guards, idempotent
from app.api.responses import json_response, no_content_after
from app.api.schemas import (
    TaskConflict,
    TaskIn,
    TaskList,
    TaskListQuery,
    TaskMoveIn,
    TaskOut,
    TaskPatchIn,
)
from app.api.trash_schemas import ArchiveIn
from app.domain.models import TaskFilter, task_sort_key
from app.domain.views import task_view
from app.runtime import services

blueprint = Blueprint("tasks", __name__, url_prefix="/api/v1")


def _if_match_version() -> int | None:
    """``If-Match: "3"`` (or W/"3", or 3) carries the version the client saw."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit() or len(value) > 12:
        raise APIError(400, "invalid_if_match", 'If-Match must hold the task version, e.g. "3".')
    return int(value)


@blueprint.get("/boards/<board_id>/tasks")
@guards(*READ)
@contract(query=TaskListQuery, answers={200: TaskList})
async def list_tasks(board_id: str, query_args: TaskListQuery) -> Response:
    """Tasks of a board: filter, full-text search, sort, cursor pages. Archived tasks only
    with ``archived=true``."""
    kind = f"tasks:{query_args.sort.value}"
    after: tuple[str | int, str] | None = None
    if query_args.cursor:
        sort_key, last_id = decode_cursor(kind, query_args.cursor, 2)
        after = (sort_key, last_id)
    task_filter = TaskFilter(
        status=query_args.status,
        assignee=query_args.assignee,
        label=query_args.label,
        text=query_args.q or None,
        archived=query_args.archived,
    )
    page = await services().tasks.list(
        caller().user, board_id, task_filter, query_args.sort, query_args.limit, after, query_args.include_total
    )
    next_cursor = None
    if page.has_more and page.items:
        last = page.items[-1]
        next_cursor = encode_cursor(kind, [task_sort_key(last, query_args.sort), last.id])
    counts = await services().tasks.comment_counts(page.items)
    attachments = await services().attachments.summaries(page.items)
    body: dict[str, Any] = {
        "items": [task_view(task) for task in page.items],
        "next_cursor": next_cursor,
        "comment_counts": {task.id: counts.get(task.id, 0) for task in page.items},
        "attachment_counts": {
            task.id: summary.count if (summary := attachments.get(task.id)) else 0 for task in page.items
        },
        "attachment_covers": {
            task_id: summary.cover_id for task_id, summary in attachments.items() if summary.cover_id
        },
    }
    if query_args.include_total:
        body["total"] = page.total
    return json_response(body)


@blueprint.post("/boards/<board_id>/tasks")
@guards(*WRITE, idempotent)
@contract(body=TaskIn, answers={201: TaskOut})
async def create_task(board_id: str, data: TaskIn) -> Response:
    """Create a task (editors and up); it goes to the end of its column."""
    fields = data.model_dump(exclude_none=True)
    fields["due_at"] = data.due_at
    return json_response(task_view(await services().tasks.create(caller().user, board_id, fields)), 201)


@blueprint.get("/tasks/<task_id>")
@guards(*READ)
@contract(answers={200: TaskOut})
async def get_task(task_id: str) -> Response:
    """One task."""
    return json_response(task_view(await services().tasks.get(caller().user, task_id)))


@blueprint.patch("/tasks/<task_id>")
@guards(*WRITE)
@contract(body=TaskPatchIn, answers={200: TaskOut, 409: TaskConflict})
async def patch_task(task_id: str, data: TaskPatchIn) -> Response:
    """Edit a task. Send the version you saw (``version`` or If-Match); a stale one gets
    409 with the current task under ``current`` and changes nothing."""
    version = data.version if data.version is not None else _if_match_version()
    if version is None:
        raise APIError(428, "version_required", 'Send the version you saw: "version" in the body or If-Match.')
    changes = data.model_dump(include=data.model_fields_set - {"version"})
    for field in ("title", "status", "priority", "assignees", "labels", "description"):
        if field in changes and changes[field] is None:
            raise APIError(422, "validation_error", f"{field} cannot be null.", details=[{"loc": [field]}])
    return json_response(task_view(await services().tasks.update(caller().user, task_id, version, changes)))


@blueprint.post("/tasks/<task_id>/move")
@guards(*WRITE, idempotent)
@contract(body=TaskMoveIn, answers={200: TaskOut})
async def move_task(task_id: str, data: TaskMoveIn) -> Response:
    """Move a task to a column, between two neighbours (``before`` above it, ``after``
    below it) or at the end. Only the moved task is rewritten."""
    return json_response(
        task_view(await services().tasks.move(caller().user, task_id, data.status, data.before, data.after))
    )


@blueprint.delete("/tasks/<task_id>")
@guards(*WRITE)
async def delete_task(task_id: str) -> Response:
    """Delete a task (editors and up); If-Match makes it conditional on the version."""
    return await no_content_after(services().tasks.delete(caller().user, task_id, _if_match_version()))


async def _set_archived(task_id: str, data: ArchiveIn, archived: bool) -> Response:
    version = data.version if data.version is not None else _if_match_version()
    return json_response(task_view(await services().tasks.set_archived(caller().user, task_id, version, archived)))


@blueprint.post("/tasks/<task_id>/archive")
@guards(*WRITE, idempotent)
@contract(body=ArchiveIn, answers={200: TaskOut, 409: TaskConflict})
async def archive_task(task_id: str, data: ArchiveIn) -> Response:
    """Archive a task (editors and up): it leaves the board and its lists (see ``archived=true``)
    but keeps everything. With a version (or If-Match), a stale one gets 409."""
    return await _set_archived(task_id, data, True)


@blueprint.post("/tasks/<task_id>/unarchive")
@guards(*WRITE, idempotent)
@contract(body=ArchiveIn, answers={200: TaskOut, 409: TaskConflict})
async def unarchive_task(task_id: str, data: ArchiveIn) -> Response:
    """Bring an archived task back to its column (editors and up)."""
    return await _set_archived(task_id, data, False)
