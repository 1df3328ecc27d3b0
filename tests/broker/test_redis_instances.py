"""Redis only: several instances on one redis-server, and what the adapter leaves there."""

from __future__ import annotations

import asyncio

import redis.asyncio as redis_client

from app.broker.redis import RedisBroker
from tests.broker.conftest import FAST_REDIS, BrokerFactory, Inbox
from tests.support.services import RedisServer


async def test_two_instances_see_each_others_messages(make_redis_broker: BrokerFactory) -> None:
    first, second = await make_redis_broker(), await make_redis_broker()
    first_inbox, second_inbox = Inbox(), Inbox()
    first.set_handlers(first_inbox.on_message, first_inbox.on_resync)
    second.set_handlers(second_inbox.on_message, second_inbox.on_resync)
    await first.subscribe("board:1")
    await second.subscribe("board:1")

    await first.publish("board:1", "from first")
    await second.publish("board:1", "from second")

    # Each instance receives its own publish too: the hub fans out local sockets from it.
    assert await first_inbox.wait_for("board:1", 2) == ["from first", "from second"]
    assert await second_inbox.wait_for("board:1", 2) == ["from first", "from second"]
    assert first_inbox.resyncs == second_inbox.resyncs == 0


async def test_an_instance_only_receives_the_channels_it_subscribed(make_redis_broker: BrokerFactory) -> None:
    watcher, other = await make_redis_broker(), await make_redis_broker()
    inbox = Inbox()
    watcher.set_handlers(inbox.on_message, inbox.on_resync)
    await watcher.subscribe("board:watched")
    await other.subscribe("board:elsewhere")
    await other.publish("board:elsewhere", "not for the watcher")
    await other.publish("board:watched", "for the watcher")
    await inbox.wait_for("board:watched", 1)
    await inbox.settle()
    assert inbox.messages == [("board:watched", "for the watcher")]


async def test_every_key_and_channel_is_namespaced(
    make_redis_broker: BrokerFactory, redis: RedisServer, prefix: str
) -> None:
    broker = await make_redis_broker()
    await broker.subscribe("board:1")
    await broker.set_value("revoked:1", "1", ttl_seconds=30)
    await broker.hash_set("presence:1", "u", "x", ttl_seconds=30)
    await broker.hit_rate_limit("rl:1", limit=5, window_seconds=30)
    async with redis_client.Redis.from_url(redis.url, decode_responses=True) as plain:
        keys = await plain.keys(f"{prefix}*")
        channels = await plain.pubsub_channels(f"{prefix}*")
        ttls = [await plain.pttl(key) for key in keys]
    assert sorted(keys) == [f"{prefix}presence:1", f"{prefix}revoked:1", f"{prefix}rl:1"]
    assert f"{prefix}board:1" in channels
    assert all(channel.startswith(prefix) for channel in channels)
    assert all(0 < ttl <= 30_000 for ttl in ttls), "every key the adapter writes expires"


async def test_the_rate_limiter_uses_the_servers_clock(
    make_redis_broker: BrokerFactory, redis: RedisServer, prefix: str
) -> None:
    """Hits are stamped with Redis TIME, so an instance whose own clock is off cannot
    shift the window: the stored score is the server's time, not ours."""
    broker = await make_redis_broker()
    await broker.hit_rate_limit("rl:clock", limit=5, window_seconds=30)
    async with redis_client.Redis.from_url(redis.url, decode_responses=True) as plain:
        seconds, micros = await plain.time()
        [(_, score)] = await plain.zrange(f"{prefix}rl:clock", 0, -1, withscores=True)
    assert abs(seconds * 1_000_000 + micros - score) < 1_000_000


async def test_close_stops_every_task_the_broker_started(redis: RedisServer, prefix: str) -> None:
    broker = RedisBroker(redis.url, prefix=prefix, **FAST_REDIS)
    await broker.open()
    await broker.subscribe("board:1")
    assert broker_tasks(), "the receive loop and the heartbeat run while open"
    await broker.close()
    assert broker_tasks() == []
    await broker.close()  # a second close is harmless


def broker_tasks() -> list[asyncio.Task]:
    return [task for task in asyncio.all_tasks() if task.get_name().startswith("taskwire-redis")]
