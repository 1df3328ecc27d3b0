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


PurgeAt = Annotated[str, Field(description="When it is deleted for good (with all it holds), unless restored before.")]
RetentionDays = Annotated[
    float, Field(description="How long what is deleted stays restorable (TASKWIRE_TRASH_RETENTION_DAYS).")
]


@view_of(TrashedTask)
class TrashedTaskOut(ResponseModel):
    purge_at: PurgeAt


class TrashList(ResponseModel):
    items: list[TrashedTaskOut]
    retention_days: RetentionDays


@view_of(TrashedBoard)
class TrashedBoardOut(ResponseModel):
    purge_at: PurgeAt


class BoardTrashList(ResponseModel):
    items: list[TrashedBoardOut]
    retention_days: RetentionDays
