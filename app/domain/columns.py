"""Columns with free-text names: a board's ``columns`` stay the stable keys a task's status
refers to (v1), and a display name and a work-in-progress limit may stand beside each key.

People name columns "To Do" or "Code Review 👀"; programs keep using the key the name was
first given (``to_do``, ``code_review``), which never changes when the column is renamed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from typing import Any

from app.domain.models import Board

KEY_MAX_LENGTH = 40
NAME_MAX_LENGTH = 60
MAX_COLUMNS = 20
MAX_WIP_LIMIT = 10_000
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_NOT_KEY_TEXT = re.compile(r"[^a-z0-9]+")
_KEY_SEPARATORS = re.compile(r"[-_]+")


def is_key(text: str) -> bool:
    return len(text) <= KEY_MAX_LENGTH and KEY_PATTERN.match(text) is not None


def key_for_name(name: str, taken: Collection[str]) -> str:
    """A new key for a column called ``name``: its letters and digits folded to ASCII, words
    joined by ``_`` ("Code Review 👀" -> ``code_review``), ``column`` when nothing is left, and
    ``_2``, ``_3``... when another column of the board has it."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    base = _NOT_KEY_TEXT.sub("_", folded).strip("_")[: KEY_MAX_LENGTH - 4].strip("_") or "column"
    key, suffix = base, 2
    while key in taken:
        key, suffix = f"{base}_{suffix}", suffix + 1
    return key


def shown_name(board: Board, key: str) -> str:
    return board.column_names.get(key, key)


def _called(key: str, names: dict[str, str]) -> set[str]:
    """What a column answers to, without case: its key, its key as words (``in_progress``
    is shown "In progress" when it has no name) and its display name."""
    return {key.casefold(), _KEY_SEPARATORS.sub(" ", key).strip().casefold(), names.get(key, key).casefold()}


def name_clash(board: Board, name: str, except_key: str | None = None) -> str | None:
    """The key of another column that already answers to ``name``, if any."""
    wanted = name.casefold()
    for key in board.columns:
        if key != except_key and wanted in _called(key, board.column_names):
            return key
    return None


def resolve_columns(entries: list[str], board: Board | None) -> tuple[list[str], dict[str, str]]:
    """The keys and display names that a list of ``columns`` entries (POST or PATCH of a
    board) means. Each entry is, in this order: the key of one of the board's columns; the
    display name of one; key-shaped text, the key of a new column (as in v1); or any other
    text, the name of a new column whose key is derived from it."""
    names = dict(board.column_names) if board else {}
    existing = list(board.columns) if board else []
    by_name = {name.casefold(): key for key, name in names.items() if key in existing}
    keys: list[str] = []
    for entry in entries:
        if entry in existing:
            key = entry
        elif entry.casefold() in by_name:
            key = by_name[entry.casefold()]
        elif is_key(entry) and entry not in keys:
            key = entry
        else:
            key = key_for_name(entry, {*existing, *keys, *(e for e in entries if is_key(e))})
            names[key] = entry
        keys.append(key)
    kept = set(keys)
    return keys, {key: name for key, name in names.items() if key in kept}


def names_clash(keys: list[str], names: dict[str, str]) -> bool:
    """Do two of these columns answer to the same key or name (see ``_called``)?"""
    seen: set[str] = set()
    for key in keys:
        called = _called(key, names)
        if seen & called:
            return True
        seen |= called
    return False


def column_view(board: Board, key: str) -> dict[str, Any]:
    """One column as the column endpoints and events show it."""
    return {
        "key": key,
        "name": board.column_names.get(key),
        "wip_limit": board.wip_limits.get(key),
        "position": board.columns.index(key),
    }
