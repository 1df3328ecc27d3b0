"""Policies over the whole route map, so a new endpoint cannot forget them."""

from __future__ import annotations

import inspect

from quart import Quart

from app.api.guards import (
    AUTHENTICATED,
    CLIENT_MUTATION_ID,
    IDEMPOTENT,
    ORDER,
    PUBLIC,
    RATE_LIMITED_PER_IP,
    RATE_LIMITED_PER_USER,
    WRITE_SCOPE,
    guards_of,
)
from tests.api.test_openapi import PUBLIC as PUBLIC_PATHS

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def api_rules(app: Quart):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.endpoint != "static":
            yield rule, app.view_functions[rule.endpoint]


async def test_every_api_route_requires_a_token_unless_marked_public(app: Quart) -> None:
    public = set()
    for rule, view in api_rules(app):
        guards = guards_of(view)
        if PUBLIC in guards:
            assert AUTHENTICATED not in guards, rule.rule
            public.add(rule.rule)
        else:
            assert AUTHENTICATED in guards, f"{rule.rule} is neither authenticated nor public"
    # The URL map writes <provider_id> where OpenAPI writes {provider_id}.
    assert {rule.replace("<", "{").replace(">", "}") for rule in public} == PUBLIC_PATHS


async def test_every_api_route_is_documented_in_openapi(app: Quart) -> None:
    spec = await (await app.test_client().get("/openapi.json")).get_json()
    documented = {path.replace("{", "<").replace("}", ">") for path in spec["paths"]}
    for rule, _ in api_rules(app):
        if rule.rule != "/api/v1/ws":
            assert rule.rule in documented, rule.rule


async def test_every_api_route_is_rate_limited(app: Quart) -> None:
    """Authenticated routes are limited per user; public ones per client IP."""
    for rule, view in api_rules(app):
        guards = guards_of(view)
        expected = RATE_LIMITED_PER_IP if PUBLIC in guards else RATE_LIMITED_PER_USER
        assert expected in guards, f"{rule.rule} is not rate limited ({guards})"


async def test_guards_run_in_the_one_order(app: Quart) -> None:
    """Each guard relies on the ones before it (the rate limit and the scope check need
    the caller); a route that stacked them otherwise would fail at run time."""
    for rule, view in api_rules(app):
        guards = guards_of(view)
        assert len(set(guards)) == len(guards), f"{rule.rule} repeats a guard: {guards}"
        assert list(guards) == sorted(guards, key=ORDER.index), f"{rule.rule} runs its guards out of order: {guards}"


async def test_every_write_is_scoped_and_echoes_its_client_mutation_id(app: Quart) -> None:
    """A read-only API token may only read; every write's events carry the client mutation
    id; every authenticated POST can be retried with an Idempotency-Key."""
    for rule, view in api_rules(app):
        guards = guards_of(view)
        if PUBLIC in guards:
            assert not {WRITE_SCOPE, CLIENT_MUTATION_ID, IDEMPOTENT} & set(guards), rule.rule
            continue
        methods = set(rule.methods or ()) & UNSAFE_METHODS
        if methods:
            assert WRITE_SCOPE in guards, f"{rule.rule} {methods} lets a read-only token write"
            assert CLIENT_MUTATION_ID in guards, f"{rule.rule} {methods} drops the client mutation id"
        else:
            assert WRITE_SCOPE not in guards, f"{rule.rule} refuses read-only tokens a read"
        assert (IDEMPOTENT in guards) == ("POST" in methods), f"{rule.rule} {methods}: Idempotency-Key"


async def test_no_request_hook_or_view_runs_in_a_thread(app: Quart) -> None:
    """Quart hands a plain function to its thread pool: a thread hop on each request it
    serves (an upload teardown written as one cost every request 7 % of its CPU)."""
    hooks = (
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
        app.before_websocket_funcs,
        app.after_websocket_funcs,
        app.teardown_websocket_funcs,
    )
    served = [hook for funcs in hooks for scoped in funcs.values() for hook in scoped]
    served += [view for endpoint, view in app.view_functions.items() if endpoint != "static"]
    assert [f.__qualname__ for f in served if not inspect.iscoroutinefunction(f)] == []
