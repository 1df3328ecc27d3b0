"""The sliding-window rate limiter, for every adapter."""

from __future__ import annotations

import asyncio

from app.broker.base import Broker
from tests.broker.conftest import BrokerFactory


async def test_limit_hits_are_allowed_then_the_next_is_refused_with_retry_after(broker: Broker) -> None:
    results = [await broker.hit_rate_limit("rl:ip:1", limit=5, window_seconds=10) for _ in range(5)]
    assert results == [(True, 0.0)] * 5
    allowed, retry_after = await broker.hit_rate_limit("rl:ip:1", limit=5, window_seconds=10)
    assert not allowed
    assert 9 < retry_after <= 10


async def test_hits_are_allowed_again_after_the_window(broker: Broker) -> None:
    for _ in range(3):
        assert (await broker.hit_rate_limit("rl:k", limit=3, window_seconds=0.4))[0]
    allowed, retry_after = await broker.hit_rate_limit("rl:k", limit=3, window_seconds=0.4)
    assert not allowed and 0 < retry_after <= 0.4
    await asyncio.sleep(retry_after + 0.05)
    assert (await broker.hit_rate_limit("rl:k", limit=3, window_seconds=0.4))[0]


async def test_the_window_slides_rather_than_resetting(broker: Broker) -> None:
    assert (await broker.hit_rate_limit("rl:k", limit=2, window_seconds=0.6))[0]
    await asyncio.sleep(0.35)
    assert (await broker.hit_rate_limit("rl:k", limit=2, window_seconds=0.6))[0]
    assert not (await broker.hit_rate_limit("rl:k", limit=2, window_seconds=0.6))[0]
    await asyncio.sleep(0.35)  # the first hit left the window; the second has not
    assert (await broker.hit_rate_limit("rl:k", limit=2, window_seconds=0.6))[0]
    allowed, retry_after = await broker.hit_rate_limit("rl:k", limit=2, window_seconds=0.6)
    assert not allowed and 0 < retry_after < 0.3


async def test_refused_hits_are_not_counted(broker: Broker) -> None:
    assert (await broker.hit_rate_limit("rl:k", limit=1, window_seconds=0.3))[0]
    for _ in range(10):  # a client hammering while refused must not extend its own ban
        assert not (await broker.hit_rate_limit("rl:k", limit=1, window_seconds=0.3))[0]
    await asyncio.sleep(0.35)
    assert (await broker.hit_rate_limit("rl:k", limit=1, window_seconds=0.3))[0]


async def test_keys_are_limited_independently(broker: Broker) -> None:
    assert (await broker.hit_rate_limit("rl:a", limit=1, window_seconds=10))[0]
    assert not (await broker.hit_rate_limit("rl:a", limit=1, window_seconds=10))[0]
    assert (await broker.hit_rate_limit("rl:b", limit=1, window_seconds=10))[0]


async def test_a_zero_limit_refuses_everything(broker: Broker) -> None:
    allowed, retry_after = await broker.hit_rate_limit("rl:closed", limit=0, window_seconds=2)
    assert not allowed and retry_after > 0


async def test_concurrent_hits_from_two_instances_never_exceed_the_limit(make_broker: BrokerFactory) -> None:
    first, second = await make_broker(), await make_broker()
    hits = [(first if n % 2 else second).hit_rate_limit("rl:shared", limit=10, window_seconds=10) for n in range(50)]
    results = await asyncio.gather(*hits)
    assert sum(allowed for allowed, _ in results) == 10
    assert all(retry_after > 0 for allowed, retry_after in results if not allowed)
