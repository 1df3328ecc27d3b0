"""Values and hashes with expiry, for every adapter (token revocation, presence, cache)."""

from __future__ import annotations

import asyncio

from app.broker.base import Broker
from tests.broker.conftest import BrokerFactory


async def test_a_value_reads_back_until_it_expires(broker: Broker) -> None:
    await broker.set_value("revoked:abc", "1", ttl_seconds=0.3)
    assert await broker.get_value("revoked:abc") == "1"
    await asyncio.sleep(0.45)
    assert await broker.get_value("revoked:abc") is None


async def test_setting_a_value_again_replaces_it_and_its_expiry(broker: Broker) -> None:
    await broker.set_value("k", "old", ttl_seconds=0.2)
    await broker.set_value("k", "new", ttl_seconds=5)
    await asyncio.sleep(0.3)
    assert await broker.get_value("k") == "new"


async def test_a_missing_value_reads_as_none(broker: Broker) -> None:
    assert await broker.get_value("never-set") is None


async def test_a_deleted_value_is_gone(broker: Broker) -> None:
    await broker.set_value("k", "v", ttl_seconds=5)
    await broker.delete_value("k")
    await broker.delete_value("k")  # deleting twice is harmless
    assert await broker.get_value("k") is None


async def test_values_are_shared_between_instances(make_broker: BrokerFactory) -> None:
    writer, reader = await make_broker(), await make_broker()
    await writer.set_value("session:1", "revoked", ttl_seconds=5)
    assert await reader.get_value("session:1") == "revoked"


async def test_hash_fields_read_back_together(broker: Broker) -> None:
    await broker.hash_set("presence:board1", "user1", "Ada", ttl_seconds=5)
    await broker.hash_set("presence:board1", "user2", "Grace", ttl_seconds=5)
    await broker.hash_set("presence:board1", "user1", "Ada L.", ttl_seconds=5)
    assert await broker.hash_get_all("presence:board1") == {"user1": "Ada L.", "user2": "Grace"}


async def test_a_hash_expires_as_a_whole(broker: Broker) -> None:
    await broker.hash_set("presence:b", "u1", "x", ttl_seconds=0.3)
    await broker.hash_set("presence:b", "u2", "y", ttl_seconds=0.3)
    await asyncio.sleep(0.45)
    assert await broker.hash_get_all("presence:b") == {}


async def test_setting_any_field_rearms_the_whole_hash(broker: Broker) -> None:
    await broker.hash_set("presence:b", "u1", "x", ttl_seconds=0.4)
    await asyncio.sleep(0.25)
    await broker.hash_set("presence:b", "u2", "y", ttl_seconds=0.4)
    await asyncio.sleep(0.25)  # past u1's first expiry, inside the re-armed one
    assert await broker.hash_get_all("presence:b") == {"u1": "x", "u2": "y"}
    await asyncio.sleep(0.3)
    assert await broker.hash_get_all("presence:b") == {}


async def test_a_deleted_hash_field_is_gone_and_the_rest_stay(broker: Broker) -> None:
    await broker.hash_set("presence:b", "u1", "x", ttl_seconds=5)
    await broker.hash_set("presence:b", "u2", "y", ttl_seconds=5)
    await broker.hash_delete("presence:b", "u1")
    await broker.hash_delete("presence:b", "missing")
    assert await broker.hash_get_all("presence:b") == {"u2": "y"}
    await broker.hash_delete("presence:b", "u2")
    assert await broker.hash_get_all("presence:b") == {}


async def test_a_missing_hash_reads_as_empty(broker: Broker) -> None:
    assert await broker.hash_get_all("presence:nobody") == {}


async def test_several_values_read_together_come_back_in_the_order_asked(broker: Broker) -> None:
    await broker.set_value("revoked:s1", "1", ttl_seconds=5)
    await broker.set_value("cache:user:u1", '{"id": "u1"}', ttl_seconds=5)
    await broker.set_value("short", "x", ttl_seconds=0.2)
    await asyncio.sleep(0.3)

    assert await broker.get_values(["cache:user:u1", "never-set", "revoked:s1", "short"]) == [
        '{"id": "u1"}',
        None,
        "1",
        None,
    ]
    assert await broker.get_values(["revoked:s1"]) == ["1"]
