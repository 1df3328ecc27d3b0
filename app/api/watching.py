"""Watching a task or a whole board: /api/v1/tasks/{id}/watch, /api/v1/boards/{id}/watch
(docs/notifications.md)."""

from __future__ import annotations

from pydantic import Field, StrictBool
from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import READ, WRITE, guards
from app.api.responses import json_response
from app.api.schemas import RequestModel, ResponseModel
from app.runtime import services

blueprint = Blueprint("watching", __name__, url_prefix="/api/v1")


class WatchIn(RequestModel):
    watching: StrictBool = Field(description="true: watch; false: stop (also a watch you had by default).")


class WatchOut(ResponseModel):
    watching: bool


@blueprint.get("/tasks/<task_id>/watch")
@guards(*READ)
@contract(answers={200: WatchOut})
async def get_task_watch(task_id: str) -> Response:
    """Whether you watch the task: you do by default as its author or an assignee, or
    when you watch its board, unless you stopped."""
    return json_response({"watching": await services().watching.task(caller().user, task_id)})


@blueprint.put("/tasks/<task_id>/watch")
@guards(*WRITE)
@contract(body=WatchIn, answers={200: WatchOut})
async def put_task_watch(task_id: str, data: WatchIn) -> Response:
    """Watch the task (hear of its comments, moves and due date changes) or stop."""
    return json_response({"watching": await services().watching.set_task(caller().user, task_id, data.watching)})


@blueprint.get("/boards/<board_id>/watch")
@guards(*READ)
@contract(answers={200: WatchOut})
async def get_board_watch(board_id: str) -> Response:
    """Whether you watch every task of the board."""
    return json_response({"watching": await services().watching.board(caller().user, board_id)})


@blueprint.put("/boards/<board_id>/watch")
@guards(*WRITE)
@contract(body=WatchIn, answers={200: WatchOut})
async def put_board_watch(board_id: str, data: WatchIn) -> Response:
    """Watch every task of the board, or stop."""
    return json_response({"watching": await services().watching.set_board(caller().user, board_id, data.watching)})
