"""A task's checklist: /api/v1/tasks/<task_id>/checklist[/<item_id>]."""

from __future__ import annotations

from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import WRITE, guards, idempotent
from app.api.responses import json_response, no_content_after
from app.api.schemas import ChecklistItemIn, ChecklistItemPatchIn, ErrorOut, TaskOut
from app.domain.views import task_view
from app.runtime import services

blueprint = Blueprint("checklists", __name__, url_prefix="/api/v1")


@blueprint.post("/tasks/<task_id>/checklist")
@guards(*WRITE, idempotent)
@contract(body=ChecklistItemIn, answers={201: TaskOut})
async def create_checklist_item(task_id: str, data: ChecklistItemIn) -> Response:
    """Add an item to a task's checklist (editors and up); answers the task, new version
    included. No version needed: the item is added to the current task. Event:
    ``checklist_item.created``."""
    task = await services().checklists.add(caller().user, task_id, data.text, data.position)
    return json_response(task_view(task), 201)


@blueprint.patch("/tasks/<task_id>/checklist/<item_id>")
@guards(*WRITE)
@contract(body=ChecklistItemPatchIn, answers={200: TaskOut, 409: ErrorOut})
async def patch_checklist_item(task_id: str, item_id: str, data: ChecklistItemPatchIn) -> Response:
    """Edit an item's text, tick or untick it (``done``), or move it to ``position``; answers
    the task. Events: ``checklist_item.updated``, or ``checklist_item.moved`` when only its
    place changed."""
    changes = data.model_dump(include=data.model_fields_set & {"text", "done", "position"}, exclude_none=True)
    return json_response(task_view(await services().checklists.update(caller().user, task_id, item_id, **changes)))


@blueprint.delete("/tasks/<task_id>/checklist/<item_id>")
@guards(*WRITE)
@contract(answers={409: ErrorOut})
async def delete_checklist_item(task_id: str, item_id: str) -> Response:
    """Remove an item. Event: ``checklist_item.deleted``, with the task after it."""
    return await no_content_after(services().checklists.remove(caller().user, task_id, item_id))
