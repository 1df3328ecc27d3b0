"""``GET /api/v1/boards/{board_id}/events/stream``: the board's events as Server-Sent Events,
for clients behind proxies that break WebSockets (docs/realtime.md).

The stream is one more hub connection subscribed to one board, so it gets exactly what a
WebSocket subscription gets, by the same seq discipline: the log replayed from the
client's position, then live events, no gap and no repeat. Each event's ``id:`` is its
seq; a client that reconnects sends it back as ``Last-Event-ID`` (EventSource does that
by itself) and resumes after it. ``subscribed`` and ``reset`` also carry an ``id:``, the
board's latest seq, so a client that reconnects after a quiet spell does not replay what
it has already been told to skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator
from typing import Any

from quart import Blueprint, Response, request

from app.api.auth_context import bearer_token, caller
from app.api.contracts import contract
from app.api.errors import APIError, shutting_down
from app.api.guards import WRITE, authenticated_or_stream_ticket, guards, idempotent, rate_limited_per_user
from app.api.realtime_errors import failure_message
from app.api.responses import json_response
from app.api.schemas import MAX_SEQ, EventStreamQuery, StreamTicketOut
from app.domain.request_context import TokenLimits, bind_token_limits
from app.jsonutil import loads
from app.observability import metrics
from app.realtime.connection import CLOSE_UNAUTHORIZED, Connection
from app.realtime.hub import Hub
from app.realtime.protocol import Outbound, Subscribe, error_message
from app.runtime import current_runtime
from app.services.stream_tickets import TICKET_TTL_SECONDS

blueprint = Blueprint("event_stream", __name__, url_prefix="/api/v1/boards")

# How long EventSource waits before it reconnects (its default is browser-defined).
RECONNECT_MILLISECONDS = 2000
# Messages that end the stream: the subscription is over (a removed member or a deleted
# board then gets 404 on reconnecting, which stops EventSource), or it could not start
# (the reconnect is the retry).
_FINAL_TYPES = frozenset({"unsubscribed", "error"})


@blueprint.post("/<board_id>/events/stream-ticket")
@guards(*WRITE, idempotent)
@contract(answers={201: StreamTicketOut})
async def stream_ticket(board_id: str) -> Response:
    """A single-use ticket that opens this board's event stream without an Authorization
    header (``EventSource`` cannot send one): ``GET .../events/stream?ticket=<ticket>``.
    Good once, for 30 seconds; each reconnect asks for a new one."""
    runtime = current_runtime()
    await runtime.services.boards.get(caller().user, board_id)  # 404 for a board the caller cannot read
    ticket = await runtime.services.stream_tickets.issue(bearer_token() or "", board_id)
    return json_response({"ticket": ticket, "expires_in": int(TICKET_TTL_SECONDS)}, 201)


@blueprint.get("/<board_id>/events/stream")
@guards(authenticated_or_stream_ticket, rate_limited_per_user)
@contract(query=EventStreamQuery)
async def event_stream(board_id: str, query_args: EventStreamQuery) -> Response:
    """The board's events as Server-Sent Events (``text/event-stream``): ``id:`` is the
    seq and ``data:`` the same JSON object a WebSocket subscription gets. Resume with
    ``Last-Event-ID`` (or ``?after=<seq>`` on the first connection); without either the
    stream starts with the next event. Authenticate with the Authorization header, or with
    ``?ticket=`` from ``POST .../events/stream-ticket``."""
    runtime = current_runtime()
    if runtime.draining:
        raise shutting_down()
    since = _resume_position(query_args.after)
    who = caller()
    await runtime.services.boards.get(who.user, board_id)  # 404 before the stream starts
    conn_queue: asyncio.Queue[list[Outbound]] = asyncio.Queue(maxsize=1)
    conn = Connection(conn_queue.put, runtime.settings.ws_send_queue)
    conn.user, conn.session_id = who.user, who.session_id
    body = _stream(
        runtime.hub,
        conn,
        conn_queue,
        Subscribe(board_id, since, None),
        who.limits,
        runtime.settings.sse_keepalive_seconds,
        who.expires_at,
    )
    response = Response(body, content_type="text/event-stream; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx would otherwise hold the events back
    response.timeout = None  # the stream lasts as long as the client listens
    return response


def _resume_position(after: int | None) -> int | None:
    header = request.headers.get("Last-Event-ID")
    if header is None or not header.strip():
        return after
    text = header.strip()
    if not text.isascii() or not text.isdigit() or int(text) > MAX_SEQ:
        raise APIError(
            422,
            "validation_error",
            "Last-Event-ID must be a seq this stream sent.",
            [{"loc": ["headers", "Last-Event-ID"], "msg": "not a seq", "type": "invalid"}],
        )
    return int(text)


async def _stream(
    hub: Hub,
    conn: Connection,
    frames: asyncio.Queue[list[Outbound]],
    subscribe: Subscribe,
    limits: TokenLimits | None,
    keepalive_seconds: float,
    expires_at: float | None,
) -> AsyncIterator[bytes]:
    # The body runs outside the handler's context: hold it to the token's board limits again.
    bind_token_limits(limits)
    hub.connect(conn)
    metrics.SSE_STREAMS.inc()
    subscribing = asyncio.create_task(_subscribe(hub, conn, subscribe))
    closing = asyncio.create_task(conn.wait_close_requested())
    taking: asyncio.Future[list[Outbound]] = asyncio.ensure_future(frames.get())
    try:
        yield f"retry: {RECONNECT_MILLISECONDS}\n\n".encode()
        while True:
            # The stream ends with its credential; a client reconnects with a fresh token.
            left = math.inf if expires_at is None else expires_at - time.time()
            if left <= 0:
                yield _to_sse(
                    [
                        Outbound(
                            error_message(
                                "session_expired", "The token of this stream has expired; reconnect with a fresh one."
                            )
                        )
                    ]
                )[0]
                return
            watched: set[asyncio.Future[Any]] = {taking, closing}
            done, _ = await asyncio.wait(
                watched, timeout=min(keepalive_seconds, left), return_when=asyncio.FIRST_COMPLETED
            )
            if taking in done:
                chunk, final = _to_sse(taking.result())
                yield chunk
                if final:
                    return
                taking = asyncio.ensure_future(frames.get())
            elif closing in done:
                if conn.close_code == CLOSE_UNAUTHORIZED:  # logged out, or the API token revoked
                    yield _to_sse([Outbound(error_message("session_ended", "This session has ended; sign in again."))])[
                        0
                    ]
                return  # otherwise a slow reader or a restart: the client resumes from its last id
            elif left > keepalive_seconds:
                yield b": keepalive\n\n"  # proxies drop connections that stay silent
    finally:
        hub.disconnect(conn)
        metrics.SSE_STREAMS.dec()
        for task in (subscribing, closing, taking):
            task.cancel()
        await asyncio.gather(subscribing, closing, taking, return_exceptions=True)
        with contextlib.suppress(Exception):
            await conn.stop_sending()


async def _subscribe(hub: Hub, conn: Connection, subscribe: Subscribe) -> None:
    """Like a WebSocket's subscribe message, a failure is told as an ``error``; here it also
    ends the stream, and the client's reconnect (with its Last-Event-ID) is the retry."""
    try:
        await hub.subscribe(conn, subscribe)
    except Exception as error:
        conn.push(failure_message(error))


def _to_sse(batch: list[Outbound]) -> tuple[bytes, bool]:
    """Queued hub messages as SSE messages; True when one of them ends the stream. Events
    carry their seq from the hub; only the rare others are parsed for theirs."""
    parts: list[str] = []
    final = False
    for message in batch:
        kind, seq, line = message.kind, message.seq, message.text
        if kind is None:
            parsed = loads(line)
            kind, seq = parsed["type"], parsed.get("seq")
        if kind == "event":
            parts.append(f"id: {seq}\ndata: {line}\n\n")
        elif kind in ("subscribed", "reset"):
            parts.append(f"id: {seq}\nevent: {kind}\ndata: {line}\n\n")
        else:
            parts.append(f"event: {kind}\ndata: {line}\n\n")
            final = final or kind in _FINAL_TYPES
    return "".join(parts).encode(), final
