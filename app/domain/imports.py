"""Imports: a Trello or Planka board export or a CSV file becomes a board, in one job per board.

The job's file is uploaded in parts (each within the request size limit), kept in the
store (any instance may take a part, and run the job), then read as a stream: a 100 MB export is imported in bounded memory.
Every record made from the file gets an id derived from the file's own ids (``stable_id``),
so a resumed job, or the same file imported again, finds what it made before and skips
it instead of duplicating it.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any

from app.domain.clock import parse_time
from app.domain.ids import ALPHABET
from app.domain.shape import field, record


class ImportSource(StrEnum):
    TRELLO = "trello"
    PLANKA = "planka"
    CSV = "csv"


class ImportState(StrEnum):
    UPLOADING = "uploading"  # parts of the file are still arriving
    QUEUED = "queued"  # whole; an instance will run it
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@record
class ImportJob:
    id: str
    user_id: str
    source: ImportSource
    state: ImportState
    file_name: str
    size: int = field(doc="The file's size in bytes, as announced.")
    received: int = field(doc="Bytes uploaded so far; the next part starts here.")
    options: dict[str, Any] = field(
        doc="CSV: `columns` (field -> CSV column name). Both: `members` (source member -> email), `board_name`."
    )
    board_id: str | None = field(doc="The board the import fills, once it exists.")
    progress: int = field(doc="Percent done, 0 to 100.")
    result: dict[str, Any] = field(
        doc="`imported` (counts by kind), `skipped` (counts by reason) and `skipped_items` (the first ones, with why)."
    )
    error: str | None
    lease_until: str | None = field(view=None)  # the instance running it holds it until then
    created_at: str
    updated_at: str


def stable_id(*parts: str, at: str | None = None) -> str:
    """An id in the one id format, the same for the same ``parts``: its time part is ``at``
    (the source record's own date, so that imported comments keep their order), its random
    part a hash of ``parts``."""
    millis = 0
    if at:
        try:
            millis = max(0, int(parse_time(at).timestamp() * 1000)) & ((1 << 48) - 1)
        except ValueError:
            millis = 0
    digest = int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:10])
    value = millis << 80 | digest
    return "".join(ALPHABET[(value >> (5 * shift)) & 31] for shift in reversed(range(26)))
