"""/api/v1/boards: boards, members and the board's event log."""

from __future__ import annotations

from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.cursors import cursor_id, encode_cursor
from app.api.guards import READ, WRITE, guards, idempotent
from app.api.responses import json_list, json_response, no_content_after
from app.api.schemas import (
    BoardIn,
    BoardList,
    BoardOut,
    BoardPatchIn,
    ErrorOut,
    EventList,
    EventQuery,
    MemberIn,
    MemberList,
    MemberOut,
    MemberPatchIn,
)
from app.api.trash_schemas import BoardListQuery
from app.domain.views import board_view, event_view, member_view
from app.runtime import services

blueprint = Blueprint("boards", __name__, url_prefix="/api/v1/boards")


@blueprint.get("")
@guards(*READ)
@contract(query=BoardListQuery, answers={200: BoardList})
async def list_boards(query_args: BoardListQuery) -> Response:
    """The boards you are a member of, with your role on each; archived ones only with ``archived=true``."""
    after = cursor_id("boards", query_args.cursor)
    rows, more = await services().boards.list_for(caller().user, after, query_args.limit, query_args.archived)
    items = [board_view(board, role) for board, role in rows]
    return json_response({"items": items, "next_cursor": encode_cursor("boards", [rows[-1][0].id]) if more else None})


@blueprint.post("")
@guards(*WRITE, idempotent)
@contract(body=BoardIn, answers={201: BoardOut})
async def create_board(data: BoardIn) -> Response:
    """Create a board; you become its owner."""
    board, role = await services().boards.create(caller().user, data.name, data.description, data.columns)
    return json_response(board_view(board, role), 201)


@blueprint.get("/<board_id>")
@guards(*READ)
@contract(answers={200: BoardOut})
async def get_board(board_id: str) -> Response:
    """One board (404 unless you are a member)."""
    board, role = await services().boards.get(caller().user, board_id)
    return json_response(board_view(board, role))


@blueprint.patch("/<board_id>")
@guards(*WRITE)
@contract(body=BoardPatchIn, answers={200: BoardOut, 409: ErrorOut})
async def patch_board(board_id: str, data: BoardPatchIn) -> Response:
    """Rename a board, change its description or columns (admins and owners)."""
    changes = data.model_dump(include=data.model_fields_set, exclude_none=True)
    board, role = await services().boards.update(caller().user, board_id, changes)
    return json_response(board_view(board, role))


@blueprint.delete("/<board_id>")
@guards(*WRITE)
async def delete_board(board_id: str) -> Response:
    """Delete a board (owners only): it goes to the trash with its tasks and history, gone
    for every member until an owner restores it (see /api/v1/boards/trash) or it is purged."""
    return await no_content_after(services().trash.trash_board(caller().user, board_id))


@blueprint.post("/<board_id>/archive")
@guards(*WRITE, idempotent)
@contract(answers={200: BoardOut})
async def archive_board(board_id: str) -> Response:
    """Archive a board (admins and owners): it leaves your boards list (see ``archived=true``), kept whole."""
    return await _set_archived(board_id, True)


@blueprint.post("/<board_id>/unarchive")
@guards(*WRITE, idempotent)
@contract(answers={200: BoardOut})
async def unarchive_board(board_id: str) -> Response:
    """Bring an archived board back to the boards list (admins and owners)."""
    return await _set_archived(board_id, False)


async def _set_archived(board_id: str, archived: bool) -> Response:
    board, role = await services().boards.set_archived(caller().user, board_id, archived)
    return json_response(board_view(board, role))


@blueprint.get("/<board_id>/members")
@guards(*READ)
@contract(answers={200: MemberList})
async def list_members(board_id: str) -> Response:
    """Everyone on the board and their role."""
    return json_list(await services().boards.list_members(caller().user, board_id), member_view)


@blueprint.post("/<board_id>/members")
@guards(*WRITE, idempotent)
@contract(body=MemberIn, answers={201: MemberOut})
async def add_member(board_id: str, data: MemberIn) -> Response:
    """Add a registered user by email with a role (admins and owners)."""
    member = await services().boards.add_member(caller().user, board_id, data.email, data.role)
    return json_response(member_view(member), 201)


@blueprint.patch("/<board_id>/members/<user_id>")
@guards(*WRITE)
@contract(body=MemberPatchIn, answers={200: MemberOut})
async def patch_member(board_id: str, user_id: str, data: MemberPatchIn) -> Response:
    """Change a member's role (admins and owners; only owners touch owners)."""
    return json_response(member_view(await services().boards.change_role(caller().user, board_id, user_id, data.role)))


@blueprint.delete("/<board_id>/members/<user_id>")
@guards(*WRITE)
@contract(answers={409: ErrorOut})
async def remove_member(board_id: str, user_id: str) -> Response:
    """Remove a member (admins and owners), or leave a board yourself."""
    return await no_content_after(services().boards.remove_member(caller().user, board_id, user_id))


@blueprint.get("/<board_id>/events")
@guards(*READ)
@contract(query=EventQuery, answers={200: EventList})
async def list_events(board_id: str, query_args: EventQuery) -> Response:
    """The board's event log after a seq: activity feed, audit trail, catch-up; with task_id, one task's history."""
    events, latest = await services().boards.events(
        caller().user, board_id, query_args.after, query_args.limit, query_args.task_id
    )
    return json_list(events, event_view, latest_seq=latest)
