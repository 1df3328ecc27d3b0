"""Comments: /api/v1/tasks/<task_id>/comments (list, create) and /api/v1/comments/<id>."""

from __future__ import annotations

from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.cursors import id_paged
from app.api.guards import READ, WRITE, guards, idempotent
from app.api.responses import json_response, no_content_after
from app.api.schemas import CommentIn, CommentList, CommentOut, PageQuery
from app.domain.views import comment_view
from app.runtime import services

blueprint = Blueprint("comments", __name__, url_prefix="/api/v1")


@blueprint.get("/tasks/<task_id>/comments")
@guards(*READ)
@contract(query=PageQuery, answers={200: CommentList})
async def list_comments(task_id: str, query_args: PageQuery) -> Response:
    """A task's comments, oldest first, in cursor pages (viewers and up)."""
    return await id_paged("comments", query_args, comment_view, services().comments.list, caller().user, task_id)


@blueprint.post("/tasks/<task_id>/comments")
@guards(*WRITE, idempotent)
@contract(body=CommentIn, answers={201: CommentOut})
async def create_comment(task_id: str, data: CommentIn) -> Response:
    """Comment on a task (editors and up). ``@email`` or ``@name`` of a board member
    mentions them (``mentions``, and ``data.mentions`` of the event)."""
    return json_response(comment_view(await services().comments.create(caller().user, task_id, data.body)), 201)


@blueprint.patch("/comments/<comment_id>")
@guards(*WRITE)
@contract(body=CommentIn, answers={200: CommentOut})
async def edit_comment(comment_id: str, data: CommentIn) -> Response:
    """Edit your own comment."""
    return json_response(comment_view(await services().comments.edit(caller().user, comment_id, data.body)))


@blueprint.delete("/comments/<comment_id>")
@guards(*WRITE)
async def delete_comment(comment_id: str) -> Response:
    """Delete a comment: its author, or a board admin or owner."""
    return await no_content_after(services().comments.delete(caller().user, comment_id))
