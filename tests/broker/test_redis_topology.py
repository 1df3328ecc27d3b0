"""Redis deployments other than one server: a cluster moving a channel's slot under a
live subscriber, and the URL forms that name a cluster or a Sentinel set-up."""

from __future__ import annotations

import asyncio

import pytest

from app.broker.redis_endpoints import parse_redis_url
from app.settings import SettingsError, load_settings
from tests.broker.conftest import Inbox, redis_brokers
from tests.support.redis_topologies import RedisClusterNodes, RedisNode, redis_cluster


def _node_id(node: RedisNode) -> str:
    return node.cli("CLUSTER", "MYID").strip()


def _move_slot(cluster: RedisClusterNodes, key: str) -> RedisNode:
    """Migrate ``key``'s slot, with its keys, to another primary (as resharding does)."""
    source = cluster.primary_of(key)
    target = next(node for node in cluster.nodes if node is not source)
    slot = source.cli("CLUSTER", "KEYSLOT", key).strip()
    target.cli("CLUSTER", "SETSLOT", slot, "IMPORTING", _node_id(source))
    source.cli("CLUSTER", "SETSLOT", slot, "MIGRATING", _node_id(target))
    while keys := source.cli("CLUSTER", "GETKEYSINSLOT", slot, "100").split():
        source.cli("MIGRATE", "127.0.0.1", str(target.port), "", "0", "5000", "KEYS", *keys)
    for node in cluster.nodes:
        node.cli("CLUSTER", "SETSLOT", slot, "NODE", _node_id(target))
    return target


async def test_a_channel_whose_slot_moves_to_another_primary_keeps_delivering_after_a_resync(
    redis_cluster_nodes: RedisClusterNodes, prefix: str
) -> None:
    async with redis_brokers(redis_cluster_nodes, prefix) as make:
        receiver, sender = await make(), await make()
        inbox = Inbox()
        receiver.set_handlers(inbox.on_message, inbox.on_resync)
        await receiver.subscribe("board:moving")
        await sender.publish("board:moving", "before")
        await inbox.wait_for("board:moving", 1)

        new_owner = await asyncio.to_thread(_move_slot, redis_cluster_nodes, f"{prefix}board:moving")
        assert redis_cluster_nodes.primary_of(f"{prefix}board:moving") is new_owner

        # The old owner tells the subscriber the channel is gone (SUNSUBSCRIBE); it
        # subscribes on the new owner and reports a resync, so the hub reads the log.
        await inbox.wait_until(lambda: inbox.resyncs >= 1, timeout=10)
        await sender.publish("board:moving", "after")
        assert await inbox.wait_for("board:moving", 2, timeout=10) == ["before", "after"]


async def test_a_cluster_that_needs_a_password_gets_it_on_every_connection(prefix: str) -> None:
    """The URL's credentials reach the command client and each shard's subscriber connection."""
    with redis_cluster(primaries=3, password="s3cret-pw") as cluster:
        assert cluster.url.startswith("redis+cluster://:s3cret-pw@")
        async with redis_brokers(cluster, prefix) as make:
            broker = await make()
            inbox = Inbox()
            broker.set_handlers(inbox.on_message, inbox.on_resync)
            channels = [f"board:{number}" for number in range(12)]  # over every shard
            for channel in channels:
                await broker.subscribe(channel)
            for channel in channels:
                await broker.publish(channel, channel)
            await inbox.wait_until(lambda: len(inbox.messages) == len(channels))
            assert await broker.hit_rate_limit("limit", 1, 60) == (True, 0.0)


@pytest.mark.parametrize(
    ("url", "kind", "hosts", "extra"),
    [
        ("redis+cluster://10.0.0.1:7000,10.0.0.2:7001", "cluster", (("10.0.0.1", 7000), ("10.0.0.2", 7001)), {}),
        (
            "rediss+cluster://app:s%40cret@n1:7000",
            "cluster",
            (("n1", 7000),),
            {"tls": True, "username": "app", "password": "s@cret"},
        ),
        (
            "redis+sentinel://s1:26379,s2,[::1]:26380/mymaster/2",
            "sentinel",
            (("s1", 26379), ("s2", 26379), ("::1", 26380)),
            {"master_name": "mymaster", "db": 2},
        ),
        ("redis+sentinel://:pw@s1/mymaster", "sentinel", (("s1", 26379),), {"password": "pw", "db": 0}),
    ],
)
def test_cluster_and_sentinel_urls_name_their_nodes(url: str, kind: str, hosts: tuple, extra: dict) -> None:
    endpoint = parse_redis_url(url)
    assert (endpoint.kind, endpoint.hosts) == (kind, hosts)
    for name, value in extra.items():
        assert getattr(endpoint, name) == value


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("redis+cluster://n1:7000/1", "only database 0"),
        ("redis+sentinel://s1:26379", "MASTER_NAME"),
        ("redis+sentinel://s1:26379/m/x", "MASTER_NAME"),
        ("redis+cluster://n1:port", "not host:port"),
        ("redis+cluster://", "at least one host"),
        ("redis+shard://n1:7000", "unsupported"),
    ],
)
def test_a_malformed_cluster_or_sentinel_url_is_refused_with_a_reason(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_redis_url(url)


def test_every_form_the_broker_reads_is_accepted_by_the_settings() -> None:
    for url in ("redis+cluster://n1:7000", "rediss+sentinel://s1:26379/m/0", "unix:///run/redis.sock"):
        assert load_settings({"TASKWIRE_REDIS_URL": url}).redis_url == url
    with pytest.raises(SettingsError, match="TASKWIRE_REDIS_URL"):
        load_settings({"TASKWIRE_REDIS_URL": "memcached://n1"})
