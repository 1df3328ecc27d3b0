"""The pub/sub connections of one subscriber session ("lanes"), for each Redis topology.

A single server (or the primary Sentinel names) is one lane carrying SUBSCRIBE. A cluster
is one lane per primary carrying SSUBSCRIBE for the channels whose hash slot that primary
owns, each with a heartbeat channel of its own in one of its slots, so every shard proves
it is alive. Lanes are built from a snapshot of the slot map taken when the session
starts; when a slot moves or a primary fails, the subscriber throws the whole session away
and builds it again from a fresh map (then resyncs), so nothing here follows moves itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import PubSub
from redis.crc import key_slot

from app.broker.redis_endpoints import RedisEndpoint, close_client


@dataclass(eq=False)
class Lane:
    """One pub/sub connection: a whole server, or one cluster primary."""

    pubsub: PubSub
    heartbeat: str
    name: str
    last_seen: float = 0.0
    client: Redis | None = field(default=None, repr=False)  # owned by the lane (cluster nodes)

    async def close(self) -> None:
        # redis-py leaves PubSub.aclose unannotated.
        await self.pubsub.aclose()  # type: ignore[no-untyped-call]
        if self.client is not None:
            await self.client.aclose()


class Lanes(Protocol):
    async def connect(self) -> list[Lane]:
        """Fresh connections for a new session (not yet subscribed to anything)."""

    def route(self, lanes: list[Lane], channel: str) -> Lane | None:
        """The lane that carries ``channel``; None if no lane of this session does."""

    async def subscribe(self, lane: Lane, channels: list[str]) -> None: ...

    async def unsubscribe(self, lane: Lane, channel: str) -> None: ...

    async def close(self) -> None: ...


class ServerLanes:
    """One server: one connection carrying every channel."""

    def __init__(self, client: Redis, heartbeat: str) -> None:
        self._client = client
        self._heartbeat = heartbeat

    async def connect(self) -> list[Lane]:
        return [Lane(self._client.pubsub(), self._heartbeat, "server")]

    def route(self, lanes: list[Lane], channel: str) -> Lane | None:
        return lanes[0] if lanes else None

    async def subscribe(self, lane: Lane, channels: list[str]) -> None:
        await lane.pubsub.subscribe(*channels)

    async def unsubscribe(self, lane: Lane, channel: str) -> None:
        await lane.pubsub.unsubscribe(channel)

    async def close(self) -> None:
        await close_client(self._client)


class ShardLanes:
    """A cluster: one connection per primary, sharded pub/sub routed by hash slot."""

    def __init__(self, endpoint: RedisEndpoint, cluster: RedisCluster, heartbeat: str, options: dict[str, Any]) -> None:
        self._endpoint = endpoint
        self._cluster = cluster  # the broker's command client: used for its slot map only
        self._heartbeat = heartbeat
        self._options = options
        self._owner: dict[int, str] = {}  # slot -> primary name, as of the last connect

    async def connect(self) -> list[Lane]:
        await self._cluster.initialize()  # once per client: its command table
        await self._cluster.nodes_manager.initialize()  # every session: the current slot map
        self._owner = {slot: nodes[0].name for slot, nodes in self._cluster.nodes_manager.slots_cache.items()}
        lanes = []
        for node in self._cluster.get_primaries():
            client = self._endpoint.node_client(node.host, int(node.port), **self._options)
            lanes.append(Lane(client.pubsub(), self._heartbeat_on(node.name), node.name, client=client))
        return lanes

    def route(self, lanes: list[Lane], channel: str) -> Lane | None:
        owner = self._owner.get(key_slot(channel.encode()))
        return next((lane for lane in lanes if lane.name == owner), None)

    async def subscribe(self, lane: Lane, channels: list[str]) -> None:
        # One SSUBSCRIBE may only name channels of one slot (else CROSSSLOT).
        for same_slot in _by_slot(channels):
            await lane.pubsub.ssubscribe(*same_slot)

    async def unsubscribe(self, lane: Lane, channel: str) -> None:
        await lane.pubsub.sunsubscribe(channel)

    async def close(self) -> None:
        return None  # the cluster client is the broker's; lanes close their own clients

    def _heartbeat_on(self, primary: str) -> str:
        """A heartbeat channel whose hash tag puts it in one of ``primary``'s slots."""
        for tag in range(100_000):  # CRC16 of decimal tags reaches every slot long before
            channel = f"{self._heartbeat}:{{{tag}}}"
            if self._owner.get(key_slot(channel.encode())) == primary:
                return channel
        raise ConnectionError(f"cluster primary {primary} owns no slot")


def _by_slot(channels: Iterable[str]) -> list[list[str]]:
    groups: defaultdict[int, list[str]] = defaultdict(list)
    for channel in channels:
        groups[key_slot(channel.encode())].append(channel)
    return list(groups.values())
