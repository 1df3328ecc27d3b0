"""The broker contract: fan-out between instances and the little state they share.

Split by concern, as callers use it: ``PubSub`` (the hub and the publisher),
``SharedValues`` (token revocation, idempotency keys, the cache), ``PresenceHashes``
(who is on a board) and ``RateLimiter`` (the API's limits). ``Broker`` is all four with a
lifecycle; each adapter (memory, redis) implements it whole.

Delivery is at most once (Redis pub/sub is): callers that must not lose anything carry a
sequence number in the message and fill gaps from the store. What the broker promises
instead is to *say* when it may have lost messages: after its connection drops and comes
back, it calls ``on_resync`` once it is subscribed again, so listeners catch up.

Every adapter passes tests/broker/ unchanged; the in-process one copies nothing by
reference (messages are str) so it behaves like the serialised transport.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

MessageHandler = Callable[[str, str], None]  # (channel, message); must not block
ResyncHandler = Callable[[], None]


class BrokerUnavailable(Exception):
    """The broker cannot be reached right now."""


class PubSub(Protocol):
    def set_handlers(self, on_message: MessageHandler, on_resync: ResyncHandler) -> None:
        """Install the one listener of this instance (the hub). Called before subscribing."""

    async def publish(self, channel: str, message: str) -> None:
        """Send to every instance subscribed to ``channel``, this one included."""

    async def subscribe(self, channel: str) -> None:
        """Start receiving ``channel``; idempotent. Survives reconnects."""

    async def unsubscribe(self, channel: str) -> None: ...


class SharedValues(Protocol):
    """Values with expiry, shared by every instance (token revocation, idempotency, cache)."""

    async def set_value(self, key: str, value: str, ttl_seconds: float) -> None: ...

    async def get_value(self, key: str) -> str | None:
        """None when absent or expired."""

    async def get_values(self, keys: list[str]) -> list[str | None]:
        """``get_value`` of each key, in one round trip (a request's first reads)."""

    async def delete_value(self, key: str) -> None: ...

    async def set_value_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        """Set ``key`` only if it holds no live value, atomically across instances (one
        SET NX on Redis). True if this call set it: exactly one of several racing callers
        wins, which is what idempotency keys and per-token throttles rely on."""


class PresenceHashes(Protocol):
    """Hashes whose fields are set and dropped one by one and expire as a whole (presence)."""

    async def hash_set(self, key: str, field: str, value: str, ttl_seconds: float) -> None:
        """Set one field of a hash and (re)arm the whole hash's expiry."""

    async def hash_delete(self, key: str, field: str) -> None: ...

    async def hash_get_all(self, key: str) -> dict[str, str]: ...


class RateLimiter(Protocol):
    async def hit_rate_limit(self, key: str, limit: int, window_seconds: float) -> tuple[bool, float]:
        """Count one hit against ``limit`` per sliding ``window_seconds``, atomically across
        instances. Returns (allowed, retry_after_seconds); a refused hit is not counted."""


class Broker(PubSub, SharedValues, PresenceHashes, RateLimiter, Protocol):
    @property
    def outages(self) -> int:
        """Grows each time the broker was found unreachable or lost its connection: the
        shared state above may have been lost since (a Redis restart loses it all), so
        whoever relies on it rebuilds it from the store when this changes."""

    async def open(self) -> None:
        """Connect and start the receive loop (which owns its reconnects)."""

    async def close(self) -> None:
        """Stop the receive loop and close connections; awaits every task it started."""

    async def ping(self) -> None:
        """Return when the broker answers; raise BrokerUnavailable otherwise."""
