"""Request and response models of the notification endpoints (see app/api/schemas.py for
the conventions: requests forbid unknown fields, every string is bounded)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StringConstraints, model_validator

from app.api.schemas import Id, RequestModel, ResponseModel, unique_values, view_of
from app.domain.models import Notification

MAX_IDS = 200


class NotificationQuery(RequestModel):
    unread: bool = Field(default=False, description="Only the unread ones.")
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None


class NotificationsReadIn(RequestModel):
    ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_IDS), AfterValidator(unique_values)] | None = Field(
        default=None, description="Mark these read (ids that are not yours are ignored)."
    )
    all: Literal[True] | None = Field(default=None, description="Mark all of yours read.")
    up_to: Id | None = Field(
        default=None,
        description=(
            "With all: only those up to this id (the newest one you have seen), so that one that "
            "arrived meanwhile stays unread."
        ),
    )

    @model_validator(mode="after")
    def _one_selection(self) -> NotificationsReadIn:
        if (self.ids is None) == (self.all is None):
            raise ValueError('send either "ids" or "all": true')
        if self.up_to is not None and self.all is None:
            raise ValueError('"up_to" goes with "all"')
        return self


class NotificationPatchIn(RequestModel):
    read: StrictBool = Field(description="true: read; false: unread again.")


@view_of(Notification)
class NotificationOut(ResponseModel):
    pass


class NotificationList(ResponseModel):
    items: list[NotificationOut]
    next_cursor: str | None
    unread_count: int


class NotificationsReadOut(ResponseModel):
    marked: int = Field(description="How many were unread and are now read.")
    unread_count: int
