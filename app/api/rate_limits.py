"""Rate limits shared by every instance through the broker (Redis: one atomic script).

Public auth endpoints are limited per client IP; everything behind a token per user (see
``rate_limited_per_user``). A refused request raises ``RateLimitedError``: HTTP answers 429 with
``Retry-After`` and the IETF ``RateLimit``/``RateLimit-Policy`` headers, a WebSocket an
``error`` message.

While the broker is down the limits fail open, but not to nothing: each instance counts
on its own (the in-process sliding window), so a deployment of N instances allows up to
N times the limit until Redis is back.
"""

from __future__ import annotations

import ipaddress
import math
from functools import cache

from quart import request

from app.broker.base import BrokerUnavailable
from app.domain.errors import RateLimitedError
from app.observability import metrics
from app.runtime import Runtime, current_runtime
from app.settings import Settings

WINDOW_SECONDS = 60.0


@cache
def _trusted_networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _is_trusted(address: str, settings: Settings) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _trusted_networks(settings.trusted_proxies))


def client_ip(settings: Settings) -> str:
    """The peer's address; behind trusted proxies, the nearest untrusted X-Forwarded-For hop.

    Forwarding headers are believed only from configured proxies: anyone else could send
    any X-Forwarded-For and rotate through limits.
    """
    peer = request.remote_addr or "unknown"
    if not settings.trusted_proxies or not _is_trusted(peer, settings):
        return peer
    hops = [hop.strip() for hop in ",".join(request.headers.getlist("X-Forwarded-For")).split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, settings):
            return hop
    return hops[0] if hops else peer


async def enforce(scope: str, subject: str, limit: int, runtime: Runtime | None = None) -> None:
    """``runtime``: outside a Quart request (the MCP server's tool calls), the one to count in."""
    runtime = runtime or current_runtime()
    key = f"ratelimit:{scope}:{subject}"
    try:
        allowed, retry_after = await runtime.broker.hit_rate_limit(key, limit, WINDOW_SECONDS)
    except BrokerUnavailable:
        allowed, retry_after = await runtime.local_limits.hit_rate_limit(key, limit, WINDOW_SECONDS)
    if allowed:
        return
    metrics.RATE_LIMITED.labels(scope).inc()
    seconds = max(1, math.ceil(retry_after))
    raise RateLimitedError(limit, int(WINDOW_SECONDS), seconds)


async def limit_by_ip(scope: str) -> None:
    settings = current_runtime().settings
    await enforce(scope, client_ip(settings), settings.rate_limit_auth_per_minute)


async def limit_by_user(user_id: str) -> None:
    await enforce("api", user_id, current_runtime().settings.rate_limit_api_per_minute)
