"""Who is making a request (or holds a WebSocket / event stream)."""

from __future__ import annotations

import dataclasses

from app.domain.models import User
from app.domain.request_context import TokenLimits


@dataclasses.dataclass(slots=True, frozen=True)
class Caller:
    """The user and the login session the token belongs to."""

    user: User
    session_id: str
    # Set when the request came with a personal API token rather than a session's JWT.
    token_id: str | None = None
    token_name: str | None = None
    limits: TokenLimits | None = None
    # When the credential stops working (Unix time); None: never. Streams end then.
    expires_at: float | None = None
    # When the session signed in (Unix time; the access token's auth_time); None: unknown.
    signed_in_at: float | None = None
