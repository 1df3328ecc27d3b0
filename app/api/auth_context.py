"""Who is calling. ``requires_auth`` marks and guards a handler; the policy test walks the
URL map and asserts every /api route but the auth entry points carries it."""

from __future__ import annotations

import functools
from typing import Any, Awaitable, Callable, TypeVar

from quart import g, request

from app.api.mutations import SAFE_METHODS, bind_client_mutation_id, run_idempotently
from app.api.rate_limits import limit_by_ip, limit_by_user
from app.domain.caller import Caller
from app.api.errors import APIError
from app.runtime import current_runtime
from app.services.access import insufficient_scope

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
        await limit_by_user(g.caller.user.id)
        if g.caller.limits is not None and not g.caller.limits.writable and request.method not in SAFE_METHODS:
            raise insufficient_scope()  # a read-only API token
        await bind_client_mutation_id()
        return await run_idempotently(g.caller.user.id, lambda: handler(*args, **kwargs))

    setattr(guarded, AUTH_ATTRIBUTE, True)
    return guarded  # type: ignore[return-value]


def public(rate_limit_scope: str) -> Callable[[F], F]:
    """Marks an /api route that deliberately needs no access token; it is rate limited
    per client IP under ``rate_limit_scope`` instead of per user."""

    def mark(handler: F) -> F:
        @functools.wraps(handler)
        async def limited(*args: Any, **kwargs: Any) -> Any:
            await limit_by_ip(rate_limit_scope)
            return await handler(*args, **kwargs)

        setattr(limited, PUBLIC_ATTRIBUTE, rate_limit_scope)
        return limited  # type: ignore[return-value]

    return mark
