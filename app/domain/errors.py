"""What a service refuses, as data: a stable code (the contract's ``error.code``), a
message for people, and details a client can act on.

Services raise these and know nothing of HTTP. Each edge turns them into its own answer in
one place: ``app/api/errors.py`` (status, headers and the JSON error envelope) and
``app/api/realtime_errors.py`` (the WebSocket and event-stream ``error`` messages).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(self, code: str, message: str, details: Any = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        # Seconds after which the same request may succeed (a lease or a queue frees up).
        self.retry_after = retry_after


class UnauthenticatedError(DomainError):
    """No valid credential: unknown, expired or revoked token, wrong password."""


class ForbiddenError(DomainError):
    """The caller is known but may not do this (role, token scope, session-only action)."""


class NotFoundError(DomainError):
    """No such thing, or nothing the caller may see: both get the same answer."""


class ConflictError(DomainError):
    """The request clashes with the current state (a last owner, a key in use, ...)."""


class StaleVersionError(ConflictError):
    """Optimistic concurrency: the client's version is not the current one. ``current`` is
    the current record's view, so the client can merge without another read."""

    def __init__(self, code: str, message: str, current: dict[str, Any], details: Any = None) -> None:
        super().__init__(code, message, details)
        self.current = current


class InvalidInputError(DomainError):
    """Well-formed input that breaks a rule (a column that does not exist, a short password)."""


class TooLargeError(DomainError):
    """The input, or what it would add up to, is over a size limit (an upload, a quota)."""


class MalformedInputError(DomainError):
    """Input that cannot even be read as what it claims to be (a header's syntax)."""


class SignInDelayedError(DomainError):
    """Too many wrong passwords for one account lately: ``retry_after`` seconds to wait."""


class RateLimitedError(DomainError):
    """Too many requests in the window; ``retry_after`` says when the next one is allowed."""

    def __init__(self, limit: int, window_seconds: int, retry_after: int) -> None:
        super().__init__(
            "rate_limited", f"Too many requests; retry in {retry_after} s.", {"retry_after": retry_after}, retry_after
        )
        self.limit = limit
        self.window_seconds = window_seconds
