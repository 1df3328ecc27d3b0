"""Write requests: the client mutation id their events echo, and idempotent POSTs.

Each write handler asks for them with ``binds_client_mutation_id`` (in the ``WRITE`` guard set)
and, for a POST, ``idempotent`` (app/api/guards.py); the route-policy test checks none is forgotten.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from quart import Response, make_response, request

from app.api.errors import APIError
from app.api.idempotency import REPLAYED_HEADERS, IdempotentCall, StoredResponse
from app.api.uploads import streams_upload
from app.domain.caller import Caller
from app.domain.request_context import CLIENT_MUTATION_ID, collect_board_checks
from app.runtime import current_runtime
from app.services.idempotency import request_fingerprint

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CLIENT_MUTATION_ID_HEADER = "X-Client-Mutation-Id"
CLIENT_MUTATION_ID_FIELD = "client_mutation_id"
CLIENT_MUTATION_ID_MAX_LENGTH = 100
IDEMPOTENCY_HEADER = "Idempotency-Key"


async def bind_client_mutation_id() -> None:
    """Take the request's client mutation id (body field first, else the header) for
    every event this request causes (see ``EventDraft.client_mutation_id``)."""
    if request.method in SAFE_METHODS:
        return
    value = request.headers.get(CLIENT_MUTATION_ID_HEADER)
    body = await request.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get(CLIENT_MUTATION_ID_FIELD), str):
        value = body[CLIENT_MUTATION_ID_FIELD]
    if value is None:
        return
    if not 1 <= len(value) <= CLIENT_MUTATION_ID_MAX_LENGTH:
        raise APIError(
            422,
            "invalid_client_mutation_id",
            f"client_mutation_id must be 1 to {CLIENT_MUTATION_ID_MAX_LENGTH} characters.",
        )
    CLIENT_MUTATION_ID.set(value)


async def run_idempotently(caller: Caller, handler: Callable[[], Awaitable[Any]]) -> Any:
    """Run a POST once per (credential, Idempotency-Key); a retry gets the first response
    if the caller still passes the board checks the first request passed."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if request.method != "POST" or key is None:
        return await handler()
    # All three arguments spelled out: only then do Quart's overloads promise bytes. An
    # upload's body is streamed by its handler and never read whole: its key covers the rest.
    body = b"" if streams_upload() else await request.get_data(cache=True, as_text=False, parse_form_data=False)
    fingerprint = request_fingerprint(request.method, request.path, request.query_string, body)
    call = IdempotentCall(current_runtime(), caller, key, fingerprint)
    stored = await call.claim()
    if stored is not None:
        replay = Response(stored.body, status=stored.status, headers=stored.headers)
        replay.headers["Idempotent-Replayed"] = "true"
        return replay
    board_checks = collect_board_checks()
    try:
        # Our handlers return Quart responses, which make_response passes through; its
        # declared result also allows a Werkzeug one, whose get_data is not awaitable.
        response = cast(Response, await make_response(await handler()))
    except Exception:
        # Refused or failed: nothing was written, so a retry may run again. (A cancelled
        # request keeps its lease: the write may have happened; the lease runs out.)
        await call.release()
        raise
    if response.status_code >= 500:
        await call.release()
        return response
    headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
    body = await response.get_data(as_text=False)
    await call.keep(StoredResponse(response.status_code, body, headers), board_checks)
    return response
