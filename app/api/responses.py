"""JSON responses written with our one encoder.

Handlers return these rather than dicts: quart-schema would otherwise walk every response
body through a freshly built pydantic TypeAdapter before Quart encodes it (measured: the
largest Python cost of a task-list request). The documented shapes stay in OpenAPI
through ``@document_response``.
"""

from __future__ import annotations

from typing import Any

from quart import Response

from app.jsonutil import dumps


def json_response(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status=status, content_type="application/json")


def no_content() -> Response:
    return Response(status=204)
