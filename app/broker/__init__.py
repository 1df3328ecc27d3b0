"""Broker: pub/sub plus small shared state; one interface (base.Broker), two adapters."""

from __future__ import annotations

from app.broker.base import Broker


def create_broker(url: str) -> Broker:
    """The one place that maps a broker URL to an adapter; redis is imported lazily."""
    if not url or url.startswith("memory://"):
        from app.broker.memory import MemoryBroker

        return MemoryBroker()
    # One server, Sentinel or cluster: redis_endpoints.py reads the URL (and refuses others).
    if url.startswith(("redis", "unix://")):
        from app.broker.redis import RedisBroker

        return RedisBroker(url)
    raise ValueError(f"unsupported broker URL scheme: {url.split(':', 1)[0]!r}")
