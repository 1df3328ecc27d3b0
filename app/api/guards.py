"""What runs before a handler, one guard per job, all named on one line under the route in this
order, e.g. ``@guards(authenticated, rate_limited_per_user, requires_write_scope, ...)``:

    authenticated               the Bearer token -> ``caller()``; 401 without a valid one
      or public                 no token needed (the auth entry points)
    rate_limited_per_user       the per-user API limit (429)
      or rate_limited_per_ip(scope)  for public routes, per client IP
    requires_write_scope        a read-only API token may not write (403)
    binds_client_mutation_id    the id every event of this request echoes
    idempotent                  a POST retried with its Idempotency-Key gets the first answer

A signed-in route names one of two sets instead, a POST adding ``idempotent`` to it:

    @guards(*READ)               authenticated, rate_limited_per_user
    @guards(*WRITE)              READ, requires_write_scope, binds_client_mutation_id
    @guards(*WRITE, idempotent)  a POST

Each records its name on the handler, so the route-policy test (tests/api/test_route_policy.py)
can walk the URL map and prove every route carries the guards its method needs, in this order.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from quart import g, request

from app.api.auth_context import bearer_token, caller
from app.api.mutations import bind_client_mutation_id, run_idempotently
from app.api.rate_limits import limit_by_ip, limit_by_user
from app.domain.errors import UnauthenticatedError
from app.runtime import services
from app.services.access import insufficient_scope

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
GUARDS_ATTRIBUTE = "_taskwire_guards"

AUTHENTICATED = "authenticated"
PUBLIC = "public"
RATE_LIMITED_PER_USER = "rate_limited_per_user"
RATE_LIMITED_PER_IP = "rate_limited_per_ip"
WRITE_SCOPE = "requires_write_scope"
CLIENT_MUTATION_ID = "binds_client_mutation_id"
IDEMPOTENT = "idempotent"
# The order the guards run in, outermost first: each may rely on the ones before it.
ORDER = (AUTHENTICATED, PUBLIC, RATE_LIMITED_PER_USER, RATE_LIMITED_PER_IP, WRITE_SCOPE, CLIENT_MUTATION_ID, IDEMPOTENT)


def guards_of(view: Callable[..., Any]) -> tuple[str, ...]:
    """The guards a handler runs, outermost first."""
    return getattr(view, GUARDS_ATTRIBUTE, ())


def mark_guarded(view: F, *names: str) -> F:
    """Record guards a handler applies itself (the WebSocket authenticates in its first
    message and limits each frame)."""
    setattr(view, GUARDS_ATTRIBUTE, names + guards_of(view))
    return view


def _guard(name: str, check: Callable[[], Awaitable[None]]) -> Callable[[F], F]:
    def decorate(handler: F) -> F:
        @functools.wraps(handler)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            await check()
            return await handler(*args, **kwargs)

        return mark_guarded(cast(F, guarded), name)

    return decorate


async def _authenticate() -> None:
    token = bearer_token()
    if token is None:
        raise UnauthenticatedError("unauthorized", "Send an access token: Authorization: Bearer <token>.")
    g.caller = await services().auth.authenticate(token)


async def _authenticate_stream() -> None:
    """A Bearer token, or else the single-use ``?ticket=`` of a browser's EventSource
    (app/services/stream_tickets.py), which only the board it was issued for accepts."""
    ticket = request.args.get("ticket")
    if bearer_token() is not None or ticket is None:
        return await _authenticate()
    board_id = (request.view_args or {}).get("board_id", "")
    g.caller = await services().stream_tickets.redeem(ticket, board_id)
    return None


async def _limit_caller() -> None:
    await limit_by_user(caller().user.id)


async def _check_write_scope() -> None:
    limits = caller().limits
    if limits is not None and not limits.writable:
        raise insufficient_scope()  # a read-only API token


authenticated = _guard(AUTHENTICATED, _authenticate)
# Counts as authenticated for the route policy: a ticket is a token spent once.
authenticated_or_stream_ticket = _guard(AUTHENTICATED, _authenticate_stream)
rate_limited_per_user = _guard(RATE_LIMITED_PER_USER, _limit_caller)
requires_write_scope = _guard(WRITE_SCOPE, _check_write_scope)
binds_client_mutation_id = _guard(CLIENT_MUTATION_ID, bind_client_mutation_id)


def public(handler: F) -> F:
    """An /api route that deliberately needs no access token."""
    return mark_guarded(handler, PUBLIC)


def rate_limited_per_ip(scope: str) -> Callable[[F], F]:
    """For public routes: limited per client IP under ``scope`` instead of per user."""
    return _guard(RATE_LIMITED_PER_IP, functools.partial(limit_by_ip, scope))


def idempotent(handler: F) -> F:
    @functools.wraps(handler)
    async def replayable(*args: Any, **kwargs: Any) -> Any:
        return await run_idempotently(caller(), lambda: handler(*args, **kwargs))

    return mark_guarded(cast(F, replayable), IDEMPOTENT)


def guards(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Every guard of a route on one line, outermost first: ``@guards(a, b)`` is ``@a`` over
    ``@b``, so each guard still wraps the ones after it and keeps their marks."""

    def decorate(handler: F) -> F:
        for decorator in reversed(decorators):
            handler = decorator(handler)
        return handler

    return decorate


READ = (authenticated, rate_limited_per_user)
WRITE = (*READ, requires_write_scope, binds_client_mutation_id)
