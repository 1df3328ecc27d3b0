"""Redis only: the broker survives its server going away, freezing, or cutting it off,
without anyone touching it; and it never hangs a caller or a shutdown.

These tests stop the session's shared redis-server; each leaves it running again.
Timings are printed (pytest -rP shows them) so regressions in recovery time are visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis_client

from app.broker.base import BrokerUnavailable
from app.broker.redis import RedisBroker
from tests.broker.conftest import FAST_REDIS, BrokerFactory, Inbox, ensure_running
from tests.support.services import RedisServer

PROMPT = FAST_REDIS["command_timeout"] + 0.5  # "does not hang": bounded by our own timeouts


def now() -> float:
    return asyncio.get_running_loop().time()


async def listening(make_redis_broker: BrokerFactory, *channels: str) -> tuple[RedisBroker, Inbox]:
    broker, inbox = await make_redis_broker(), Inbox()
    broker.set_handlers(inbox.on_message, inbox.on_resync)
    for channel in channels:
        await broker.subscribe(channel)
    return broker, inbox


@contextlib.asynccontextmanager
async def frozen(server: RedisServer) -> AsyncIterator[None]:
    """SIGSTOP: sockets stay open but nothing answers. Issue #3979 looks like this from
    the client side: no error, just silence."""
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)


async def publish_stream(sender: RedisBroker, channel: str, sent: list[int], stop: asyncio.Event) -> None:
    """A steady producer that, like EventPublisher, treats an outage as a skipped publish."""
    seq = 0
    while not stop.is_set():
        seq += 1
        try:
            await sender.publish(channel, str(seq))
            sent.append(seq)
        except BrokerUnavailable:
            pass
        await asyncio.sleep(0.01)


async def test_broker_recovers_by_itself_after_a_redis_restart_mid_stream(
    make_redis_broker: BrokerFactory, redis: RedisServer
) -> None:
    receiver, inbox = await listening(make_redis_broker, "board:1")
    sender = await make_redis_broker()
    sent: list[int] = []
    stop = asyncio.Event()
    producer = asyncio.create_task(publish_stream(sender, "board:1", sent, stop))

    def received() -> list[int]:
        return [int(message) for message in inbox.on("board:1")]

    try:
        await inbox.wait_for("board:1", 20)
        await asyncio.to_thread(redis.stop)
        down_at = now()
        await asyncio.sleep(0.5)
        await asyncio.to_thread(redis.restart)
        up_at = now()
        await inbox.wait_until(lambda: inbox.resyncs == 1, timeout=5)
        resynced_at = now()
        mark = sent[-1]  # published before the resync was reported: may be lost
        await inbox.wait_until(lambda: received()[-1] >= mark + 20)
    finally:
        stop.set()
        await producer
        await ensure_running(redis)
    print(f"restart: server down {up_at - down_at:.2f}s, resynced {resynced_at - up_at:.2f}s after it came back")

    await inbox.wait_until(lambda: received()[-1] == sent[-1])
    assert received() == sorted(received()), "order per channel survives a reconnect"
    assert set(received()) <= set(sent)
    assert [seq for seq in received() if seq > mark] == [seq for seq in sent if seq > mark], (
        "nothing published after the resync is lost"
    )
    assert receiver.reconnects == 1 and inbox.resyncs == 1
    assert receiver.pubsub_connected
    await receiver.ping()


async def test_a_silent_connection_is_detected_by_the_heartbeat_and_rebuilt(
    make_redis_broker: BrokerFactory, redis: RedisServer
) -> None:
    receiver, inbox = await listening(make_redis_broker, "board:1")
    sender = await make_redis_broker()
    try:
        async with frozen(redis):
            frozen_at = now()
            while receiver.pubsub_connected:
                assert now() - frozen_at < FAST_REDIS["silence_timeout"] + 1.0, "silence went unnoticed"
                await asyncio.sleep(0.02)
            detected_after = now() - frozen_at
            thawed_at = now()
        await inbox.wait_until(lambda: inbox.resyncs == 1, timeout=5)
        resynced_after = now() - thawed_at
    finally:
        await ensure_running(redis)
    print(f"frozen server: silence detected after {detected_after:.2f}s, resynced {resynced_after:.2f}s after thaw")

    await sender.publish("board:1", "after the freeze")
    assert await inbox.wait_for("board:1", 1) == ["after the freeze"]
    assert receiver.reconnects == 1


async def test_a_connection_cut_by_the_server_is_rebuilt_and_resynced(
    make_redis_broker: BrokerFactory, redis: RedisServer
) -> None:
    receiver, inbox = await listening(make_redis_broker, "board:1")
    async with redis_client.Redis.from_url(redis.url) as admin:
        killed = await admin.client_kill_filter(
            _type="pubsub", skipme=True, _id=await pubsub_client_id(admin, receiver)
        )
    assert killed == 1
    await inbox.wait_until(lambda: inbox.resyncs == 1, timeout=5)
    await receiver.publish("board:1", "after the cut")
    assert await inbox.wait_for("board:1", 1) == ["after the cut"]
    assert receiver.reconnects == 1


async def pubsub_client_id(admin: redis_client.Redis, broker: RedisBroker) -> str:
    for client in await admin.client_list(_type="pubsub"):
        if client["name"] == f"taskwire-sub-{broker.instance_id}":
            return client["id"]
    raise AssertionError("the broker's pub/sub connection is not on the server")


async def test_subscribing_while_redis_is_down_takes_effect_on_reconnect(
    make_redis_broker: BrokerFactory, redis: RedisServer
) -> None:
    receiver, inbox = await listening(make_redis_broker, "board:1")
    try:
        await asyncio.to_thread(redis.stop)
        async with asyncio.timeout(PROMPT):
            await receiver.subscribe("board:2")
            await receiver.unsubscribe("board:1")
        await asyncio.to_thread(redis.restart)
        await inbox.wait_until(lambda: inbox.resyncs == 1, timeout=5)
    finally:
        await ensure_running(redis)
    await receiver.publish("board:1", "unsubscribed while down")
    await receiver.publish("board:2", "subscribed while down")
    assert await inbox.wait_for("board:2", 1) == ["subscribed while down"]
    await inbox.settle()
    assert inbox.on("board:1") == []


async def test_calls_fail_fast_with_broker_unavailable_while_redis_is_down(
    make_redis_broker: BrokerFactory, redis: RedisServer
) -> None:
    broker = await make_redis_broker()
    try:
        await asyncio.to_thread(redis.stop)
        for call in (
            broker.ping(),
            broker.publish("board:1", "x"),
            broker.get_value("k"),
            broker.hit_rate_limit("rl:k", 5, 10),
        ):
            started = now()
            with pytest.raises(BrokerUnavailable):
                await call
            assert now() - started < PROMPT
    finally:
        await ensure_running(redis)


async def test_calls_to_a_frozen_redis_time_out_instead_of_hanging(
    make_redis_broker: BrokerFactory, redis: RedisServer
) -> None:
    broker = await make_redis_broker()
    try:
        async with frozen(redis):
            for call in (broker.publish("board:1", "x"), broker.set_value("k", "v", 5)):
                started = now()
                with pytest.raises(BrokerUnavailable):
                    await call
                assert now() - started < PROMPT
    finally:
        await ensure_running(redis)


async def test_close_returns_promptly_after_the_server_died(redis: RedisServer, prefix: str) -> None:
    broker = RedisBroker(redis.url, prefix=prefix, **FAST_REDIS)
    await broker.open()
    await broker.subscribe("board:1")
    try:
        await asyncio.to_thread(redis.kill)
        await asyncio.sleep(0.3)  # let the receive loop notice and start backing off
        started = now()
        async with asyncio.timeout(PROMPT):
            await broker.close()
        print(f"close after the server died took {now() - started:.3f}s")
    finally:
        await ensure_running(redis)


async def test_close_returns_promptly_while_the_server_is_frozen(redis: RedisServer, prefix: str) -> None:
    broker = RedisBroker(redis.url, prefix=prefix, **FAST_REDIS)
    await broker.open()
    await broker.subscribe("board:1")
    try:
        async with frozen(redis):
            started = now()
            async with asyncio.timeout(PROMPT + FAST_REDIS["connect_timeout"]):
                await broker.close()
            print(f"close while the server was frozen took {now() - started:.3f}s")
    finally:
        await ensure_running(redis)


async def test_open_with_redis_down_keeps_trying_and_resyncs_when_it_arrives(redis: RedisServer, prefix: str) -> None:
    broker, inbox = RedisBroker(redis.url, prefix=prefix, **FAST_REDIS), Inbox()
    broker.set_handlers(inbox.on_message, inbox.on_resync)
    try:
        await asyncio.to_thread(redis.stop)
        await broker.open()  # returns after its wait; the loop keeps trying
        await broker.subscribe("board:1")
        with pytest.raises(BrokerUnavailable):
            await broker.ping()
        await asyncio.to_thread(redis.restart)
        await inbox.wait_until(lambda: inbox.resyncs == 1, timeout=5)
        await broker.publish("board:1", "late but here")
        assert await inbox.wait_for("board:1", 1) == ["late but here"]
        assert broker.reconnects == 0
    finally:
        await ensure_running(redis)
        await broker.close()


async def test_once_redis_is_found_frozen_calls_fail_at_once_until_it_answers_again(
    make_redis_broker: BrokerFactory, redis: RedisServer
) -> None:
    broker = await make_redis_broker()
    outages = broker.outages
    try:
        async with frozen(redis):
            with pytest.raises(BrokerUnavailable):
                await broker.get_value("k")  # this one waits out command_timeout
            started = now()
            for _ in range(50):
                with pytest.raises(BrokerUnavailable):
                    await broker.get_value("k")
            fifty_calls = now() - started
            assert broker.known_down and broker.outages == outages + 1
        thawed = now()
        while broker.known_down:
            assert now() - thawed < PROMPT + 1, "the probe never saw Redis answer again"
            await asyncio.sleep(0.05)
        await broker.set_value("k", "back", 5)
        assert await broker.get_value("k") == "back"
        print(
            f"50 calls while known down took {fifty_calls * 1000:.1f} ms; "
            f"calls worked again {now() - thawed:.2f} s after the thaw"
        )
        assert fifty_calls < FAST_REDIS["command_timeout"]  # not one timeout each
    finally:
        await ensure_running(redis)


async def test_a_lost_connection_counts_as_an_outage(make_redis_broker: BrokerFactory, redis: RedisServer) -> None:
    broker = await make_redis_broker()
    outages = broker.outages
    try:
        await asyncio.to_thread(redis.kill)
        await asyncio.to_thread(redis.restart)
        started = now()
        while broker.outages == outages:
            assert now() - started < 5, "the lost pub/sub connection was never counted"
            await asyncio.sleep(0.05)
    finally:
        await ensure_running(redis)
