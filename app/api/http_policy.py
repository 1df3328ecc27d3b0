"""What every HTTP response gets, whatever the route: a request id, security headers,
CORS for configured origins only, a metric sample and one structured log line."""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from quart import Quart, Response, g, request

from app.api.hypercorn_http import linger_after_early_answers, write_heads_with_bodies
from app.observability import metrics
from app.observability.logs import request_id_var
from app.settings import Settings

log = logging.getLogger("taskwire.request")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
CORS_ALLOWED_HEADERS = "Authorization, Content-Type, If-Match, Idempotency-Key, X-Client-Mutation-Id, X-Request-ID"
CORS_EXPOSED_HEADERS = "Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-Request-ID"
# Fingerprinted asset URLs (asset_url(): ?v=<content hash>) never change meaning.
IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _security_headers(settings: Settings) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
    if settings.hsts:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


def install_http_policy(app: Quart, settings: Settings) -> None:
    write_heads_with_bodies()
    # An upload's file may be larger than the body limit of every other route.
    linger_after_early_answers(max(settings.max_body_bytes, settings.attachment_max_bytes))
    security_headers = _security_headers(settings)
    allowed_origins = frozenset(settings.cors_origins)

    @app.before_request
    async def start_request() -> Response | None:
        g.started = time.perf_counter()
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else secrets.token_hex(8)
        request_id_var.set(g.request_id)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return Response(status=204)
        return None

    @app.after_request
    async def finish_request(response: Response) -> Response:
        for name, value in security_headers.items():
            # A route may have set a stricter one (a download's sandbox).
            response.headers.setdefault(name, value)
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        origin = request.headers.get("Origin")
        if origin and origin in allowed_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
            response.headers.add("Vary", "Origin")
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE"
                response.headers["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"
        if request.path.startswith("/static/"):
            response.headers["Cache-Control"] = (
                IMMUTABLE if request.args.get("v") else "no-cache"  # no-cache: revalidate by ETag
            )
        _observe(response)
        return response


# (method, route, status) -> that series' counter and histogram. prometheus_client's
# labels() validates and locks on every call; the set of series is bounded by the route
# map, so each is looked up once.
_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _observe(response: Response) -> None:
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    key = (request.method, route, response.status_code)
    if (series := _series.get(key)) is None:
        labels = (request.method, route, str(response.status_code))
        series = _series[key] = (metrics.HTTP_REQUESTS.labels(*labels), metrics.HTTP_LATENCY.labels(*labels))
    series[0].inc()
    series[1].observe(elapsed)
    log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 2),
        },
    )
