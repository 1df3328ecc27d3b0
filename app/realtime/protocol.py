"""The WebSocket messages of the v1 contract: what a client may send, parsed strictly, and
what the server answers, serialised with the one JSON encoder.

Parsing never raises anything but ``InvalidMessage``: nothing a client sends may crash
its connection, let alone the process.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from datetime import UTC, datetime
from typing import Any, TypeGuard

from app.domain.clock import format_time
from app.jsonutil import dumps, loads

MAX_ID_LENGTH = 128  # board ids are 26 chars; request ids are the client's own
MAX_TOKEN_LENGTH = 4096


class InvalidMessage(Exception):
    """The frame is not a message we understand; ``request_id`` is echoed when we found one."""

    def __init__(self, message: str, request_id: str | int | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


@dataclasses.dataclass(slots=True, frozen=True)
class Auth:
    token: str
    id: str | int | None = None


@dataclasses.dataclass(slots=True, frozen=True)
class Subscribe:
    board: str
    since: int | None
    id: str | int | None


@dataclasses.dataclass(slots=True, frozen=True)
class Unsubscribe:
    board: str
    id: str | int | None


@dataclasses.dataclass(slots=True, frozen=True)
class _Bare:
    """A message that says nothing but its type (its class) and request id."""

    id: str | int | None


class Ping(_Bare):
    __slots__ = ()


class NotificationsSubscribe(_Bare):
    __slots__ = ()


class NotificationsUnsubscribe(_Bare):
    __slots__ = ()


@dataclasses.dataclass(slots=True, frozen=True)
class DocumentOpen:
    task: str
    state_vector: bytes | None  # what the client has; None: it has nothing yet
    id: str | int | None


@dataclasses.dataclass(slots=True, frozen=True)
class DocumentUpdate:
    task: str
    update: bytes
    id: str | int | None


@dataclasses.dataclass(slots=True, frozen=True)
class DocumentAwareness:
    task: str
    update: bytes
    id: str | int | None


@dataclasses.dataclass(slots=True, frozen=True)
class DocumentClose:
    task: str
    id: str | int | None


ClientMessage = (
    Auth
    | Subscribe
    | Unsubscribe
    | Ping
    | NotificationsSubscribe
    | NotificationsUnsubscribe
    | DocumentOpen
    | DocumentUpdate
    | DocumentAwareness
    | DocumentClose
)


def _is_text(value: Any, max_length: int) -> TypeGuard[str]:
    """A non-empty string we can send back: JSON may carry lone surrogates ("\\ud800"),
    which no UTF-8 frame can hold."""
    if not isinstance(value, str) or not value or len(value) > max_length:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _request_id(body: dict[str, Any]) -> str | int | None:
    value = body.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidMessage('"id" must be a string or an integer.')
    if isinstance(value, str) and not _is_text(value, MAX_ID_LENGTH):
        raise InvalidMessage(f'"id" must be text of 1 to {MAX_ID_LENGTH} characters.')
    if isinstance(value, int) and abs(value) > 2**53:
        raise InvalidMessage('"id" is out of range.')
    return value


def _id_of(name: str, body: dict[str, Any], request_id: str | int | None) -> str:
    """The id of the board or task (``name``) a message is about."""
    value = body.get(name)
    if not _is_text(value, MAX_ID_LENGTH):
        raise InvalidMessage(f'"{name}" must be a {name} id.', request_id)
    return value


def _since(body: dict[str, Any], request_id: str | int | None) -> int | None:
    since = body.get("since")
    if since is None:
        return None
    # JSON true/false arrive as bool, which Python counts as int.
    if isinstance(since, bool) or not isinstance(since, int) or not 0 <= since < 2**53:
        raise InvalidMessage('"since" must be null or a seq (a whole number >= 0).', request_id)
    return since


def _binary(body: dict[str, Any], name: str, request_id: str | int | None, required: bool = True) -> bytes | None:
    """A base64 field (a Yjs update, state vector or awareness update)."""
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidMessage(f'"{name}" must be base64 text.', request_id)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidMessage(f'"{name}" is not valid base64.', request_id) from None


def _document_message(kind: str, body: dict[str, Any], request_id: str | int | None) -> ClientMessage:
    task = _id_of("task", body, request_id)
    match kind:
        case "doc.open":
            return DocumentOpen(task, _binary(body, "state_vector", request_id, required=False), request_id)
        case "doc.update":
            update = _binary(body, "update", request_id)
            assert update is not None
            return DocumentUpdate(task, update, request_id)
        case "doc.awareness":
            update = _binary(body, "update", request_id)
            assert update is not None
            return DocumentAwareness(task, update, request_id)
        case _:
            return DocumentClose(task, request_id)


def parse_client_message(frame: str) -> ClientMessage:
    try:
        body = loads(frame)
    # ValueError, not only JSONDecodeError: an integer past Python's 4300-digit limit raises it.
    except (ValueError, RecursionError):
        raise InvalidMessage("The frame is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidMessage('A message is a JSON object with a "type".')
    request_id = _request_id(body)
    match body.get("type"):
        case "auth":
            token = body.get("token")
            if not _is_text(token, MAX_TOKEN_LENGTH):
                raise InvalidMessage('"token" must be an access token.', request_id)
            return Auth(token, request_id)
        case "subscribe":
            return Subscribe(_id_of("board", body, request_id), _since(body, request_id), request_id)
        case "unsubscribe":
            return Unsubscribe(_id_of("board", body, request_id), request_id)
        case "ping":
            return Ping(request_id)
        case "notifications.subscribe":
            return NotificationsSubscribe(request_id)
        case "notifications.unsubscribe":
            return NotificationsUnsubscribe(request_id)
        case "doc.open" | "doc.update" | "doc.awareness" | "doc.close" as kind:
            return _document_message(kind, body, request_id)
        case _:
            raise InvalidMessage(
                'Unknown "type"; expected subscribe, unsubscribe, ping, notifications.subscribe,'
                " notifications.unsubscribe, doc.open, doc.update, doc.awareness or doc.close.",
                request_id,
            )


# -- server messages ----------------------------------------------------------------------


class Outbound:
    """One server message on its way to local sockets: its text, what the edges need to
    know of it without parsing it again (its type, and the seq of an event: the SSE ``id:``),
    and its WebSocket frame, built by the first socket that needs it and then shared by
    every other (server frames are unmasked, so the bytes are the same for all)."""

    __slots__ = ("frame", "kind", "seq", "text")

    def __init__(self, text: str, kind: str | None = None, seq: int | None = None) -> None:
        self.text = text
        self.kind = kind  # None: not known without parsing (control messages, rare)
        self.seq = seq
        self.frame: bytes | None = None


def _with_id(message: dict[str, Any], request_id: str | int | None) -> str:
    if request_id is not None:
        message["id"] = request_id
    return dumps(message)


def ready_message(user: dict[str, Any], expires_at: float | None = None) -> str:
    return dumps({"type": "ready", "user": user, "expires_at": _time(expires_at)})


def auth_expiring_message(expires_at: float) -> str:
    """Ahead of an access token's expiry: send ``auth`` with a fresh one of the same session."""
    return dumps({"type": "auth.expiring", "expires_at": _time(expires_at)})


def auth_renewed_message(expires_at: float | None, request_id: str | int | None) -> str:
    return _with_id({"type": "auth.renewed", "expires_at": _time(expires_at)}, request_id)


def _time(moment: float | None) -> str | None:
    return None if moment is None else format_time(datetime.fromtimestamp(moment, UTC))


def error_message(code: str, message: str, request_id: str | int | None = None) -> str:
    return _with_id({"type": "error", "code": code, "message": message}, request_id)


def unavailable_message(request_id: str | int | None = None) -> str:
    """The store or broker failed while handling a message (the REST API's 503)."""
    return error_message("unavailable", "A backing service is unavailable; retry shortly.", request_id)


def internal_error_message(request_id: str | int | None = None) -> str:
    return error_message("internal_error", "Something went wrong on our side.", request_id)


def subscribed_message(board: str, seq: int, request_id: str | int | None) -> str:
    return _with_id({"type": "subscribed", "board": board, "seq": seq}, request_id)


def unsubscribed_message(board: str, reason: str, request_id: str | int | None = None) -> str:
    return _with_id({"type": "unsubscribed", "board": board, "reason": reason}, request_id)


def reset_message(board: str, seq: int) -> str:
    return dumps({"type": "reset", "board": board, "seq": seq})


def pong_message(request_id: str | int | None) -> str:
    return _with_id({"type": "pong"}, request_id)


def presence_message(board: str, users: list[dict[str, str]], count: int) -> str:
    return dumps({"type": "presence", "board": board, "users": users, "count": count})


def notifications_subscribed_message(unread: int, request_id: str | int | None) -> str:
    return _with_id({"type": "notifications.subscribed", "unread": unread}, request_id)


def notifications_unsubscribed_message(request_id: str | int | None) -> str:
    return _with_id({"type": "notifications.unsubscribed"}, request_id)


# The live stream may have missed notifications (the broker reconnected): refetch over REST.
NOTIFICATIONS_REFETCH_MESSAGE = dumps({"type": "notifications.refetch"})


def document_opened_message(
    task: str, board: str, missing: bytes, state: bytes, writable: bool, request_id: str | int | None
) -> str:
    return _with_id(
        {
            "type": "doc.opened",
            "task": task,
            "board": board,
            "update": base64.b64encode(missing).decode(),
            "state_vector": base64.b64encode(state).decode(),
            "writable": writable,
        },
        request_id,
    )


def document_ack_message(task: str, request_id: str | int | None) -> str:
    return _with_id({"type": "doc.ack", "task": task}, request_id)
