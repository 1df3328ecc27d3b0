"""Commands issued together go to Redis as one pipeline; each caller still gets its own
reply, in order, and only its own error."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from app.broker.redis_batch import CommandBatcher
from tests.broker.conftest import BrokerFactory
from tests.support.services import RedisServer


async def test_concurrent_commands_each_get_their_own_reply_and_error(redis: RedisServer, prefix: str) -> None:
    client = Redis.from_url(redis.url, decode_responses=True)
    batcher = CommandBatcher(client)
    try:
        key = prefix + "batch"
        # Awaited first: commands of different callers issued together have no order
        # between them (the lone first one may go out on another pooled connection).
        assert await batcher.execute("SET", key, "v") is True
        results = await asyncio.gather(
            batcher.execute("INCR", key),
            batcher.execute("GET", key),
            *(batcher.execute("ECHO", str(n)) for n in range(50)),
            return_exceptions=True,
        )
        assert isinstance(results[0], ResponseError)  # a string cannot be incremented: its caller alone fails
        assert results[1] == "v"
        assert results[2:] == [str(n) for n in range(50)]
    finally:
        await batcher.close()
        await client.aclose()


async def test_rate_limit_hits_issued_together_count_exactly_and_survive_a_script_flush(
    make_redis_broker: BrokerFactory, redis: RedisServer
) -> None:
    broker = await make_redis_broker()
    hits = await asyncio.gather(*(broker.hit_rate_limit("rl:batch", limit=30, window_seconds=10) for _ in range(40)))
    assert sum(allowed for allowed, _ in hits) == 30
    client = Redis.from_url(redis.url)
    try:
        await client.script_flush()  # as a restarted Redis would have forgotten the script
    finally:
        await client.aclose()
    hits = await asyncio.gather(
        *(broker.hit_rate_limit("rl:after-flush", limit=5, window_seconds=10) for _ in range(8))
    )
    assert sum(allowed for allowed, _ in hits) == 5


@pytest.mark.parametrize("count", [1, 64])
async def test_values_written_together_are_read_back(make_redis_broker: BrokerFactory, count: int) -> None:
    broker = await make_redis_broker()
    await asyncio.gather(*(broker.set_value(f"v:{n}", str(n), 10) for n in range(count)))
    stored = await asyncio.gather(*(broker.set_value_if_absent(f"v:{n}", "again", 10) for n in range(count)))
    assert stored == [False] * count
    assert await asyncio.gather(*(broker.get_value(f"v:{n}") for n in range(count))) == [str(n) for n in range(count)]
