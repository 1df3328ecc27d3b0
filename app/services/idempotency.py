"""Idempotent POSTs: a client that resends a request with the same ``Idempotency-Key``
gets the first response again, and the write happens once.

Keys belong to one credential: a login session (its access and refresh tokens) or one API
token. A replay can therefore only ever hand a response to the credential that made the
request, never to a token limited to other boards; and it is held to the same board checks
the first request passed (``FirstAnswer.board_checks``), so access lost since also ends
the replays.

The first request claims ``(credential, key)`` in the broker with an atomic set-if-absent (one
``SET NX`` on Redis, so it holds across instances), runs, and leaves its response there
for 24 hours. While it runs, the claim is a short lease: a second request with the key
is refused with ``idempotency_in_progress``, and if the process dies mid-request the lease runs
out rather than locking the key for a day. A request that fails (4xx, 5xx) releases the
key: nothing was written, so a retry may run again.

What the first request answered is its edge's to write and read (app/api/idempotency.py:
an HTTP response's status, body and replayed headers); kept here as given, unread, so
nothing below the edges knows HTTP.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from typing import Any

from app.broker.base import BrokerUnavailable, SharedValues
from app.domain.errors import ConflictError, InvalidInputError, MalformedInputError
from app.jsonutil import dumps, loads
from app.services.wiring import service

log = logging.getLogger(__name__)

KEY_MAX_LENGTH = 200
RESPONSE_TTL_SECONDS = 24 * 3600
LEASE_SECONDS = 60  # longer than any request should take; a crash frees the key after it
KEY_PREFIX = "idempotency:"
# A kept record's own fields. The first answer's fields sit beside them, not nested, as
# records have always been laid out: one kept before an upgrade still replays after it.
_RECORD_FIELDS = frozenset({"state", "fingerprint", "board_checks"})


@dataclasses.dataclass(frozen=True, slots=True)
class FirstAnswer:
    """What a request that already ran answered, in its edge's own JSON fields (any names
    but the record's own)."""

    fields: dict[str, Any]
    # (board id, role) of every board access check the first request passed.
    board_checks: tuple[tuple[str, str], ...] = ()


def credential_scope(user_id: str, session_id: str) -> str:
    """Whose keys these are: a session id is the login session's, or ``api-token:<id>``."""
    return f"{user_id}:{session_id}"


def request_fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    """What makes two requests "the same request": method, path with query, and body bytes."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))  # length-prefixed: no two splits collide
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> None:
    if not 1 <= len(key) <= KEY_MAX_LENGTH or not key.isprintable():
        raise MalformedInputError(
            "invalid_idempotency_key", f"Idempotency-Key must be 1 to {KEY_MAX_LENGTH} printable characters."
        )


@service
class IdempotencyService:
    _broker: SharedValues

    @staticmethod
    def _slot(scope: str, key: str) -> str:
        # Hashed: keys are the client's text, of any characters, up to 200 of them.
        return f"{KEY_PREFIX}{scope}:{hashlib.sha256(key.encode()).hexdigest()}"

    async def claim(self, scope: str, key: str, fingerprint: str) -> FirstAnswer | None:
        """None: this request holds the key now and must run (then ``complete``, ``withhold``
        or ``release``). A FirstAnswer: the request already ran; answer with it."""
        check_key(key)
        slot = self._slot(scope, key)
        pending = dumps({"state": "pending", "fingerprint": fingerprint})
        # Two rounds: a lease can expire between a failed claim and the read that follows.
        for _ in range(2):
            if await self._broker.set_value_if_absent(slot, pending, LEASE_SECONDS):
                return None
            stored = await self._broker.get_value(slot)
            if stored is not None:
                return self._answer(loads(stored), fingerprint)
        raise _in_progress()

    @staticmethod
    def _answer(record: dict[str, Any], fingerprint: str) -> FirstAnswer:
        if record.get("fingerprint") != fingerprint:
            raise InvalidInputError(
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request; use a new key.",
            )
        if record.get("state") == "pending":
            raise _in_progress()
        if record.get("state") == "withheld":
            raise ConflictError(
                "idempotency_response_withheld",
                "This request was already done, and its response held a secret that is never "
                "kept; list the resource to find what it created.",
            )
        return FirstAnswer(
            {name: value for name, value in record.items() if name not in _RECORD_FIELDS},
            tuple((board, role) for board, role in record.get("board_checks") or ()),
        )

    async def complete(self, scope: str, key: str, fingerprint: str, answer: FirstAnswer) -> None:
        """Keep the answer for replays."""
        checks = [list(check) for check in answer.board_checks]
        await self._keep(
            scope, key, {"state": "done", "fingerprint": fingerprint, **answer.fields, "board_checks": checks}
        )

    async def withhold(self, scope: str, key: str, fingerprint: str) -> None:
        """The answer carried a secret (a new API token), which is never kept: only the fact
        that the request ran is."""
        await self._keep(scope, key, {"state": "withheld", "fingerprint": fingerprint})

    async def _keep(self, scope: str, key: str, record: dict[str, Any]) -> None:
        try:
            await self._broker.set_value(self._slot(scope, key), dumps(record), RESPONSE_TTL_SECONDS)
        except BrokerUnavailable:
            # The write is done and its answer is on its way: failing now would make the
            # client retry a write that happened. The lease still guards the next minute.
            log.warning("idempotent response not kept: broker unavailable")

    async def release(self, scope: str, key: str) -> None:
        try:
            await self._broker.delete_value(self._slot(scope, key))
        except BrokerUnavailable:
            log.warning("idempotency key not released: broker unavailable; its lease runs out instead")


def _in_progress() -> ConflictError:
    return ConflictError(
        "idempotency_in_progress", "A request with this Idempotency-Key is still running; retry shortly.", retry_after=1
    )
