"""What a route reads and what it answers, named on one line under its guards:

    @blueprint.patch("/<board_id>/columns/<key>")
    @guards(*WRITE)
    @contract(body=ColumnPatchIn, answers={200: ColumnOut, 409: ErrorOut})

``query`` and ``body`` are validated by quart-schema before the handler runs, which gets
them as ``query_args`` and ``data``; ``answers`` documents the response model of each
status in OpenAPI. Nothing checks what a handler sends back: it writes its answer with
app/api/responses.py, and ``answers`` only tells clients what that is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from pydantic import BaseModel
from quart_schema import document_response, validate_querystring, validate_request

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def contract(
    *,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    answers: dict[int, type[BaseModel]] | None = None,
) -> Callable[[F], F]:
    def decorate(handler: F) -> F:
        # Last first, as stacked ``@document_response`` lines apply: quart-schema keeps the
        # order they were added in, and the OpenAPI components follow it.
        for status, model in reversed((answers or {}).items()):
            handler = document_response(model, status)(handler)
        if body is not None:
            handler = cast(F, validate_request(body)(handler))
        if query is not None:
            handler = cast(F, validate_querystring(query)(handler))
        return handler

    return decorate
