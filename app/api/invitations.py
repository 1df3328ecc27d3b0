"""Invitations by link: /api/v1/boards/<id>/invitations (admins) and /api/v1/invitations
(the link's page: look it up before signing in, accept it after)."""

from __future__ import annotations

from quart import Blueprint, Response, request

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import READ, WRITE, guards, idempotent, public, rate_limited_per_ip
from app.api.invitation_schemas import (
    InvitationAcceptedOut,
    InvitationCreatedOut,
    InvitationIn,
    InvitationList,
    InvitationLookupOut,
    TokenBody,
)
from app.api.responses import json_list, json_response, no_content_after
from app.api.schemas import ErrorOut
from app.domain.views import board_view, member_view
from app.runtime import services
from app.services.invitations import invitation_view

blueprint = Blueprint("invitations", __name__, url_prefix="/api/v1")


@blueprint.post("/boards/<board_id>/invitations")
@guards(*WRITE, idempotent)
@contract(body=InvitationIn, answers={201: InvitationCreatedOut})
async def create_invitation(board_id: str, data: InvitationIn) -> Response:
    """Invite an email, with or without an account, to the board with a role (admins and
    owners). The answer holds the link, shown this once: single use, expiring after
    TASKWIRE_INVITATION_TTL_DAYS, revocable."""
    # The dashboard's own origin: the link opens its /invite page.
    invitation, link = await services().invitations.create(
        caller().user, board_id, data.email, data.role, request.host_url
    )
    return json_response({**invitation_view(invitation), "link": link}, 201)


@blueprint.get("/boards/<board_id>/invitations")
@guards(*READ)
@contract(answers={200: InvitationList})
async def list_invitations(board_id: str) -> Response:
    """The board's open invitations, oldest first, expired ones included (admins and owners)."""
    return json_list(await services().invitations.list(caller().user, board_id), invitation_view)


@blueprint.delete("/boards/<board_id>/invitations/<invitation_id>")
@guards(*WRITE)
@contract(answers={409: ErrorOut})
async def revoke_invitation(board_id: str, invitation_id: str) -> Response:
    """Revoke an invitation (admins and owners): its link stops working."""
    return await no_content_after(services().invitations.revoke(caller().user, board_id, invitation_id))


@blueprint.post("/invitations/lookup")
@guards(public, rate_limited_per_ip("invitation"))
@contract(body=TokenBody, answers={200: InvitationLookupOut})
async def lookup_invitation(data: TokenBody) -> Response:
    """What an invitation link is for, before signing in: the board, the role, who sent it, its status."""
    invitation, board, inviter = await services().invitations.lookup(data.token)
    return json_response(
        {
            "invitation": invitation_view(invitation),
            "board": {"id": board.id, "name": board.name},
            "invited_by": inviter,
        }
    )


@blueprint.post("/invitations/accept")
@guards(*WRITE, idempotent)
@contract(body=TokenBody, answers={200: InvitationAcceptedOut})
async def accept_invitation(data: TokenBody) -> Response:
    """Join the board of an invitation link with its role; the link is spent."""
    board, member = await services().invitations.accept(caller().user, data.token)
    return json_response({"board": board_view(board, member.role), "member": member_view(member)})
