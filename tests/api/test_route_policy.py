"""Policies over the whole route map, so a new endpoint cannot forget them."""

from __future__ import annotations

from quart import Quart

from app.api.auth_context import AUTH_ATTRIBUTE, PUBLIC_ATTRIBUTE


def api_rules(app: Quart):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.endpoint != "static":
            yield rule, app.view_functions[rule.endpoint]


async def test_every_api_route_requires_a_token_unless_marked_public(app: Quart) -> None:
    public = set()
    for rule, view in api_rules(app):
        if getattr(view, PUBLIC_ATTRIBUTE, False):
            public.add(rule.rule)
        else:
            assert getattr(view, AUTH_ATTRIBUTE, False), f"{rule.rule} is neither authenticated nor public"
    assert public == {"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout"}


async def test_every_api_route_is_documented_in_openapi(app: Quart) -> None:
    spec = await (await app.test_client().get("/openapi.json")).get_json()
    documented = {path.replace("{", "<").replace("}", ">") for path in spec["paths"]}
    for rule, _ in api_rules(app):
        if rule.rule != "/api/v1/ws":
            assert rule.rule in documented, rule.rule


async def test_every_api_route_is_rate_limited(app: Quart) -> None:
    """Authenticated routes are limited per user inside requires_auth; public ones per IP."""
    for rule, view in api_rules(app):
        scope = getattr(view, PUBLIC_ATTRIBUTE, None)
        assert scope or getattr(view, AUTH_ATTRIBUTE, False), rule.rule
