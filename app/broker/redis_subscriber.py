"""The receiving half of the Redis broker: one supervised session of pub/sub connections.

redis-py's PubSub may reconnect underneath us and resubscribe without a word, and since
7.2 it may stop receiving after a server restart without raising (redis-py #3979). Either
way messages are lost and nobody is told. So this loop believes only what it sees: a
heartbeat published every ``heartbeat_interval`` to a channel of its own. Silence for
``silence_timeout``, any error, or a reconnect it did not make itself, and the connection
is thrown away and rebuilt from scratch: back off, connect, resubscribe every local
channel, then report the resync so listeners catch up from the log.

A session is one connection to a server, or one per primary of a cluster ("lanes", see
redis_lanes.py); each lane has its own heartbeat, and any lane failing, going quiet or
losing a slot to another shard rebuilds the whole session from a fresh slot map.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from app.broker.redis_lanes import Lane, Lanes

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RedisTiming:
    """Production defaults; tests shrink them so fault scenarios run in seconds."""

    heartbeat_interval: float = 1.0
    silence_timeout: float = 3.0
    backoff_initial: float = 0.1
    backoff_max: float = 5.0
    connect_timeout: float = 2.0
    command_timeout: float = 3.0
    health_check_interval: float = 15.0


class SilentConnection(Exception):
    """Nothing, not even our own heartbeat, arrived in time: the connection is dead."""


class RedisSubscriber:
    """Owns the pub/sub session; callers only add and remove channels (full names)."""

    def __init__(
        self,
        lanes: Lanes,
        publish: Callable[[str, str], Awaitable[Any]],
        timing: RedisTiming,
        *,
        deliver: Callable[[str, str], None],
        resync: Callable[[], None],
    ) -> None:
        # ``lanes`` makes connections without redis-py's retries: a reconnect we did not
        # make ourselves would hide lost messages from us. ``publish`` sends heartbeats
        # through the command client, so they prove the whole path from a publisher.
        self._lanes = lanes
        self._publish = publish
        self._timing = timing
        self._deliver = deliver
        self._resync = resync
        self.channels: set[str] = set()
        self.reconnects = 0
        self.losses = 0  # sessions that were up and then failed
        self._current: list[Lane] = []  # the session being built or in use
        self._live: list[Lane] | None = None  # set once it may take SUBSCRIBE from callers
        self._initial: list[asyncio.Future[bool]] = []  # confirmations that make it ready
        self._waiters: dict[str, list[asyncio.Future[bool]]] = {}
        self._leaving: Counter[str] = Counter()  # unsubscribes sent, not yet confirmed
        self._ready = asyncio.Event()
        self._connected_once = False
        self._missed_while_down = False
        self._broken: str | None = None  # set by anyone who sees the session is unusable
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    async def start(self, wait: float) -> None:
        """Start the loops and give the first session ``wait`` seconds to come up."""
        self._tasks = [
            asyncio.create_task(self._supervise(), name="taskwire-redis-receive"),
            asyncio.create_task(self._publish_heartbeats(), name="taskwire-redis-heartbeat"),
        ]
        try:
            async with asyncio.timeout(wait):
                await self._ready.wait()
        except TimeoutError:
            log.warning("Redis pub/sub not reachable yet; the receive loop keeps trying")

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            async with asyncio.timeout(self._timing.connect_timeout):
                await self._lanes.close()
        except Exception as exc:
            log.debug("closing the Redis pub/sub client: %r", exc)

    async def add(self, channel: str) -> None:
        if channel in self.channels:
            return
        self.channels.add(channel)
        lanes = self._live
        lane = None if lanes is None else self._lanes.route(lanes, channel)
        if lane is None:
            self._missed_while_down = True  # applied, and resynced, on the next session
            if lanes is not None:
                self._broken = f"no shard of this session carries {channel}"
            return
        # Waiting for the server's confirmation means a publish made after we return
        # reaches us: the hub relies on that to subscribe first, then read the log.
        confirmed = self._waiter(channel)
        try:
            async with asyncio.timeout(self._timing.command_timeout):
                await self._lanes.subscribe(lane, [channel])
                await confirmed
        except (RedisError, OSError, TimeoutError) as exc:
            log.info("subscribe to %s deferred to the next connection: %r", channel, exc)
        finally:
            self._forget(channel, confirmed)

    async def remove(self, channel: str) -> None:
        # Dropping it locally is what stops delivery; UNSUBSCRIBE only tidies the server.
        self.channels.discard(channel)
        lanes = self._live
        lane = None if lanes is None else self._lanes.route(lanes, channel)
        if lane is None:
            return
        self._leaving[channel] += 1
        try:
            async with asyncio.timeout(self._timing.command_timeout):
                await self._lanes.unsubscribe(lane, channel)
        except (RedisError, OSError, TimeoutError) as exc:
            log.info("unsubscribe from %s not sent: %r", channel, exc)

    # -- the supervised receive loop ---------------------------------------------------
    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self._timing.backoff_initial
        while True:
            started = loop.time()
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if isinstance(exc, ExceptionGroup):
                    exc = exc.exceptions[0]  # the lane that failed first, for a readable line
                was_up = self.connected
                self.losses += was_up
                log.log(
                    logging.WARNING if was_up else logging.INFO,
                    "Redis pub/sub %s (%r); rebuilding",
                    "lost" if was_up else "connect failed",
                    exc,
                )
                if was_up and loop.time() - started > self._timing.silence_timeout:
                    delay = self._timing.backoff_initial  # it was healthy: no flapping to damp
            finally:
                await self._teardown()
            await asyncio.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, self._timing.backoff_max)

    async def _session(self) -> None:
        """Connect, subscribe everything, then read until a lane fails or goes quiet."""
        async with asyncio.timeout(self._timing.connect_timeout):
            self._current = await self._lanes.connect()
            last = await self._subscribe_all(self._current)
        for lane in self._current:
            assert lane.pubsub.connection is not None
            # redis-py leaves PubSub.connection unannotated and None in __init__, so mypy takes
            # it to be always None; subscribing has connected it.
            lane.pubsub.connection.register_connect_callback(self._on_hidden_reconnect)  # type: ignore[unreachable]
        self._initial = [self._waiter(channel) for channel in last]
        async with asyncio.TaskGroup() as lanes:
            for lane in self._current:
                lanes.create_task(self._read(lane))

    async def _read(self, lane: Lane) -> None:
        loop = asyncio.get_running_loop()
        lane.last_seen = loop.time()
        while True:
            message = await lane.pubsub.get_message(timeout=self._timing.heartbeat_interval)
            now = loop.time()
            if message is not None:
                lane.last_seen = now
                self._dispatch(message)
            if self._broken is not None:
                raise ConnectionError(self._broken)
            if now - lane.last_seen > self._timing.silence_timeout:
                raise SilentConnection(f"nothing received from {lane.name} for {now - lane.last_seen:.1f}s")

    async def _subscribe_all(self, lanes: list[Lane]) -> list[str]:
        """Subscribe each lane to its heartbeat and its share of the local channels; returns
        the last channel sent on each lane, whose confirmations mean all of them are live."""
        sent: set[str] = set()
        last = {lane.name: lane.heartbeat for lane in lanes}
        for lane in lanes:
            await self._lanes.subscribe(lane, [lane.heartbeat])
        # Channels added while a SUBSCRIBE was in flight are caught by the next round;
        # no await separates the final check from handing the session to callers.
        while pending := sorted(self.channels - sent):
            for lane, channels in self._by_lane(lanes, pending).items():
                await self._lanes.subscribe(lane, channels)
                last[lane.name] = channels[-1]
            sent.update(pending)
        self._live = lanes
        return list(last.values())

    def _by_lane(self, lanes: list[Lane], channels: list[str]) -> dict[Lane, list[str]]:
        grouped: dict[Lane, list[str]] = {}
        for channel in channels:
            lane = self._lanes.route(lanes, channel)
            if lane is None:
                raise ConnectionError(f"no shard of this session carries {channel}")
            grouped.setdefault(lane, []).append(channel)
        return grouped

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind, channel = message["type"], message["channel"]
        if kind in ("message", "smessage"):
            if channel in self.channels:
                self._deliver(channel, message["data"])
        elif kind in ("subscribe", "ssubscribe"):
            for waiter in self._waiters.pop(channel, ()):
                if not waiter.done():
                    waiter.set_result(True)
            if not self.connected and self._initial and all(waiter.done() for waiter in self._initial):
                self._on_subscribed()
        elif kind in ("unsubscribe", "sunsubscribe"):
            if self._leaving[channel] > 0:
                self._leaving[channel] -= 1
            elif kind == "sunsubscribe":
                # Unasked: the channel's slot moved to another shard (resharding, or this
                # primary was demoted). The new owner never saw our SSUBSCRIBE.
                self._broken = f"the slot of {channel} moved to another shard"

    def _on_subscribed(self) -> None:
        first = not self._connected_once
        self._connected_once = True
        self._ready.set()
        if not first:
            self.reconnects += 1
        if not first or self._missed_while_down:
            self._missed_while_down = False
            log.info("Redis pub/sub subscribed again (%d channels); resyncing", len(self.channels))
            self._resync()

    def _on_hidden_reconnect(self, connection: object) -> None:
        self._broken = "redis-py reconnected a pub/sub connection by itself"

    async def _teardown(self) -> None:
        lanes, self._current, self._live, self._initial = self._current, [], None, []
        self._ready.clear()
        self._broken = None
        self._leaving.clear()
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(False)  # callers return; the channel waits for the rebuild
        self._waiters.clear()
        for lane in lanes:
            # See _session: redis-py types PubSub.connection as always None.
            if lane.pubsub.connection is not None:
                connection = lane.pubsub.connection  # type: ignore[unreachable]
                connection.deregister_connect_callback(self._on_hidden_reconnect)
            try:
                async with asyncio.timeout(self._timing.connect_timeout):
                    await lane.close()
            except Exception as exc:  # a dead socket may complain on close; it is gone either way
                log.debug("closing the old pub/sub connection: %r", exc)

    def _waiter(self, channel: str) -> asyncio.Future[bool]:
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(channel, []).append(waiter)
        return waiter

    def _forget(self, channel: str, waiter: asyncio.Future[bool]) -> None:
        waiters = self._waiters.get(channel, [])
        if waiter in waiters:
            waiters.remove(waiter)

    # -- heartbeat -------------------------------------------------------------------------
    async def _publish_heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self._timing.heartbeat_interval)
            for lane in self._current:
                try:
                    async with asyncio.timeout(self._timing.command_timeout):
                        await self._publish(lane.heartbeat, "1")
                except Exception as exc:
                    log.debug("heartbeat to %s not published: %r", lane.name, exc)
