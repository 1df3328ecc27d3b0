"""Opaque page cursors: base64url JSON of what the next page starts after, tagged with
what it pages over so a cursor of one list (or sort) cannot be replayed on another."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from app.api.errors import APIError


def encode_cursor(kind: str, position: list[Any]) -> str:
    raw = json.dumps([kind, *position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, arity: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        decoded = None
    if (not isinstance(decoded, list) or len(decoded) != arity + 1 or decoded[0] != kind
            or not all(isinstance(part, (str, int)) and not isinstance(part, bool) for part in decoded[1:])):
        raise APIError(400, "invalid_cursor", "The cursor is not valid for this list; start from the first page.")
    return decoded[1:]
