"""Personal API tokens: /api/v1/tokens. Managed from a signed-in session only."""

from __future__ import annotations

from typing import cast

from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import READ, WRITE, guards, idempotent
from app.api.responses import json_list, json_response, no_content_after, no_store
from app.api.schemas import TokenCreatedOut, TokenIn, TokenList
from app.domain.views import api_token_view
from app.runtime import services

blueprint = Blueprint("tokens", __name__, url_prefix="/api/v1/tokens")


@blueprint.post("")
@guards(*WRITE, idempotent)
@contract(body=TokenIn, answers={201: TokenCreatedOut})
async def create_token(data: TokenIn) -> Response:
    """Create a personal API token (``twp_...``): use it as ``Authorization: Bearer``
    wherever an access token works. ``read`` allows GET only; ``read`` + ``write`` allows
    everything you may do. The token is in this response only: store it now."""
    # Timestamp's AfterValidator leaves the stored text form, not the datetime it parsed.
    expires_at = cast("str | None", data.expires_at)
    token, secret = await services().tokens.create(caller(), data.name, list(data.scopes), data.boards, expires_at)
    return no_store(json_response({**api_token_view(token), "token": secret}, 201))


@blueprint.get("")
@guards(*READ)
@contract(answers={200: TokenList})
async def list_tokens() -> Response:
    """Your API tokens, oldest first (never the tokens themselves)."""
    return json_list(await services().tokens.list(caller()), api_token_view)


@blueprint.delete("/<token_id>")
@guards(*WRITE)
async def delete_token(token_id: str) -> Response:
    """Revoke a token: it stops working at once."""
    return await no_content_after(services().tokens.revoke(caller(), token_id))
