"""``python -m app mcp``: the MCP server over stdio, for an assistant that starts it as a
local process. The token comes from ``TASKWIRE_TOKEN``; the store and broker are the
server's (the same ``TASKWIRE_*`` settings), so with Redis its changes reach every
instance's live clients. stdout carries the protocol: logs go to stderr.
"""

from __future__ import annotations

from app.api.mcp.tools import build_mcp_server
from app.domain.errors import DomainError
from app.runtime import build_runtime
from app.services.tokens import is_api_token, verify_api_token
from app.settings import Settings

TOKEN_VARIABLE = "TASKWIRE_TOKEN"


class TokenRefused(Exception):
    """The token cannot start the server; the message is the line the operator sees."""


async def serve_stdio(settings: Settings, token: str) -> None:
    if not is_api_token(token):
        raise TokenRefused(f"{TOKEN_VARIABLE} must hold a personal API token (twp_...)")
    runtime = build_runtime(settings)
    await runtime.open()
    try:
        try:
            # Checked once up front for a clear start-up error; every call checks it again.
            await verify_api_token(runtime.store, runtime.broker, token)
        except DomainError as error:
            raise TokenRefused(f"{TOKEN_VARIABLE}: {error.message}") from None
        await build_mcp_server(runtime, lambda _ctx: token).run_stdio_async()
    finally:
        await runtime.close()
