"""Opaque page cursors: base64url JSON of what the next page starts after, tagged with
what it pages over so a cursor of one list (or sort) cannot be replayed on another."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from quart import Response

from app.api.errors import APIError
from app.api.responses import json_response
from app.jsonutil import loads


def encode_cursor(kind: str, position: list[Any]) -> str:
    raw = json.dumps([kind, *position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# What both stores can take as a query value: a 64-bit integer, or text that is valid UTF-8
# (JSON's "\ud800" decodes to a lone surrogate, which neither driver can encode).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _storable(part: Any) -> bool:
    if isinstance(part, bool):
        return False
    if isinstance(part, int):
        return INT64_MIN <= part <= INT64_MAX
    if isinstance(part, str):
        try:
            part.encode()
        except UnicodeEncodeError:
            return False
        return True
    return False


def decode_cursor(kind: str, cursor: str, arity: int) -> list[Any]:
    """The position in ``cursor``; 400 ``invalid_cursor`` for anything we did not encode
    (a forged one included: its parts reach the store as query values)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = loads(raw)
    except (binascii.Error, ValueError):
        decoded = None
    if (
        not isinstance(decoded, list)
        or len(decoded) != arity + 1
        or decoded[0] != kind
        or not all(_storable(part) for part in decoded[1:])
    ):
        raise APIError(400, "invalid_cursor", "The cursor is not valid for this list; start from the first page.")
    return decoded[1:]


class _PageQuery(Protocol):
    @property
    def cursor(self) -> str | None: ...
    @property
    def limit(self) -> int: ...


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


def cursor_id(kind: str, cursor: str | None) -> Any:
    """The id of the record a page of a list paged by id starts after (before, on a newest-first
    list); None for the first page."""
    return decode_cursor(kind, cursor, 1)[0] if cursor else None


def id_page[R: _Identified](
    kind: str, records: Sequence[R], more: bool, view: Callable[[R], Any], **extra: Any
) -> dict[str, Any]:
    """A page of a list paged by id: the records' views, and the cursor of the next page (after
    the last record) when there is one."""
    next_cursor = encode_cursor(kind, [records[-1].id]) if more and records else None
    return {"items": [view(record) for record in records], "next_cursor": next_cursor, **extra}


async def id_paged[R: _Identified](
    kind: str,
    query: _PageQuery,
    view: Callable[[R], Any],
    load: Callable[..., Awaitable[tuple[Sequence[R], bool]]],
    *args: Any,
) -> Response:
    """The answer of a list paged by id: ``load(*args, after, limit)`` reads the page the
    query's cursor starts after, and whether more follow."""
    records, more = await load(*args, cursor_id(kind, query.cursor), query.limit)
    return json_response(id_page(kind, records, more, view))
