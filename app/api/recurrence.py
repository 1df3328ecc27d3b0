"""Recurring tasks: /api/v1/tasks/<task_id>/recurrence (read, set, clear the task's rule)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import READ, WRITE, guards
from app.api.responses import json_response, no_content_after
from app.api.schemas import ClientMutationId, RequestModel, ResponseModel, unique_values, view_of
from app.domain.recurrence import Recurrence, RecurrenceKind
from app.domain.views import recurrence_view
from app.runtime import services

blueprint = Blueprint("recurrence", __name__, url_prefix="/api/v1")

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class RecurrenceIn(RequestModel):
    kind: RecurrenceKind = Field(
        description="daily: every `interval` days after the due date; weekly: every `interval` weeks on "
        "`weekdays`; monthly: every `interval` months on `day_of_month`; after_done: `interval` days "
        "after the task is done."
    )
    interval: Annotated[int, Field(ge=1, le=366)] = 1
    weekdays: Annotated[list[Weekday], Field(max_length=7), AfterValidator(unique_values)] = Field(default_factory=list)
    day_of_month: Annotated[int, Field(ge=1, le=31)] | None = None
    client_mutation_id: ClientMutationId | None = None


@view_of(Recurrence)
class RecurrenceOut(ResponseModel):
    pass


class RecurrenceStateOut(ResponseModel):
    rule: RecurrenceOut | None = Field(description="The task's rule; null when it does not repeat.")


def _state(rule: Recurrence | None) -> Response:
    return json_response({"rule": None if rule is None else recurrence_view(rule)})


@blueprint.get("/tasks/<task_id>/recurrence")
@guards(*READ)
@contract(answers={200: RecurrenceStateOut})
async def get_recurrence(task_id: str) -> Response:
    """Whether the task repeats: its rule, with the occurrences before and after it, or null
    (viewers and up)."""
    return _state(await services().recurrences.get(caller().user, task_id))


@blueprint.put("/tasks/<task_id>/recurrence")
@guards(*WRITE)
@contract(body=RecurrenceIn, answers={200: RecurrenceStateOut})
async def put_recurrence(task_id: str, data: RecurrenceIn) -> Response:
    """Make the task recur, or change its rule (editors and up). When it reaches the board's
    last column, its next occurrence is created once, in the first column."""
    recurrence = await services().recurrences.set(
        caller().user, task_id, data.kind, data.interval, list(data.weekdays), data.day_of_month
    )
    return _state(recurrence)


@blueprint.delete("/tasks/<task_id>/recurrence")
@guards(*WRITE)
async def delete_recurrence(task_id: str) -> Response:
    """Stop the task recurring (editors and up)."""
    return await no_content_after(services().recurrences.clear(caller().user, task_id))
