"""Request and response models of the instance administrator's endpoints (see
app/api/schemas.py for the conventions)."""

from __future__ import annotations

from pydantic import Field, StrictBool

from app.api.schemas import RequestModel, ResponseModel, UserOut


class AccountOut(UserOut):
    is_admin: bool = Field(description="Whether the account administers the instance.")


class MeOut(AccountOut):
    has_password: bool = Field(
        description="false: an account made by single sign-on; what asks for your password asks for a recent sign-in."
    )
    email_verified: bool = Field(description="Whether this address was confirmed (by a link, or by the provider).")
    pending_email: str | None = Field(description="The address you asked to move to, until its link is followed.")


class AccountList(ResponseModel):
    items: list[AccountOut]
    next_cursor: str | None


class AccountPatchIn(RequestModel):
    disabled: StrictBool = Field(description="true ends the account's sessions and live connections at once.")


class InstanceFigures(ResponseModel):
    users: int
    disabled_users: int
    boards: int
    tasks: int
    comments: int


class InstanceOut(ResponseModel):
    registration_open: bool = Field(description="Whether anyone may create an account.")
    registration_closed_by_setting: bool = Field(
        description="TASKWIRE_REGISTRATION_OPEN=false: the switch cannot open it."
    )
    figures: InstanceFigures


class InstancePatchIn(RequestModel):
    registration_open: StrictBool
