"""set_value_if_absent, for every adapter: the one atomic claim behind idempotency keys
and per-token throttles."""

from __future__ import annotations

import asyncio

from app.broker.base import Broker
from tests.broker.conftest import BrokerFactory


async def test_an_absent_key_is_set_and_a_present_one_is_left_alone(broker: Broker) -> None:
    assert await broker.set_value_if_absent("idem:k", "first", ttl_seconds=5) is True
    assert await broker.set_value_if_absent("idem:k", "second", ttl_seconds=5) is False
    assert await broker.get_value("idem:k") == "first"


async def test_an_expired_key_counts_as_absent(broker: Broker) -> None:
    assert await broker.set_value_if_absent("idem:k", "old", ttl_seconds=0.2) is True
    await asyncio.sleep(0.35)
    assert await broker.get_value("idem:k") is None
    assert await broker.set_value_if_absent("idem:k", "new", ttl_seconds=5) is True
    assert await broker.get_value("idem:k") == "new"


async def test_the_value_set_expires_with_its_ttl(broker: Broker) -> None:
    await broker.set_value_if_absent("idem:k", "v", ttl_seconds=0.2)
    await asyncio.sleep(0.35)
    assert await broker.get_value("idem:k") is None


async def test_a_deleted_key_can_be_claimed_again(broker: Broker) -> None:
    await broker.set_value_if_absent("idem:k", "v", ttl_seconds=5)
    await broker.delete_value("idem:k")
    assert await broker.set_value_if_absent("idem:k", "w", ttl_seconds=5) is True


async def test_a_plain_set_value_blocks_a_claim(broker: Broker) -> None:
    await broker.set_value("idem:k", "done", ttl_seconds=5)
    assert await broker.set_value_if_absent("idem:k", "pending", ttl_seconds=5) is False
    assert await broker.get_value("idem:k") == "done"


async def test_of_many_racing_claims_exactly_one_wins(broker: Broker) -> None:
    results = await asyncio.gather(*(broker.set_value_if_absent("idem:race", str(n), 5) for n in range(20)))
    assert results.count(True) == 1
    assert await broker.get_value("idem:race") == str(results.index(True))


async def test_claims_from_two_instances_exclude_each_other(make_broker: BrokerFactory) -> None:
    first, second = await make_broker(), await make_broker()
    outcomes = await asyncio.gather(
        first.set_value_if_absent("idem:shared", "a", 5), second.set_value_if_absent("idem:shared", "b", 5)
    )
    assert sorted(outcomes) == [False, True]
    assert await first.get_value("idem:shared") == await second.get_value("idem:shared")
