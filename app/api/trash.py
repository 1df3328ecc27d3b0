"""A board's trash: /api/v1/boards/<id>/trash (deleted tasks, restorable until purged)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import READ, WRITE, guards, idempotent
from app.api.responses import json_response, no_content_after
from app.api.schemas import TaskOut
from app.api.trash_schemas import TrashList
from app.domain.trash import trashed_task_view
from app.domain.views import task_view
from app.runtime import services

blueprint = Blueprint("trash", __name__, url_prefix="/api/v1/boards/<board_id>/trash")


def trash_listing(items: list[dict[str, Any]], retention_days: float) -> Response:
    """A trash (a board's deleted tasks, or your deleted boards) and how long it keeps them."""
    return json_response({"items": items, "retention_days": retention_days})


@blueprint.get("")
@guards(*READ)
@contract(answers={200: TrashList})
async def list_trash(board_id: str) -> Response:
    """The board's deleted tasks, most recent first, each with when it is purged."""
    trash = services().trash
    entries = await trash.list(caller().user, board_id)
    return trash_listing([trashed_task_view(entry, trash.retention_days) for entry in entries], trash.retention_days)


@blueprint.post("/<task_id>/restore")
@guards(*WRITE, idempotent)
@contract(answers={200: TaskOut})
async def restore_task(board_id: str, task_id: str) -> Response:
    """Restore a deleted task (editors and up), with its comments and files, one version on;
    into its column if the board still has it, else at the end of the first."""
    return json_response(task_view(await services().trash.restore(caller().user, board_id, task_id)))


@blueprint.delete("/<task_id>")
@guards(*WRITE)
async def delete_forever(board_id: str, task_id: str) -> Response:
    """Delete a task in the trash for good (admins and owners), with its files."""
    return await no_content_after(services().trash.delete_forever(caller().user, board_id, task_id))
