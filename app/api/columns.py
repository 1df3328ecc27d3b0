"""A board's columns one at a time: /api/v1/boards/<board_id>/columns[/<key>]."""

from __future__ import annotations

from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import WRITE, guards, idempotent
from app.api.responses import json_response, no_content_after
from app.api.schemas import ColumnIn, ColumnOut, ColumnPatchIn, ErrorOut
from app.runtime import services

blueprint = Blueprint("columns", __name__, url_prefix="/api/v1/boards")


@blueprint.post("/<board_id>/columns")
@guards(*WRITE, idempotent)
@contract(body=ColumnIn, answers={201: ColumnOut})
async def create_column(board_id: str, data: ColumnIn) -> Response:
    """Add a column with a free-text name (admins and owners); its key is derived from the
    name and never changes. Event: ``column.created``."""
    column = await services().columns.add(caller().user, board_id, data.name, data.wip_limit, data.position)
    return json_response(column, 201)


@blueprint.patch("/<board_id>/columns/<key>")
@guards(*WRITE)
@contract(body=ColumnPatchIn, answers={200: ColumnOut, 409: ErrorOut})
async def patch_column(board_id: str, key: str, data: ColumnPatchIn) -> Response:
    """Rename a column, set (or with null clear) its work-in-progress limit, or move it to
    ``position``. Events: ``column.updated``, or ``column.moved`` when only its place changed."""
    changes = data.model_dump(include=data.model_fields_set & {"name", "wip_limit", "position"})
    column = await services().columns.update(caller().user, board_id, key, **changes)
    return json_response(column)


@blueprint.delete("/<board_id>/columns/<key>")
@guards(*WRITE)
@contract(answers={409: ErrorOut})
async def delete_column(board_id: str, key: str) -> Response:
    """Remove an empty column (409 ``column_not_empty`` while tasks are in it). Event: ``column.deleted``."""
    return await no_content_after(services().columns.remove(caller().user, board_id, key))
