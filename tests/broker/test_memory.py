"""In-process only: delivery timing and bounded memory, which Redis gets for free."""

from __future__ import annotations

import asyncio

from app.broker.memory import MemoryBroker
from tests.broker.conftest import Inbox


async def test_publish_delivers_later_never_inside_the_publish_call() -> None:
    broker, inbox = MemoryBroker(), Inbox()
    broker.set_handlers(inbox.on_message, inbox.on_resync)
    await broker.subscribe("board:1")
    await broker.publish("board:1", "x")
    assert inbox.messages == []  # a handler must never run re-entrantly inside publish
    assert await inbox.wait_for("board:1", 1) == ["x"]


async def test_unsubscribing_before_delivery_drops_the_queued_message() -> None:
    broker, inbox = MemoryBroker(), Inbox()
    broker.set_handlers(inbox.on_message, inbox.on_resync)
    await broker.subscribe("board:1")
    await broker.publish("board:1", "x")
    await broker.unsubscribe("board:1")
    await inbox.settle(0.05)
    assert inbox.messages == []


async def test_nothing_is_delivered_after_close() -> None:
    broker, inbox = MemoryBroker(), Inbox()
    broker.set_handlers(inbox.on_message, inbox.on_resync)
    await broker.subscribe("board:1")
    await broker.publish("board:1", "x")
    await broker.close()
    await inbox.settle(0.05)
    assert inbox.messages == []


async def test_expired_keys_are_pruned_without_being_read_again() -> None:
    broker = MemoryBroker(sweep_interval=0.05)
    for n in range(1000):
        await broker.set_value(f"v{n}", "x", ttl_seconds=0.05)
        await broker.hash_set(f"h{n}", "f", "x", ttl_seconds=0.05)
        await broker.hit_rate_limit(f"rl{n}", limit=1, window_seconds=0.05)
    await asyncio.sleep(0.12)
    await broker.get_value("something-else")  # any access runs the due sweep
    assert broker._entries == {} and broker._windows == {}
