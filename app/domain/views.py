"""The public JSON shape of each record (docs/design.md "Public contract, v1"), used by the REST
API, event data and WebSocket messages alike, so that the three never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.domain.models import ApiToken, Attachment, Board, Comment, Event, Member, Notification, Role, Task, User
from app.domain.recurrence import Recurrence
from app.domain.shape import FieldShape, Kind, shape_of


def record_view[R](cls: type[R]) -> Callable[[R], dict[str, Any]]:
    """The public JSON view of a record type: its shown fields in declaration order, under
    their view keys, with fresh lists and dicts and enums as their values (see app.domain.shape).

    The function is generated from the fields, the way ``dataclasses`` writes ``__init__``,
    so that a view costs what a hand-written dict literal does: views run once per record
    on every list page and every event.
    """
    shown = [item for item in shape_of(cls) if item.key is not None]
    entries: dict[str, Any] = {}
    for item in shown:
        *outer, key = (item.key or "").split(".")
        target = entries
        for name in outer:
            target = target.setdefault(name, {})
        target[key] = _expression(item)
    omitted = "".join(
        f"    if out[{item.key!r}] is None:\n        del out[{item.key!r}]\n" for item in shown if item.omit_none
    )
    source = f"def view(record):\n    out = {_literal(entries)}\n{omitted}    return out\n"
    namespace: dict[str, Any] = {}
    exec(source, {}, namespace)  # built from field names and repr()-quoted keys only
    view: Callable[[R], dict[str, Any]] = namespace["view"]
    view.__doc__ = f"The public JSON shape of a {cls.__name__}."
    return view


def _expression(item: FieldShape) -> str:
    value = f"record.{item.name}"
    match item.kind:
        case Kind.LIST | Kind.DICT:
            copy = f"{'list' if item.kind is Kind.LIST else 'dict'}({value})"
            return f"(None if {value} is None else {copy})" if item.nullable else copy
        case Kind.ENUM:
            return f"(None if {value} is None else {value}.value)" if item.nullable else f"{value}.value"
    return value


def _literal(entries: dict[str, Any]) -> str:
    return (
        "{"
        + ", ".join(
            f"{key!r}: {_literal(value) if isinstance(value, dict) else value}" for key, value in entries.items()
        )
        + "}"
    )


user_view = record_view(User)
member_view = record_view(Member)
task_view = record_view(Task)
event_view = record_view(Event)
comment_view = record_view(Comment)
attachment_view = record_view(Attachment)
recurrence_view = record_view(Recurrence)
api_token_view = record_view(ApiToken)  # as its owner may list it: never the secret nor its hash
# One notification, the same over REST and in the WebSocket ``notification`` message.
notification_view = record_view(Notification)
_board_view = record_view(Board)


def board_view(board: Board, role: Role | None = None) -> dict[str, Any]:
    view = _board_view(board)
    if role is not None:
        view["role"] = role.value
    return view


def event_message(event: Event) -> dict[str, Any]:
    """The WebSocket ``event`` message for an event."""
    message = {
        "type": "event",
        "board": event.board_id,
        "seq": event.seq,
        "event": event.type,
        "actor": event.actor,
        "at": event.at,
        "data": event.data,
    }
    return _with_client_mutation_id(message, event)


def _with_client_mutation_id(view: dict[str, Any], event: Event) -> dict[str, Any]:
    # Only present when the writing request sent one: older clients see the v1 shape unchanged.
    if event.client_mutation_id is not None:
        view["client_mutation_id"] = event.client_mutation_id
    if event.via is not None:  # likewise: only for a change made with an API token
        view["via"] = event.via
    return view


def notification_message(notification: Notification) -> dict[str, Any]:
    """The WebSocket ``notification`` message, published on the user's channel."""
    return {"type": "notification", "notification": notification_view(notification)}
