"""The receiving half of the Redis broker: one pub/sub connection, one supervised loop.

redis-py's PubSub may reconnect underneath us and resubscribe without a word, and since
7.2 it may stop receiving after a server restart without raising (redis-py #3979). Either
way messages are lost and nobody is told. So this loop believes only what it sees: a
heartbeat published every ``heartbeat_interval`` to a channel of its own. Silence for
``silence_timeout``, any error, or a reconnect it did not make itself, and the connection
is thrown away and rebuilt from scratch: back off, connect, resubscribe every local
channel, then report the resync so listeners catch up from the log.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any, Callable

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

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
    """Owns the pub/sub connection; callers only add and remove channels (full names)."""

    def __init__(self, url: str, commands: Redis, heartbeat_channel: str, timing: RedisTiming, *,
                 client_name: str, deliver: Callable[[str, str], None], resync: Callable[[], None]) -> None:
        # A client of its own, without redis-py's retries: a reconnect we did not make
        # ourselves would hide lost messages from us. Undecodable bytes are replaced rather
        # than raised, so one stray message cannot make the loop rebuild forever.
        self._client = Redis.from_url(
            url, decode_responses=True, encoding_errors="replace", retry=Retry(NoBackoff(), 0),
            socket_keepalive=True, client_name=client_name,
            socket_connect_timeout=timing.connect_timeout, socket_timeout=timing.command_timeout)
        self._commands = commands
        self._heartbeat_channel = heartbeat_channel
        self._timing = timing
        self._deliver = deliver
        self._resync = resync
        self.channels: set[str] = set()
        self.reconnects = 0
        self.losses = 0  # connections that were up and then failed
        self._current: PubSub | None = None  # the connection being built or in use
        self._live: PubSub | None = None  # set once it may take SUBSCRIBE from callers
        self._waiters: dict[str, list[asyncio.Future[bool]]] = {}
        self._ready = asyncio.Event()
        self._connected_once = False
        self._missed_while_down = False
        self._replaced_underneath = False
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    async def start(self, wait: float) -> None:
        """Start the loops and give the first connection ``wait`` seconds to come up."""
        self._tasks = [asyncio.create_task(self._supervise(), name="taskwire-redis-receive"),
                       asyncio.create_task(self._publish_heartbeats(), name="taskwire-redis-heartbeat")]
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
                await self._client.aclose()
        except Exception as exc:
            log.debug("closing the Redis pub/sub client: %r", exc)

    async def add(self, channel: str) -> None:
        if channel in self.channels:
            return
        self.channels.add(channel)
        pubsub = self._live
        if pubsub is None:
            self._missed_while_down = True  # applied, and resynced, on the next connect
            return
        # Waiting for the server's confirmation means a publish made after we return
        # reaches us: the hub relies on that to subscribe first, then read the log.
        confirmed = self._waiter(channel)
        try:
            async with asyncio.timeout(self._timing.command_timeout):
                await pubsub.subscribe(channel)
                await confirmed
        except (RedisError, OSError, TimeoutError) as exc:
            log.info("subscribe to %s deferred to the next connection: %r", channel, exc)
        finally:
            self._forget(channel, confirmed)

    async def remove(self, channel: str) -> None:
        # Dropping it locally is what stops delivery; UNSUBSCRIBE only tidies the server.
        self.channels.discard(channel)
        pubsub = self._live
        if pubsub is None:
            return
        try:
            async with asyncio.timeout(self._timing.command_timeout):
                await pubsub.unsubscribe(channel)
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
                was_up = self.connected
                self.losses += was_up
                log.log(logging.WARNING if was_up else logging.INFO,
                        "Redis pub/sub %s (%r); rebuilding", "lost" if was_up else "connect failed", exc)
                if was_up and loop.time() - started > self._timing.silence_timeout:
                    delay = self._timing.backoff_initial  # it was healthy: no flapping to damp
            finally:
                await self._teardown()
            await asyncio.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, self._timing.backoff_max)

    async def _session(self) -> None:
        """Connect, subscribe everything, then read until the connection fails or goes quiet."""
        pubsub = self._current = self._client.pubsub()
        async with asyncio.timeout(self._timing.connect_timeout):
            last = await self._subscribe_all(pubsub)
        assert pubsub.connection is not None
        pubsub.connection.register_connect_callback(self._on_hidden_reconnect)
        ready: asyncio.Future[bool] | None = self._waiter(last)
        loop = asyncio.get_running_loop()
        last_seen = loop.time()
        while True:
            message = await pubsub.get_message(timeout=self._timing.heartbeat_interval)
            now = loop.time()
            if message is not None:
                last_seen = now
                self._dispatch(message)
            if ready is not None and ready.done():
                ready = None
                self._on_subscribed()
            if self._replaced_underneath:
                raise ConnectionError("redis-py reconnected the pub/sub connection by itself")
            if now - last_seen > self._timing.silence_timeout:
                raise SilentConnection(f"nothing received for {now - last_seen:.1f}s")

    async def _subscribe_all(self, pubsub: PubSub) -> str:
        """Subscribe to the heartbeat and every local channel; returns the last one sent,
        whose confirmation therefore means all of them are live."""
        sent: set[str] = set()
        last = self._heartbeat_channel
        # Channels added while a SUBSCRIBE was in flight are caught by the next round;
        # no await separates the final check from handing the connection to callers.
        while pending := sorted((self.channels | {self._heartbeat_channel}) - sent):
            await pubsub.subscribe(*pending)
            sent.update(pending)
            last = pending[-1]
        self._live = pubsub
        return last

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind, channel = message["type"], message["channel"]
        if kind == "message":
            if channel != self._heartbeat_channel and channel in self.channels:
                self._deliver(channel, message["data"])
        elif kind == "subscribe":
            for waiter in self._waiters.pop(channel, ()):
                if not waiter.done():
                    waiter.set_result(True)

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
        self._replaced_underneath = True

    async def _teardown(self) -> None:
        pubsub, self._current, self._live = self._current, None, None
        self._ready.clear()
        self._replaced_underneath = False
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(False)  # callers return; the channel waits for the rebuild
        self._waiters.clear()
        if pubsub is None:
            return
        if pubsub.connection is not None:
            pubsub.connection.deregister_connect_callback(self._on_hidden_reconnect)
        try:
            async with asyncio.timeout(self._timing.connect_timeout):
                await pubsub.aclose()
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
        """Through the command connection, so it proves the whole path from a publisher."""
        while True:
            await asyncio.sleep(self._timing.heartbeat_interval)
            try:
                async with asyncio.timeout(self._timing.command_timeout):
                    await self._commands.publish(self._heartbeat_channel, "1")
            except Exception as exc:
                log.debug("heartbeat not published: %r", exc)
