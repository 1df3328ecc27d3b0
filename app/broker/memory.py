"""The in-process broker: one instance, one process, nothing to lose.

It honours the same contract as the Redis adapter so single-node and scaled-out runs
behave alike: delivery is deferred to the event loop (never re-entrant inside
``publish``), values and hashes expire, and the rate limiter is the same sliding window.
Time is the monotonic clock, so a wall-clock jump cannot extend or cut a TTL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field

from app.broker.base import MessageHandler, ResyncHandler

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Expiring:
    value: object
    expires_at: float


@dataclass(slots=True)
class _Window:
    """Times of the hits counted in one sliding window, oldest first."""

    hits: deque[float] = field(default_factory=deque)
    window: float = 0.0

    def prune(self, now: float) -> None:
        while self.hits and self.hits[0] <= now - self.window:
            self.hits.popleft()


class MemoryBroker:
    def __init__(self, *, sweep_interval: float = 1.0) -> None:
        # Expired entries are dropped lazily on access, plus one full sweep at most this
        # often, so keys nobody reads again (one per client IP, say) cannot pile up.
        self._sweep_interval = sweep_interval
        self._channels: set[str] = set()
        self._on_message: MessageHandler | None = None
        self._on_resync: ResyncHandler | None = None
        self._closed = False
        self._entries: dict[str, _Expiring] = {}
        self._windows: dict[str, _Window] = {}
        self._next_sweep = 0.0

    @property
    def outages(self) -> int:
        return 0  # nothing in this process can be lost while it runs

    # -- lifecycle -------------------------------------------------------------------
    async def open(self) -> None:
        self._closed = False

    async def close(self) -> None:
        # Deliveries already queued with call_soon see the closed flag and drop out.
        self._closed = True
        self._channels.clear()

    async def ping(self) -> None:
        return None

    # -- PubSub ----------------------------------------------------------------------
    def set_handlers(self, on_message: MessageHandler, on_resync: ResyncHandler) -> None:
        self._on_message = on_message
        self._on_resync = on_resync  # never called: an in-process broker cannot drop out

    async def publish(self, channel: str, message: str) -> None:
        if channel in self._channels and not self._closed:
            # call_soon is FIFO, which is what keeps per-channel publish order.
            asyncio.get_running_loop().call_soon(self._deliver, channel, message)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    def _deliver(self, channel: str, message: str) -> None:
        # Checked again here: an unsubscribe between publish and delivery wins.
        handler = self._on_message
        if self._closed or handler is None or channel not in self._channels:
            return
        try:
            handler(channel, message)
        except Exception:
            log.exception("message handler failed on channel %s", channel)

    # -- SharedValues ----------------------------------------------------------------
    async def set_value(self, key: str, value: str, ttl_seconds: float) -> None:
        now = self._tick()
        self._entries[key] = _Expiring(value, now + ttl_seconds)

    async def get_value(self, key: str) -> str | None:
        value = self._live(key, self._tick())
        return value if isinstance(value, str) else None

    async def get_values(self, keys: list[str]) -> list[str | None]:
        now = self._tick()
        return [value if isinstance(value := self._live(key, now), str) else None for key in keys]

    async def delete_value(self, key: str) -> None:
        self._entries.pop(key, None)

    async def set_value_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        # No await between the check and the set: atomic on the one event loop.
        now = self._tick()
        if self._live(key, now) is not None:
            return False
        self._entries[key] = _Expiring(value, now + ttl_seconds)
        return True

    # -- PresenceHashes --------------------------------------------------------------
    async def hash_set(self, key: str, field: str, value: str, ttl_seconds: float) -> None:
        now = self._tick()
        fields = self._live(key, now)
        if not isinstance(fields, dict):
            fields = {}
        fields[field] = value
        self._entries[key] = _Expiring(fields, now + ttl_seconds)

    async def hash_delete(self, key: str, field: str) -> None:
        fields = self._live(key, self._tick())
        if isinstance(fields, dict):
            fields.pop(field, None)
            if not fields:
                # Like Redis: a hash with no fields left does not exist.
                del self._entries[key]

    async def hash_get_all(self, key: str) -> dict[str, str]:
        fields = self._live(key, self._tick())
        return dict(fields) if isinstance(fields, dict) else {}

    # -- RateLimiter -----------------------------------------------------------------
    async def hit_rate_limit(self, key: str, limit: int, window_seconds: float) -> tuple[bool, float]:
        now = self._tick()
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(window=window_seconds)
        window.window = window_seconds
        window.prune(now)
        if len(window.hits) < limit:
            window.hits.append(now)
            return True, 0.0
        if not window.hits:  # limit <= 0: nothing is ever allowed
            return False, window_seconds
        return False, max(window.hits[0] + window_seconds - now, 1e-6)

    # -- expiry ------------------------------------------------------------------------
    def _live(self, key: str, now: float) -> object | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= now:
            del self._entries[key]
            return None
        return entry.value

    def _tick(self) -> float:
        """The current monotonic time; sweeps everything expired when a sweep is due."""
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self._sweep_interval
            self._entries = {k: e for k, e in self._entries.items() if e.expires_at > now}
            for key, window in list(self._windows.items()):
                window.prune(now)
                if not window.hits:
                    del self._windows[key]
        return now
