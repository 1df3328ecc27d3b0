"""The HTTP edge's one error shape:
``{"error": {"code": "<stable_snake_case>", "message": "...", "details": ...}}``.

Services raise domain errors (``app.domain.errors``); handlers may raise ``APIError`` for
what only HTTP knows (a header's syntax, a missing token). ``register_error_handlers``
turns both, Quart's own HTTP errors and validation failures into that shape; the status
each domain error gets is decided here and nowhere else.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from quart import Quart, Response
from quart_schema import RequestSchemaValidationError
from quart_schema.validation import QuerystringValidationError, RequestHeadersValidationError
from werkzeug.exceptions import HTTPException

from app.broker.base import BrokerUnavailable
from app.domain.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    InvalidInputError,
    MalformedInputError,
    NotFoundError,
    RateLimitedError,
    SignInDelayedError,
    StaleVersionError,
    TooLargeError,
    UnauthenticatedError,
)
from app.jsonutil import dumps
from app.store.base import StoreUnavailable

log = logging.getLogger(__name__)

# Quart's own errors get the same stable codes as ours.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


# Most specific first: the first class an error is an instance of decides its status.
_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (MalformedInputError, 400),
    (UnauthenticatedError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (TooLargeError, 413),
    (RateLimitedError, 429),
    (SignInDelayedError, 429),
)


class APIError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def shutting_down() -> APIError:
    """A new WebSocket or event stream on an instance that is draining: it would be cut
    within seconds, so the client retries at once and lands on another instance."""
    return APIError(
        503,
        "unavailable",
        "This instance is shutting down; retry, another one will answer.",
        headers={"Retry-After": "1"},
    )


def error_body(code: str, message: str, details: Any = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error, **extra}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    response = Response(
        dumps(error_body(code, message, details, **extra)), status=status, content_type="application/json"
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def domain_error_response(error: DomainError) -> Response:
    status = next((status for kind, status in _DOMAIN_STATUS if isinstance(error, kind)), 400)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(error, UnauthenticatedError):
        headers["WWW-Authenticate"] = "Bearer"
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, RateLimitedError):
        # The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers).
        headers["RateLimit-Policy"] = f"{error.limit};w={error.window_seconds}"
        headers["RateLimit"] = f"limit={error.limit}, remaining=0, reset={error.retry_after}"
    if isinstance(error, StaleVersionError):
        extra["current"] = error.current
    return error_response(status, error.code, error.message, error.details, headers, **extra)


def _validation_details(error: Exception) -> Any:
    cause = getattr(error, "validation_error", None)
    if isinstance(cause, ValidationError):
        return [
            {"loc": [str(part) for part in item["loc"]], "msg": item["msg"], "type": item["type"]}
            for item in cause.errors(include_url=False, include_context=False, include_input=False)
        ]
    if isinstance(cause, (TypeError, ValueError)):
        return [{"loc": [], "msg": str(cause), "type": "invalid"}]
    return None


def register_error_handlers(app: Quart) -> None:
    @app.errorhandler(APIError)
    async def handle_api_error(error: APIError) -> Response:
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @app.errorhandler(DomainError)
    async def handle_domain_error(error: DomainError) -> Response:
        return domain_error_response(error)

    @app.errorhandler(RequestSchemaValidationError)
    async def handle_validation(error: RequestSchemaValidationError) -> Response:
        if isinstance(error, QuerystringValidationError):
            where = "query string"
        elif isinstance(error, RequestHeadersValidationError):
            where = "request headers"
        else:
            where = "request body"
        return error_response(422, "validation_error", f"The {where} is not valid.", _validation_details(error))

    @app.errorhandler(UnicodeDecodeError)
    async def handle_undecodable_body(error: UnicodeDecodeError) -> Response:
        # Quart decodes a JSON body as UTF-8 before parsing it and lets the error escape.
        return error_response(400, "invalid_json", "The request body is not valid UTF-8 JSON.")

    @app.errorhandler(HTTPException)
    async def handle_http_error(error: HTTPException) -> Response:
        status = error.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        if status == 400:
            # Quart raises a bare 400 for a body that is not JSON.
            code, message = "invalid_json", "The request body is not valid JSON."
        elif status == 413:
            message = "The request body is too large."
        else:
            message = error.description or error.name
        response = error_response(status, code, message)
        if status == 405 and error.get_headers():
            for name, value in error.get_headers():
                if name.lower() == "allow":
                    response.headers["Allow"] = value
        return response

    @app.errorhandler(Exception)
    async def handle_unexpected(error: Exception) -> Response:
        if isinstance(error, (StoreUnavailable, BrokerUnavailable)):
            log.warning("dependency unavailable: %s", error)
            return error_response(
                503, "unavailable", "A backing service is unavailable; retry shortly.", headers={"Retry-After": "2"}
            )
        log.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")
