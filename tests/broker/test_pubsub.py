"""Pub/sub contract, for every adapter: what the hub relies on to fan events out."""

from __future__ import annotations

from app.broker.base import Broker
from tests.broker.conftest import BrokerFactory, Inbox


async def test_publish_reaches_a_subscriber(broker: Broker, inbox: Inbox) -> None:
    await broker.subscribe("board:1")
    await broker.publish("board:1", '{"seq": 1}')
    assert await inbox.wait_for("board:1", 1) == ['{"seq": 1}']


async def test_only_subscribed_channels_are_delivered(broker: Broker, inbox: Inbox) -> None:
    await broker.subscribe("board:mine")
    await broker.publish("board:other", "not for us")
    await broker.publish("board:mine", "for us")
    await inbox.wait_for("board:mine", 1)
    await inbox.settle()
    assert inbox.messages == [("board:mine", "for us")]


async def test_subscribe_twice_delivers_once(broker: Broker, inbox: Inbox) -> None:
    await broker.subscribe("board:1")
    await broker.subscribe("board:1")
    await broker.publish("board:1", "once")
    await inbox.wait_for("board:1", 1)
    await inbox.settle()
    assert inbox.on("board:1") == ["once"]


async def test_no_delivery_after_unsubscribe(broker: Broker, inbox: Inbox) -> None:
    await broker.subscribe("board:1")
    await broker.subscribe("board:2")
    await broker.unsubscribe("board:1")
    await broker.publish("board:1", "gone")
    await broker.publish("board:2", "marker")
    await inbox.wait_for("board:2", 1)
    await inbox.settle()
    assert inbox.on("board:1") == []


async def test_resubscribe_after_unsubscribe_delivers_again(broker: Broker, inbox: Inbox) -> None:
    await broker.subscribe("board:1")
    await broker.unsubscribe("board:1")
    await broker.subscribe("board:1")
    await broker.publish("board:1", "back")
    assert await inbox.wait_for("board:1", 1) == ["back"]


async def test_order_is_preserved_for_1000_messages_on_one_channel(broker: Broker, inbox: Inbox) -> None:
    await broker.subscribe("board:1")
    sent = [f'{{"seq": {n}}}' for n in range(1000)]
    for message in sent:
        await broker.publish("board:1", message)
    assert await inbox.wait_for("board:1", 1000, timeout=15) == sent


async def test_messages_arrive_as_the_exact_text_published(broker: Broker, inbox: Inbox) -> None:
    text = '{"title": "Ünïcödé ✓ \\n", "big": "' + "x" * 100_000 + '"}'
    await broker.subscribe("board:1")
    await broker.publish("board:1", text)
    [received] = await inbox.wait_for("board:1", 1)
    assert received == text and isinstance(received, str)


async def test_a_failing_handler_does_not_stop_later_deliveries(broker: Broker) -> None:
    inbox = Inbox()

    def explode_on_first(channel: str, message: str) -> None:
        if message == "boom":
            raise RuntimeError("handler bug")
        inbox.on_message(channel, message)

    broker.set_handlers(explode_on_first, inbox.on_resync)
    await broker.subscribe("board:1")
    await broker.publish("board:1", "boom")
    await broker.publish("board:1", "after")
    assert await inbox.wait_for("board:1", 1) == ["after"]


async def test_publish_without_subscribers_is_fine(broker: Broker, inbox: Inbox) -> None:
    await broker.publish("board:nobody", "into the void")
    await broker.ping()


async def test_a_publish_through_another_instance_reaches_this_one(make_broker: BrokerFactory) -> None:
    # In-process, "another instance" is the same broker: one process shares one broker.
    receiver, sender = await make_broker(), await make_broker()
    inbox = Inbox()
    receiver.set_handlers(inbox.on_message, inbox.on_resync)
    await receiver.subscribe("board:1")
    await sender.publish("board:1", "hello")
    assert await inbox.wait_for("board:1", 1) == ["hello"]
