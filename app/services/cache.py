"""A read cache in the broker's shared key/value store, for the hot reads of a scaled-out
deployment (task list pages, member lists, user profiles).

Board-scoped keys include the board's ``seq``. Every change to a board bumps its seq in
the same store write as the change, so after a write every reader computes a new key: a
cached board read can never be older than the last write. A miss is computed from the
store after the seq was read, so what is cached under a seq is at least that new.
User profiles are not board-scoped: they are dropped on update and live briefly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.broker.base import BrokerUnavailable, SharedValues
from app.domain.models import Member, Priority, Role, Task, TaskPage, User
from app.jsonutil import dumps, loads
from app.observability import metrics
from app.services.wiring import service

log = logging.getLogger(__name__)

T = TypeVar("T")
BOARD_READ_TTL_SECONDS = 300.0  # entries of old seqs are garbage; let them go soon
USER_TTL_SECONDS = 30.0
# Looked up once: labels() validates and locks on every call (every request reads the cache).
_HITS = metrics.CACHE_REQUESTS.labels("hit")
_MISSES = metrics.CACHE_REQUESTS.labels("miss")


def query_fingerprint(*parts: Any) -> str:
    return hashlib.sha1(dumps(parts).encode()).hexdigest()[:20]


@service
class ReadCache:
    _broker: SharedValues
    enabled: bool

    async def get_or_load(
        self,
        key: str,
        ttl: float,
        load: Callable[[], Awaitable[T]],
        encode: Callable[[T], Any],
        decode: Callable[[Any], T],
    ) -> T:
        if not self.enabled:
            return await load()
        try:
            cached = await self._broker.get_value(self.shared_key(key))
        except BrokerUnavailable:
            cached = None  # the cache is an optimisation: never fail a read for it
        return await self.settle(key, cached, ttl, load, encode, decode)

    @staticmethod
    def shared_key(key: str) -> str:
        """The broker key of a cache entry, for a caller that reads it with other values."""
        return "cache:" + key

    async def settle(
        self,
        key: str,
        cached: str | None,
        ttl: float,
        load: Callable[[], Awaitable[T]],
        encode: Callable[[T], Any],
        decode: Callable[[Any], T],
    ) -> T:
        """``get_or_load`` once the entry was read (``cached``: what the broker held under
        ``shared_key(key)``, None if nothing or if it could not be read)."""
        if not self.enabled:
            return await load()
        if cached is not None:
            _HITS.inc()
            return decode(loads(cached))
        _MISSES.inc()
        value = await load()
        try:
            await self._broker.set_value(self.shared_key(key), dumps(encode(value)), ttl)
        except BrokerUnavailable:
            log.warning("cache write skipped: broker unavailable")
        return value

    async def forget(self, key: str) -> None:
        if self.enabled:
            try:
                await self._broker.delete_value(self.shared_key(key))
            except BrokerUnavailable:
                log.warning("cache entry %s not dropped: broker unavailable (it expires in %ss)", key, USER_TTL_SECONDS)


# -- codecs: cached values are JSON; these rebuild the records services work with -------
def encode_page(page: TaskPage) -> dict[str, Any]:
    return {"items": [dataclasses.asdict(task) for task in page.items], "has_more": page.has_more, "total": page.total}


def decode_page(data: dict[str, Any]) -> TaskPage:
    items = [Task(**{**item, "priority": Priority(item["priority"])}) for item in data["items"]]
    return TaskPage(items=items, has_more=data["has_more"], total=data["total"])


def encode_members(members: list[Member]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(member) for member in members]


def decode_members(data: list[dict[str, Any]]) -> list[Member]:
    return [Member(**{**item, "role": Role(item["role"])}) for item in data]


def encode_user(user: User | None) -> dict[str, Any] | None:
    # The password hash never leaves the store.
    return {**dataclasses.asdict(user), "password_hash": ""} if user is not None else None


def decode_user(data: dict[str, Any] | None) -> User | None:
    return User(**data) if data is not None else None
