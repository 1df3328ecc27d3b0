"""Operations endpoints: liveness and readiness."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from quart import Blueprint, Response, render_template
from quart_schema import hide

from app.observability import metrics
from app.runtime import current_runtime
from app.store.base import StoreNotWritable

blueprint = Blueprint("health", __name__)

READINESS_TIMEOUT_SECONDS = 2.0


@blueprint.get("/healthz")
@hide
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@blueprint.get("/readyz")
@hide
async def readyz() -> tuple[dict[str, Any], int]:
    """Ready when the store answers and takes writes; a load balancer sends traffic only
    then. A broker outage is reported (``degraded``) but keeps the instance ready: REST
    goes on without it, and every instance shares it, so failing here would take the
    whole service down for nothing."""
    runtime = current_runtime()
    if runtime.draining:  # shutting down: let the balancer move on at once
        return {"status": "unavailable", "checks": {"draining": "yes"}}, 503
    checks = {
        name: await _check(probe)
        for name, probe in (
            ("store", runtime.store.ping),
            ("store_writes", runtime.store.check_writable),
            ("broker", runtime.broker.ping),
        )
    }
    if checks["store"] != "ok" or checks["store_writes"] != "ok":
        return {"status": "unavailable", "checks": checks}, 503
    return {"status": "ready" if checks["broker"] == "ok" else "degraded", "checks": checks}, 200


async def _check(probe: Callable[[], Awaitable[None]]) -> str:
    try:
        await asyncio.wait_for(probe(), READINESS_TIMEOUT_SECONDS)
    except StoreNotWritable as error:
        return f"failing: {error.reason}"
    except Exception as error:  # any failure counts; only its kind is told (no hosts or paths)
        return f"unavailable: {type(error).__name__}"
    return "ok"


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
