"""Request and response models of invitations (see app/api/schemas.py for the
conventions: requests forbid unknown fields, every string is bounded)."""

from __future__ import annotations

from pydantic import Field

from app.api.schemas import BoardOut, Email, InvitationToken, MemberOut, RequestModel, ResponseModel, view_of
from app.domain.invitations import Invitation, InvitationStatus
from app.domain.models import Role


class InvitationIn(RequestModel):
    email: Email
    role: Role = Role.EDITOR


class TokenBody(RequestModel):
    token: InvitationToken = Field(description="The part of the invitation link after `#`.")


@view_of(Invitation)
class InvitationOut(ResponseModel):
    status: InvitationStatus


class InvitationCreatedOut(InvitationOut):
    link: str = Field(description="The link to pass on: shown this once, never again.")


class InvitationList(ResponseModel):
    items: list[InvitationOut]


class InvitedBoard(ResponseModel):
    id: str
    name: str


class InvitationLookupOut(ResponseModel):
    invitation: InvitationOut
    board: InvitedBoard
    invited_by: str = Field(description="The name of who sent it.")


class InvitationAcceptedOut(ResponseModel):
    board: BoardOut
    member: MemberOut
