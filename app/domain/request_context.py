"""Values that belong to the request (or WebSocket connection) being served, as context
variables: set once at the edge, read where they matter, never passed through every layer.

Each request and each connection runs in a context of its own (tasks started from it get a
copy), so one caller's values never reach another's work.
"""

from __future__ import annotations

import dataclasses
from contextvars import ContextVar

# The client mutation id the request sent (body field or X-Client-Mutation-Id header).
# Every event draft made while serving it carries it (see EventDraft), so the author's
# client can recognise, and skip, the echo of its own change.
CLIENT_MUTATION_ID: ContextVar[str | None] = ContextVar("client_mutation_id", default=None)


@dataclasses.dataclass(frozen=True, slots=True)
class TokenLimits:
    """What a personal API token narrows its user's access to."""

    board_ids: frozenset[str] | None  # None: every board of the user
    writable: bool

    def allows_board(self, board_id: str) -> bool:
        return self.board_ids is None or board_id in self.board_ids


_TOKEN_LIMITS: ContextVar[TokenLimits | None] = ContextVar("token_limits", default=None)

# The API token a request (or connection, or MCP tool call) acts with, as its events record
# it (``Event.via``): {"token_id", "token_name"}; None for a signed-in session.
ACTING_TOKEN: ContextVar[dict[str, str] | None] = ContextVar("acting_token", default=None)


def bind_token_limits(limits: TokenLimits | None) -> None:
    """Hold the rest of this request (or connection) to ``limits``; None for a session."""
    _TOKEN_LIMITS.set(limits)


def current_token_limits() -> TokenLimits | None:
    return _TOKEN_LIMITS.get()


def board_allowed(board_id: str) -> bool:
    """False for a board the caller's API token does not cover (the caller is told 404)."""
    limits = _TOKEN_LIMITS.get()
    return limits is None or limits.allows_board(board_id)


# The board checks (board id, role) a request passed, collected while an idempotent POST
# runs: its stored response is replayed only to a caller who still passes them all.
_BOARD_CHECKS: ContextVar[list[tuple[str, str]] | None] = ContextVar("board_checks", default=None)


def collect_board_checks() -> list[tuple[str, str]]:
    """From now on in this context, note every board check passed in the returned list."""
    checks: list[tuple[str, str]] = []
    _BOARD_CHECKS.set(checks)
    return checks


def note_board_check(board_id: str, role: str) -> None:
    checks = _BOARD_CHECKS.get()
    if checks is not None:
        checks.append((board_id, role))
