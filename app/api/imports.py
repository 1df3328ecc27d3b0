"""Imports: /api/v1/imports (create a job), /api/v1/imports/<id>/content (upload its file in
parts), /api/v1/imports/<id> (progress and report). See docs/import.md."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints
from quart import Blueprint, Response, request

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import READ, WRITE, guards, idempotent
from app.api.responses import json_response
from app.api.schemas import ErrorOut, RequestModel, ResponseModel, view_of
from app.api.uploads import spool_file
from app.domain.errors import ForbiddenError
from app.domain.imports import ImportJob, ImportSource
from app.domain.views import record_view
from app.runtime import current_runtime, services

blueprint = Blueprint("imports", __name__, url_prefix="/api/v1/imports")
import_job_view = record_view(ImportJob)
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ImportOptions(RequestModel):
    board_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    columns: dict[Annotated[str, StringConstraints(max_length=20)], ColumnName] | None = Field(
        default=None,
        max_length=10,
        description="CSV: task field (title, description, status, labels, due_at, assignee, id) -> column name.",
    )
    members: dict[Annotated[str, StringConstraints(max_length=200)], ColumnName] | None = Field(
        default=None, max_length=1000, description="Trello: member username or id -> the email of an account here."
    )


class ImportIn(RequestModel):
    source: ImportSource
    file_name: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    size: Annotated[int, Field(ge=1, description="The file's size in bytes.")]
    options: ImportOptions = Field(default_factory=ImportOptions)


class ContentQuery(RequestModel):
    offset: Annotated[int, Field(ge=0, description="Where this part starts: the job's `received`.")] = 0


@view_of(ImportJob)
class ImportJobOut(ResponseModel):
    pass


def _check_token() -> None:
    limits = caller().limits
    if limits is not None and limits.board_ids is not None:
        raise ForbiddenError("token_board_limited", "An import makes a board: use a token not limited to boards.")


@blueprint.post("")
@guards(*WRITE, idempotent)
@contract(body=ImportIn, answers={201: ImportJobOut})
async def create_import(data: ImportIn) -> Response:
    """Start an import: the job waits for its file (PUT .../content), then runs."""
    _check_token()
    options: dict[str, Any] = data.options.model_dump(exclude_none=True)
    job = await services().imports.create(caller(), data.source, data.file_name, data.size, options)
    return json_response(import_job_view(job), 201)


@blueprint.put("/<job_id>/content")
@guards(*WRITE)
@contract(query=ContentQuery, answers={200: ImportJobOut, 409: ErrorOut})
async def upload_import(job_id: str, query_args: ContentQuery) -> Response:
    """One part of the file (the raw bytes, at most the server's request size limit), at
    `offset`; the last part queues the job. A 409 `upload_offset_mismatch` says where to resume."""
    _check_token()
    async with spool_file(current_runtime().settings.data_dir) as spool:
        job = await services().imports.upload(caller(), job_id, query_args.offset, aiter(request.body), spool)
    return json_response(import_job_view(job))


@blueprint.get("/<job_id>")
@guards(*READ)
@contract(answers={200: ImportJobOut})
async def get_import(job_id: str) -> Response:
    """The job: its state, progress (percent) and, as it goes, its report."""
    return json_response(import_job_view(await services().imports.get(caller(), job_id)))
