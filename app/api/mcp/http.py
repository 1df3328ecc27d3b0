"""The MCP server over streamable HTTP at ``/mcp``, beside the Quart app in one ASGI app.

Quart does not host other ASGI apps, so the factory dispatches by path in the ASGI layer
(``with_mcp``): ``/mcp`` goes to the MCP SDK's Starlette app, everything else to Quart.
Stateless, JSON responses: any instance behind a load balancer answers any request, with
no session to keep. Each request must carry a personal API token as its Bearer; it is
looked up before the request reaches the SDK (a clear 401), and again by each tool call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.transport_security import TransportSecuritySettings

from app.api.errors import error_body
from app.api.mcp.tools import build_mcp_server
from app.domain.errors import UnauthenticatedError
from app.jsonutil import dumps
from app.runtime import Runtime
from app.services.tokens import is_api_token

MCP_PATH = "/mcp"

type Scope = MutableMapping[str, Any]
type Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
type Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
type ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _bearer(headers: Any) -> str | None:
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _request_credential(ctx: Context) -> str | None:
    return _bearer(ctx.headers or {})


class McpEndpoint:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        server = build_mcp_server(runtime, _request_credential)
        self._app: ASGIApp = server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            json_response=True,
            stateless_http=True,
            # DNS rebinding attacks ride on a browser's ambient credentials; this endpoint
            # takes only an explicit Bearer token, and Host checks would break proxies.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self._manager = server.session_manager
        self._running: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()

    async def open(self) -> None:
        self._running = asyncio.create_task(self._run(), name="mcp-session-manager")
        await self._ready.wait()

    async def _run(self) -> None:
        # The SDK's task group lives in a task of its own: Quart's start and stop hooks may
        # run in different tasks, and an anyio task group must be left where it was entered.
        async with self._manager.run():
            self._ready.set()
            await self._stop.wait()

    async def close(self) -> None:
        if self._running is None:
            return
        self._stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._running

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._runtime.draining:
            await _answer(send, 503, error_body("shutting_down", "This instance is shutting down; retry."))
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        secret = _bearer(headers)
        try:
            if secret is None or not is_api_token(secret):
                raise UnauthenticatedError(
                    "api_token_required", "Send a personal API token: Authorization: Bearer twp_..."
                )
            await self._runtime.services.auth.authenticate(secret)
        except UnauthenticatedError as error:
            await _answer(send, 401, error_body(error.code, error.message), [(b"www-authenticate", b"Bearer")])
            return
        await self._app(scope, receive, send)


async def _answer(send: Send, status: int, body: dict[str, Any], headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    content = dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})


def with_mcp(app: ASGIApp, endpoint: McpEndpoint) -> ASGIApp:
    """The app, with ``/mcp`` answered by the MCP endpoint."""

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == MCP_PATH:
            await endpoint(scope, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch
