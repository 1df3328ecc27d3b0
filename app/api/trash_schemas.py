"""Request and response models of archive and trash (see app/api/schemas.py for the
conventions: requests forbid unknown fields, every string is bounded)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.api.schemas import ClientMutationId, PageQuery, RequestModel, ResponseModel, view_of
from app.domain.trash import TrashedBoard, TrashedTask


class ArchiveIn(RequestModel):
    version: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="The version you saw (or send it as If-Match): a stale one gets 409."
    )
    client_mutation_id: ClientMutationId | None = None


class BoardListQuery(PageQuery):
    archived: bool = Field(default=False, description="true: only your archived boards; false: the others.")


@view_of(TrashedTask)
class TrashedTaskOut(ResponseModel):
    purge_at: str = Field(description="When it is deleted for good, unless restored before.")


class TrashList(ResponseModel):
    items: list[TrashedTaskOut]
    retention_days: float = Field(
        description="How long a deleted task stays restorable (TASKWIRE_TRASH_RETENTION_DAYS)."
    )


@view_of(TrashedBoard)
class TrashedBoardOut(ResponseModel):
    purge_at: str = Field(description="When it is deleted for good, with all it holds, unless restored before.")


class BoardTrashList(ResponseModel):
    items: list[TrashedBoardOut]
    retention_days: float = Field(
        description="How long a deleted board stays restorable (TASKWIRE_TRASH_RETENTION_DAYS)."
    )
