"""JSON responses written with our one encoder.

Handlers return these rather than dicts: quart-schema would otherwise walk every response
body through a freshly built pydantic TypeAdapter before Quart encodes it (measured: the
largest Python cost of a task-list request). The documented shapes stay in OpenAPI
through the ``answers`` of ``@contract`` (app/api/contracts.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from quart import Quart, Response

from app.jsonutil import dumps, encode


def json_response(body: Any, status: int = 200) -> Response:
    return Response(encode(body), status=status, content_type="application/json")


def json_list[R](records: Iterable[R], view: Callable[[R], Any], **extra: Any) -> Response:
    """A whole list, unpaged: ``{"items": [...]}``, a view of each record."""
    return json_response({"items": [view(record) for record in records], **extra})


def no_content() -> Response:
    return Response(status=204)


async def no_content_after(work: Awaitable[object]) -> Response:
    """204 once ``work`` is done: the answer of a handler whose one service call returns nothing."""
    await work
    return no_content()


def install_json_encoder(app: Quart) -> None:
    """What Quart itself writes as JSON (a dict a handler returns, the OpenAPI document)
    goes through the one encoder too; the provider's ``default`` still covers the types
    only Quart and quart-schema know (dates, pydantic models)."""
    default = app.json.default  # type: ignore[attr-defined]
    app.json.dumps = lambda value, **_: dumps(value, default)  # type: ignore[method-assign]


def no_store(response: Response) -> Response:
    """For answers holding secrets or personal data: no cache keeps a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response
