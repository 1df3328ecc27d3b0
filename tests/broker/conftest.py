"""The broker contract suite: every test in tests/broker/ runs once per adapter, unless
it asks for Redis by name.

``memory`` is the in-process broker; ``redis`` talks to the suite's real redis-server;
``cluster`` to a real three-primary Redis Cluster (sharded pub/sub, keys over hash
slots); ``sentinel`` to a primary found through three real sentinels.
Each test gets brokers under a prefix of its own (``taskwire:test-<uuid>:``), so tests
never see each other's keys or channels on the shared server and nothing is flushed.
Redis brokers run with small timing knobs so fault tests finish in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from app.broker.base import Broker
from app.broker.memory import MemoryBroker
from app.broker.redis import RedisBroker
from tests.support.services import RedisServer

# Fast enough that a dead connection is noticed in about a second, slow enough that a
# loaded CI machine does not mistake a busy event loop for silence.
FAST_REDIS = dict(
    heartbeat_interval=0.2,
    silence_timeout=1.0,
    backoff_initial=0.05,
    backoff_max=0.4,
    connect_timeout=0.5,
    command_timeout=1.0,
)

BrokerFactory = Callable[[], Awaitable[Broker]]


class Inbox:
    """The one listener a test installs: records messages and resyncs, and lets the
    test wait for them without sleeping blindly."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []
        self.resyncs = 0
        self._changed = asyncio.Event()

    def on_message(self, channel: str, message: str) -> None:
        self.messages.append((channel, message))
        self._changed.set()

    def on_resync(self) -> None:
        self.resyncs += 1
        self._changed.set()

    def on(self, channel: str) -> list[str]:
        return [message for name, message in self.messages if name == channel]

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    async def wait_for(self, channel: str, count: int, timeout: float = 5.0) -> list[str]:
        await self.wait_until(lambda: len(self.on(channel)) >= count, timeout)
        return self.on(channel)

    async def settle(self, seconds: float = 0.2) -> None:
        """Give anything still in flight time to arrive (for asserting that nothing does)."""
        await asyncio.sleep(seconds)


async def ensure_running(server: RedisServer) -> None:
    """Fault tests stop the shared server; whatever happened, leave it up for the rest."""
    if server.proc.poll() is not None:
        await asyncio.to_thread(server.restart)


REDIS_KINDS = {"redis": "redis", "cluster": "redis_cluster_nodes", "sentinel": "redis_sentinel_nodes"}


@pytest.fixture(params=["memory", "redis", "cluster", "sentinel"])
def broker_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def prefix() -> str:
    return f"taskwire:test-{uuid.uuid4().hex[:12]}:"


@contextlib.asynccontextmanager
async def redis_brokers(server: RedisServer | Any, prefix: str) -> AsyncIterator[BrokerFactory]:
    """Opens RedisBrokers on one of the suite's Redis deployments (anything with a ``url``)
    sharing one prefix (so they behave as instances of one deployment); closes each on the
    way out."""
    opened: list[RedisBroker] = []

    async def make(**overrides: float) -> RedisBroker:
        broker = RedisBroker(server.url, prefix=prefix, **{**FAST_REDIS, **overrides})
        await broker.open()
        opened.append(broker)
        return broker

    try:
        yield make
    finally:
        if isinstance(server, RedisServer):
            await ensure_running(server)
        for broker in opened:
            await broker.close()


@pytest.fixture
async def make_redis_broker(redis: RedisServer, prefix: str) -> AsyncIterator[BrokerFactory]:
    async with redis_brokers(redis, prefix) as make:
        yield make


@pytest.fixture
async def make_broker(broker_kind: str, request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[BrokerFactory]:
    """Each call is another instance of the same deployment. For Redis that is a new
    connection to the shared server; in-process there is only ever one instance, so
    every call returns the same broker (one process shares one broker)."""
    if broker_kind in REDIS_KINDS:
        async with redis_brokers(request.getfixturevalue(REDIS_KINDS[broker_kind]), prefix) as make:
            yield make
        return
    broker = MemoryBroker()
    await broker.open()

    async def same_instance() -> Broker:
        return broker

    yield same_instance
    await broker.close()


@pytest.fixture
async def broker(make_broker: BrokerFactory) -> Broker:
    return await make_broker()


@pytest.fixture
def inbox(broker: Broker) -> Inbox:
    box = Inbox()
    broker.set_handlers(box.on_message, box.on_resync)
    return box
