"""Who is calling. ``requires_auth`` marks and guards a handler; the policy test walks the
URL map and asserts every /api route but the auth entry points carries it."""

from __future__ import annotations

import functools
from typing import Any, Awaitable, Callable, TypeVar

from quart import g, request

from app.errors import APIError
from app.runtime import current_runtime
from app.services.auth import Caller

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
AUTH_ATTRIBUTE = "_taskwire_requires_auth"
PUBLIC_ATTRIBUTE = "_taskwire_public"


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def optional_caller() -> Caller | None:
    token = bearer_token()
    if token is None:
        return None
    return await current_runtime().services.auth.authenticate(token)


def caller() -> Caller:
    return g.caller


def requires_auth(handler: F) -> F:
    @functools.wraps(handler)
    async def guarded(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        if token is None:
            raise APIError(401, "unauthorized", "Send an access token: Authorization: Bearer <token>.",
                           headers={"WWW-Authenticate": "Bearer"})
        g.caller = await current_runtime().services.auth.authenticate(token)
        return await handler(*args, **kwargs)

    setattr(guarded, AUTH_ATTRIBUTE, True)
    return guarded  # type: ignore[return-value]


def public(handler: F) -> F:
    """Marks an /api route that deliberately needs no access token."""
    setattr(handler, PUBLIC_ATTRIBUTE, True)
    return handler
