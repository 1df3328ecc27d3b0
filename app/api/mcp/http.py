"""The MCP server over streamable HTTP at ``/mcp``: a Quart route that hands the request to
the MCP SDK's Starlette app and streams its answer back.

Quart does not host other ASGI apps, so the route runs the SDK's app itself, feeding it the
request's body and turning what it sends into the route's response. Being a route, ``/mcp``
gets what every response gets (security headers, the request id, CORS, the access log and
request metrics, the error envelope). Stateless, JSON responses: any instance behind a load
balancer answers any request, with no session to keep. Each request must carry a personal
API token as its Bearer; it is looked up before the request reaches the SDK (a clear 401),
and again by each tool call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.transport_security import TransportSecuritySettings
from quart import Blueprint, Response, current_app, request
from quart_schema import hide
from werkzeug.datastructures import Headers

from app.api.errors import shutting_down
from app.api.mcp.tools import build_mcp_server
from app.domain.errors import UnauthenticatedError
from app.runtime import Runtime
from app.services.tokens import is_api_token

MCP_PATH = "/mcp"
blueprint = Blueprint("mcp", __name__)

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

    async def respond(self) -> Response:
        if self._runtime.draining:
            raise shutting_down()
        secret = _bearer(request.headers)
        if secret is None or not is_api_token(secret):
            raise UnauthenticatedError("api_token_required", "Send a personal API token: Authorization: Bearer twp_...")
        await self._runtime.services.auth.authenticate(secret)
        # Read here, whole (a JSON-RPC message, within the API's body limit): read by the SDK,
        # a body over the limit would be an exception inside it, which it answers with a 500.
        body = await request.get_data(cache=False, as_text=False, parse_form_data=False)
        return await _run_asgi(self._app, dict(request.scope), body)


async def _run_asgi(app: ASGIApp, scope: Scope, body: bytes) -> Response:
    """The current request, whose body is ``body``, answered by ``app``: its status and
    headers once it sends them, its body streamed as it comes."""
    ended = asyncio.Event()
    started: asyncio.Future[MutableMapping[str, Any]] = asyncio.get_running_loop().create_future()
    chunks: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def receive() -> MutableMapping[str, Any]:
        if not ended.is_set():
            ended.set()
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the response's end cancels the app, never a disconnect
        raise AssertionError("unreachable")

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.set_result(message)
        elif message["type"] == "http.response.body":
            if message.get("body"):
                await chunks.put(message["body"])
            if not message.get("more_body", False):
                await chunks.put(None)

    async def run() -> None:
        try:
            await app(scope, receive, send)
        except BaseException as error:
            if not started.done():
                started.set_exception(error)
            raise
        finally:
            await chunks.put(None)

    running = asyncio.create_task(run(), name="mcp-request")
    try:
        start = await started
    except BaseException:
        running.cancel()
        raise

    async def stream() -> AsyncIterator[bytes]:
        try:
            while (chunk := await chunks.get()) is not None:
                yield chunk
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await running

    headers = Headers([(name.decode("latin-1"), value.decode("latin-1")) for name, value in start.get("headers", [])])
    return Response(stream(), status=start["status"], headers=headers)


@blueprint.route(MCP_PATH, methods=["GET", "POST", "DELETE"])
@hide  # JSON-RPC, described by the MCP specification and docs/mcp.md, not by this OpenAPI
async def mcp() -> Response:
    """The MCP server (streamable HTTP)."""
    endpoint: McpEndpoint = current_app.extensions["taskwire_mcp"]
    return await endpoint.respond()
