"""Your deleted boards: /api/v1/boards/trash (restorable by their owners until purged).
Deleting a board (DELETE /api/v1/boards/<id>) puts it here."""

from __future__ import annotations

from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import READ, WRITE, guards, idempotent
from app.api.responses import json_response, no_content_after
from app.api.schemas import BoardOut
from app.api.trash import trash_listing
from app.api.trash_schemas import BoardTrashList
from app.domain.models import Role
from app.domain.trash import trashed_board_view
from app.domain.views import board_view
from app.runtime import services

blueprint = Blueprint("board_trash", __name__, url_prefix="/api/v1/boards/trash")


@blueprint.get("")
@guards(*READ)
@contract(answers={200: BoardTrashList})
async def list_board_trash() -> Response:
    """The deleted boards you were an owner of, most recent first, each with when it is purged."""
    trash = services().trash
    entries = await trash.list_boards(caller().user)
    return trash_listing([trashed_board_view(entry, trash.retention_days) for entry in entries], trash.retention_days)


@blueprint.post("/<board_id>/restore")
@guards(*WRITE, idempotent)
@contract(answers={200: BoardOut})
async def restore_board(board_id: str) -> Response:
    """Restore a deleted board (its owners), with its tasks, history and members."""
    return json_response(board_view(await services().trash.restore_board(caller().user, board_id), Role.OWNER))


@blueprint.delete("/<board_id>")
@guards(*WRITE)
async def delete_board_forever(board_id: str) -> Response:
    """Delete a board in the trash for good (its owners), with its tasks, files and history."""
    return await no_content_after(services().trash.delete_board_forever(caller().user, board_id))
