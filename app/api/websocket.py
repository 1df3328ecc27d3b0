"""``/api/v1/ws``: the WebSocket endpoint of the v1 contract (docs/realtime.md).

The handler is the connection's writer; a reader task parses client frames and calls the
hub. A client disconnect reaches the handler as CancelledError: it cleans up (synchronously,
so nothing is left half done) and lets it propagate.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from quart import Blueprint, Response, websocket
from quart.wrappers.base import ClientDisconnectedError

from app.api import rate_limits
from app.api.errors import error_response, shutting_down
from app.api.guards import AUTHENTICATED, RATE_LIMITED_PER_USER, mark_guarded
from app.api.realtime_errors import auth_failure_close_code, failure_message
from app.api.socket_credential import SocketCredential
from app.broker.base import BrokerUnavailable
from app.domain.errors import DomainError, InvalidInputError, RateLimitedError
from app.observability import metrics
from app.realtime.connection import (
    CLOSE_INTERNAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_UNAUTHORIZED,
    Connection,
    text_sender,
)
from app.realtime.documents import MAX_DOCUMENTS_PER_CONNECTION, closed_message
from app.realtime.hub import Hub
from app.realtime.hypercorn_compat import direct_frames
from app.realtime.protocol import (
    Auth,
    ClientMessage,
    DocumentAwareness,
    DocumentClose,
    DocumentOpen,
    DocumentUpdate,
    InvalidMessage,
    NotificationsSubscribe,
    NotificationsUnsubscribe,
    Ping,
    Subscribe,
    Unsubscribe,
    document_ack_message,
    document_opened_message,
    error_message,
    parse_client_message,
    pong_message,
    ready_message,
)
from app.realtime.receive_buffer import BoundedReceiveBuffer
from app.runtime import current_runtime, services
from app.services.auth import AuthService
from app.settings import Settings
from app.store.base import StoreUnavailable

blueprint = Blueprint("realtime", __name__)

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """Same origin, or listed in TASKWIRE_CORS_ORIGINS. Browsers always send ``Origin`` on a
    WebSocket and cannot forge it; other clients send none and are let through (they hold
    a token anyway, which is what a cross-site page does not have)."""
    if origin is None:
        return True
    if origin in allowed:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname or not host:
        return False
    try:
        origin_port = parts.port or _DEFAULT_PORTS[parts.scheme]
        requested = urlsplit("//" + host)
        host_port = requested.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:  # a malformed port in either header
        return False
    return (parts.hostname, origin_port) == (requested.hostname, host_port)


@blueprint.websocket("/api/v1/ws")
async def stream() -> Response | None:
    """Events, presence and catch-up; authenticates in the first message (no token in URLs)."""
    runtime = current_runtime()
    if not origin_allowed(
        websocket.headers.get("Origin"), websocket.headers.get("Host"), runtime.settings.cors_origins
    ):
        return error_response(403, "forbidden_origin", "This origin may not open a WebSocket here.")
    if runtime.draining:
        raise shutting_down()
    await websocket.accept()
    await serve_socket(runtime.hub, runtime.services.auth, runtime.settings)
    return None


# Authentication happens in-band (the first message), and every frame counts against the
# caller's limit (_read_frames): the route-policy test sees both.
mark_guarded(stream, AUTHENTICATED, RATE_LIMITED_PER_USER)


async def serve_socket(hub: Hub, auth: AuthService, settings: Settings) -> None:
    conn = Connection(text_sender(websocket.send), settings.ws_send_queue, direct_frames(websocket.scope))
    credential = SocketCredential(conn, auth)
    hub.connect(conn)
    metrics.WS_CONNECTIONS.inc()
    reader: asyncio.Task[None] | None = None
    code: int | None = None
    try:
        code = await _authenticate(conn, credential, settings.ws_auth_timeout_seconds, settings.ws_max_message_bytes)
        if code is None:
            reader = asyncio.create_task(
                _read_frames(
                    conn, hub, credential, settings.ws_max_message_bytes, settings.rate_limit_ws_messages_per_minute
                )
            )
            # The reader never ends on its own; if it does (a bug), close rather than hang.
            reader.add_done_callback(lambda _: conn.request_close(CLOSE_INTERNAL))
            code = await conn.wait_close_requested()
    finally:
        credential.stop()
        hub.disconnect(conn)  # synchronous: done even if the awaits below are cut short
        metrics.WS_CONNECTIONS.dec()
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        await conn.stop_sending()
    # Not bounded by a timeout: a peer that stopped reading holds only this coroutine,
    # until Hypercorn's read_timeout drops it (it answers no pings either).
    with contextlib.suppress(ClientDisconnectedError):
        await websocket.close(code)


async def _authenticate(conn: Connection, credential: SocketCredential, timeout: float, max_bytes: int) -> int | None:
    """None once authenticated (``ready`` is queued), else the close code."""
    frame = await _first_frame(conn, timeout)
    if frame is None:
        return conn.close_code or CLOSE_UNAUTHORIZED
    if _too_big(frame, max_bytes):
        return CLOSE_TOO_BIG
    try:
        message = parse_client_message(frame) if isinstance(frame, str) else None
    except InvalidMessage:
        message = None
    if not isinstance(message, Auth):
        return CLOSE_UNAUTHORIZED
    try:
        caller = await credential.authenticate(message.token)
    except (DomainError, StoreUnavailable, BrokerUnavailable) as error:
        return auth_failure_close_code(error)
    conn.push(
        ready_message({"id": caller.user.id, "name": caller.user.name, "email": caller.user.email}, caller.expires_at)
    )
    return None


async def _first_frame(conn: Connection, timeout: float) -> str | bytes | None:
    """The first frame; None when it is late or the hub closes the socket meanwhile (a
    shutdown must not wait for a client that never authenticates)."""
    receiving = asyncio.ensure_future(websocket.receive())
    closing = asyncio.ensure_future(conn.wait_close_requested())
    try:
        await asyncio.wait({receiving, closing}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (receiving, closing):
            task.cancel()
        await asyncio.gather(receiving, closing, return_exceptions=True)
    if receiving.cancelled() or receiving.exception() is not None:
        return None
    return receiving.result()


def _too_big(frame: str | bytes, max_bytes: int) -> bool:
    if len(frame) > max_bytes:
        return True
    # A str counts characters; only a long one can be too many UTF-8 bytes.
    return isinstance(frame, str) and len(frame) * 4 > max_bytes and len(frame.encode()) > max_bytes


async def _read_frames(conn: Connection, hub: Hub, credential: SocketCredential, max_bytes: int, limit: int) -> None:
    buffer = websocket.buffer
    assert conn.user is not None
    user_id = conn.user.id
    while True:
        frame = await websocket.receive()
        if isinstance(buffer, BoundedReceiveBuffer) and buffer.overflowed:
            conn.request_close(CLOSE_POLICY)
            return
        if _too_big(frame, max_bytes):
            conn.request_close(CLOSE_TOO_BIG)
            return
        try:
            # Every frame counts, junk included, per user like the REST limit.
            await rate_limits.enforce("ws", user_id, limit)
        except RateLimitedError as error:
            conn.push(failure_message(error))
            continue
        await _handle_frame(conn, hub, credential, frame)


async def _handle_frame(conn: Connection, hub: Hub, credential: SocketCredential, frame: str | bytes) -> None:
    if isinstance(frame, bytes):
        conn.push(error_message("invalid_message", "Send JSON text frames, not binary ones."))
        return
    try:
        message = parse_client_message(frame)
    except InvalidMessage as error:
        conn.push(error_message("invalid_message", str(error), error.request_id))
        return
    try:
        await _handle_message(conn, hub, credential, message)
    except Exception as error:  # one bad message must never take the connection down
        conn.push(failure_message(error, getattr(message, "id", None)))


async def _handle_message(conn: Connection, hub: Hub, credential: SocketCredential, message: ClientMessage) -> None:
    match message:
        case Subscribe():
            await hub.subscribe(conn, message)
        case Unsubscribe():
            hub.unsubscribe(conn, message.board, message.id)
        case Ping():
            conn.push(pong_message(message.id))
        case NotificationsSubscribe():
            await hub.notifications.subscribe(conn, message.id)
        case NotificationsUnsubscribe():
            hub.notifications.unsubscribe(conn, message.id)
        case Auth():
            await credential.renew(message)
        case DocumentOpen():
            await _open_document(conn, hub, message)
        case DocumentUpdate():
            _require_open(conn, hub, message.task)
            assert conn.user is not None
            await services().documents.apply(conn.user, message.task, message.update, hub.documents.origin(conn))
            conn.push(document_ack_message(message.task, message.id))
        case DocumentAwareness():
            _require_open(conn, hub, message.task)
            await services().documents.relay_awareness(message.task, message.update, hub.documents.origin(conn))
        case DocumentClose():
            if hub.documents.close(conn, message.task):
                assert conn.user is not None
                services().documents.settle_now(message.task, conn.user.id)
            conn.push(closed_message(message.task, "client", message.id))


def _require_open(conn: Connection, hub: Hub, task_id: str) -> None:
    if not hub.documents.is_open(conn, task_id):
        raise InvalidInputError("document_not_open", "Send doc.open for this task first.")


async def _open_document(conn: Connection, hub: Hub, message: DocumentOpen) -> None:
    """Register first, then read: an update stored between the two reaches this socket
    anyway (held until access is checked; applying an update twice changes nothing)."""
    assert conn.user is not None
    relay = hub.documents
    if not relay.is_open(conn, message.task) and relay.open_count(conn) >= MAX_DOCUMENTS_PER_CONNECTION:
        raise InvalidInputError(
            "too_many_documents", f"At most {MAX_DOCUMENTS_PER_CONNECTION} documents open per connection."
        )
    relay.close(conn, message.task)  # a repeated open starts over from its own state vector
    await relay.register(conn, message.task)
    try:
        opened = await services().documents.open(conn.user, message.task, message.state_vector)
        if not hub.follows(conn, opened.board_id):
            raise InvalidInputError("not_subscribed", "Subscribe to the task's board before opening its document.")
    except BaseException:
        relay.close(conn, message.task)
        raise
    relay.activate(
        conn,
        message.task,
        opened.board_id,
        document_opened_message(
            message.task, opened.board_id, opened.missing, opened.state, opened.writable, message.id
        ),
    )
