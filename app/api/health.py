"""Operations endpoints: liveness and readiness."""

from __future__ import annotations

import asyncio

from quart import Blueprint, Response, render_template
from quart_schema import hide

from app.observability import metrics
from app.runtime import current_runtime

blueprint = Blueprint("health", __name__)

READINESS_TIMEOUT_SECONDS = 2.0


@blueprint.get("/healthz")
@hide
async def healthz() -> dict:
    """The process is up."""
    return {"status": "ok"}


@blueprint.get("/readyz")
@hide
async def readyz() -> tuple[dict, int]:
    """The store and the broker both answer; a load balancer sends traffic only then."""
    runtime = current_runtime()
    checks: dict[str, str] = {}
    for name, ping in (("store", runtime.store.ping), ("broker", runtime.broker.ping)):
        try:
            await asyncio.wait_for(ping(), READINESS_TIMEOUT_SECONDS)
            checks[name] = "ok"
        except Exception as error:  # any failure means not ready; the reason is reported
            checks[name] = f"unavailable: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return {"status": "ready" if ready else "unavailable", "checks": checks}, 200 if ready else 503


@blueprint.get("/docs")
@hide
async def docs() -> str:
    """Swagger UI for /openapi.json."""
    return await render_template("docs.html")


@blueprint.get("/metrics")
@hide
async def prometheus_metrics() -> Response:
    """Prometheus text format; see docs/operations.md for what each metric means."""
    metrics.BROKER_RECONNECTS.set(getattr(current_runtime().broker, "reconnects", 0))
    body, content_type = metrics.render()
    return Response(body, content_type=content_type)
