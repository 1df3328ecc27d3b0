"""Who is calling: the Bearer token of the request, and the caller ``authenticated``
(app/api/guards.py) found behind it."""

from __future__ import annotations

from quart import g, request

from app.domain.caller import Caller
from app.runtime import services


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
    return await services().auth.authenticate(token)


def caller() -> Caller:
    found: Caller = g.caller
    return found
