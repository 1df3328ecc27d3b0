"""The Redis broker: fan-out between any number of instances, plus the state they share.

One ``redis.asyncio`` client carries commands (publish, values, hashes, the rate limiter);
the pub/sub connections belong to ``RedisSubscriber`` and its supervised receive loop.
The same code runs on one server, behind Sentinel or on a cluster (redis_endpoints.py):
on a cluster channels are sharded (SPUBLISH), and every command and script names exactly
one key, so none can span hash slots.

Every key and channel is namespaced under ``prefix`` (``taskwire:``) so a shared Redis
stays tidy. Any command that cannot reach Redis within ``command_timeout`` raises
``BrokerUnavailable`` instead of hanging the request that made it.

Once one command has found Redis unreachable, the others do not each wait to find out
again: until a background PING (or the pub/sub connection coming back) shows it answers,
every command raises ``BrokerUnavailable`` at once. A frozen Redis then costs one
``command_timeout``, not one per request.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import math
import uuid
from collections.abc import Awaitable
from typing import TypeVar, cast

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.broker.base import BrokerUnavailable, MessageHandler, ResyncHandler
from app.broker.redis_batch import CommandBatcher
from app.broker.redis_endpoints import close_client, parse_redis_url
from app.broker.redis_lanes import Lanes, ServerLanes, ShardLanes
from app.broker.redis_subscriber import RedisSubscriber, RedisTiming

log = logging.getLogger(__name__)

T = TypeVar("T")

# Sliding-window log: one sorted set of hit times per key. Atomic as one script, timed by
# the server's clock (TIME) so instances with skewed clocks agree, and expiring with the
# window so idle keys vanish. Memory per key is bounded by ``limit``.
# KEYS[1] = the key; ARGV = limit, window in microseconds, a unique member for this hit.
RATE_LIMIT_LUA = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] == nil then
  return {0, window}
end
return {0, tonumber(oldest[2]) + window - now}
"""

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, TimeoutError, OSError)


def _closed_transport(error: RuntimeError) -> bool:
    # A write to a connection that closed under redis-py (a killed node, a failover) raises
    # this RuntimeError under uvloop rather than an OSError; it is the same outage.
    return "handler is closed" in str(error)


class RedisBroker:
    def __init__(self, url: str, *, prefix: str = "taskwire:", **timing: float) -> None:
        """``timing``: any of ``RedisTiming``'s fields, whose defaults are production's."""
        self._prefix = prefix
        self._timing = RedisTiming(**timing)
        self.instance_id = uuid.uuid4().hex
        self._hit_numbers = itertools.count()
        endpoint = parse_redis_url(url)
        self._sharded = endpoint.sharded
        connection = dict(
            decode_responses=True,
            socket_keepalive=True,
            socket_connect_timeout=self._timing.connect_timeout,
            socket_timeout=self._timing.command_timeout,
        )
        # A couple of quick retries ride over a pooled socket that a Redis restart broke;
        # the overall command_timeout still bounds every call.
        commands = dict(
            connection,
            health_check_interval=self._timing.health_check_interval,
            client_name=f"taskwire-cmd-{self.instance_id}",
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), 2),
        )
        # The subscriber's connections have no retries, and replace undecodable bytes
        # rather than raise, so one stray message cannot make its loop rebuild forever.
        listening = dict(
            connection,
            encoding_errors="replace",
            retry=Retry(NoBackoff(), 0),
            client_name=f"taskwire-sub-{self.instance_id}",
        )
        heartbeat = f"{prefix}heartbeat:{self.instance_id}"
        lanes: Lanes
        self._commands: Redis | RedisCluster
        if endpoint.sharded:
            self._commands = cluster = endpoint.cluster_client(**commands)
            lanes = ShardLanes(endpoint, cluster, heartbeat, listening)
        else:
            self._commands = endpoint.server_client(**commands)
            lanes = ServerLanes(endpoint.server_client(**listening), heartbeat)
        self._rate_limit = self._commands.register_script(RATE_LIMIT_LUA)
        self._batch = CommandBatcher(self._commands)
        self._subscriber = RedisSubscriber(
            lanes, self._publish, self._timing, deliver=self._deliver, resync=self._resync
        )
        self._on_message: MessageHandler | None = None
        self._on_resync: ResyncHandler | None = None
        self._opened = False
        self._probe: asyncio.Task[None] | None = None  # while Redis is known to be down
        self._trips = 0
        self._probe_interval = min(0.5, self._timing.heartbeat_interval)

    @property
    def reconnects(self) -> int:
        """Pub/sub connections rebuilt after the first one came up (for metrics)."""
        return self._subscriber.reconnects

    @property
    def pubsub_connected(self) -> bool:
        """True while the pub/sub connection is up with every channel subscribed."""
        return self._subscriber.connected

    # -- lifecycle -------------------------------------------------------------------
    async def open(self) -> None:
        self._opened = True
        await self._subscriber.start(wait=self._timing.connect_timeout + self._timing.command_timeout)

    @property
    def outages(self) -> int:
        return self._trips + self._subscriber.losses

    @property
    def known_down(self) -> bool:
        """True while commands fail fast because Redis was found unreachable."""
        return self._probe is not None

    async def close(self) -> None:
        self._opened = False
        if (probe := self._probe) is not None:
            probe.cancel()
            await asyncio.gather(probe, return_exceptions=True)
        await self._subscriber.stop()
        await self._batch.close()
        try:
            async with asyncio.timeout(self._timing.connect_timeout):
                await close_client(self._commands)
        except Exception as exc:
            log.debug("closing the Redis command client: %r", exc)

    async def ping(self) -> None:
        await self._command(self._commands.ping())
        if self._opened and not self._subscriber.connected:
            # Commands work, but this instance would miss every event until it reconnects.
            raise BrokerUnavailable("Redis pub/sub connection is down; reconnecting")

    # -- PubSub ----------------------------------------------------------------------
    def set_handlers(self, on_message: MessageHandler, on_resync: ResyncHandler) -> None:
        self._on_message = on_message
        self._on_resync = on_resync

    async def publish(self, channel: str, message: str) -> None:
        await self._command(self._publish(self._prefix + channel, message))

    def _publish(self, channel: str, message: str) -> Awaitable[int]:
        # Sharded: the message goes to the one shard owning the channel's slot, instead
        # of being broadcast over the cluster bus to every node.
        return self._batch.execute("SPUBLISH" if self._sharded else "PUBLISH", channel, message)

    async def subscribe(self, channel: str) -> None:
        await self._subscriber.add(self._prefix + channel)

    async def unsubscribe(self, channel: str) -> None:
        await self._subscriber.remove(self._prefix + channel)

    def _deliver(self, channel: str, message: str) -> None:
        handler = self._on_message
        if handler is None:
            return
        try:
            handler(channel.removeprefix(self._prefix), message)
        except Exception:
            log.exception("message handler failed on channel %s", channel)

    def _resync(self) -> None:
        self._mark_up()  # the pub/sub connection is back: so is Redis
        handler = self._on_resync
        if handler is None:
            return
        try:
            handler()
        except Exception:
            log.exception("resync handler failed")

    # -- SharedValues ----------------------------------------------------------------
    async def set_value(self, key: str, value: str, ttl_seconds: float) -> None:
        await self._command(self._batch.execute("SET", self._prefix + key, value, "PX", _millis(ttl_seconds)))

    async def get_value(self, key: str) -> str | None:
        return await self._command(self._batch.execute("GET", self._prefix + key))

    async def get_values(self, keys: list[str]) -> list[str | None]:
        full = [self._prefix + key for key in keys]
        if not self._sharded:
            return cast("list[str | None]", await self._command(self._batch.execute("MGET", *full)))

        async def one_by_one() -> list[str | None]:
            # On a cluster the keys live in different slots: one GET each, in the same batch.
            return list(await asyncio.gather(*(self._batch.execute("GET", key) for key in full)))

        return await self._command(one_by_one())

    async def delete_value(self, key: str) -> None:
        await self._command(self._batch.execute("DEL", self._prefix + key))

    async def set_value_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        # SET NX PX: the check, the set and the expiry are one command.
        stored = await self._command(
            self._batch.execute("SET", self._prefix + key, value, "PX", _millis(ttl_seconds), "NX")
        )
        return bool(stored)

    # -- PresenceHashes --------------------------------------------------------------
    async def hash_set(self, key: str, field: str, value: str, ttl_seconds: float) -> None:
        full_key = self._prefix + key

        async def set_and_rearm() -> None:
            # MULTI/EXEC: nobody ever sees the new field without the new expiry.
            async with self._commands.pipeline(transaction=True) as pipe:
                pipe.hset(full_key, field, value)
                pipe.pexpire(full_key, _millis(ttl_seconds))
                await pipe.execute()

        await self._command(set_and_rearm())

    async def hash_delete(self, key: str, field: str) -> None:
        await self._command(self._commands.hdel(self._prefix + key, field))

    async def hash_get_all(self, key: str) -> dict[str, str]:
        return cast("dict[str, str]", await self._command(self._commands.hgetall(self._prefix + key)))

    # -- RateLimiter -----------------------------------------------------------------
    async def hit_rate_limit(self, key: str, limit: int, window_seconds: float) -> tuple[bool, float]:
        window_us = max(1, int(window_seconds * 1_000_000))
        # The hit's member in the sorted set: unique across instances (the instance id) and
        # within one (a counter), without a uuid4's system call per request.
        member = f"{self.instance_id}:{next(self._hit_numbers)}"
        allowed, retry_us = await self._command(self._hit(self._prefix + key, limit, window_us, member))
        if allowed:
            return True, 0.0
        return False, max(int(retry_us), 1) / 1_000_000

    async def _hit(self, key: str, limit: int, window_us: int, member: str) -> list[int]:
        args: list[int | str] = [limit, window_us, member]
        try:
            reply: list[int] = await self._batch.execute("EVALSHA", self._rate_limit.sha, 1, key, *args)
        except NoScriptError:  # a restarted or flushed Redis: the script object loads it again
            reply = await self._rate_limit(keys=[key], args=args)
        return reply

    async def _command(self, operation: Awaitable[T]) -> T:
        if self._probe is not None:
            if inspect.iscoroutine(operation):
                operation.close()  # never started: nothing was sent
            raise BrokerUnavailable("Redis is down; not waiting for it until it answers a ping again")
        try:
            async with asyncio.timeout(self._timing.command_timeout):
                return await operation
        except _UNREACHABLE as exc:
            self._mark_down(exc)
            raise BrokerUnavailable(f"Redis unreachable: {exc!r}") from exc
        except RuntimeError as exc:
            if not _closed_transport(exc):
                raise
            self._mark_down(exc)
            raise BrokerUnavailable(f"Redis unreachable: {exc!r}") from exc
        except RedisError as exc:
            # OOM, MISCONF, READONLY after a failover...: callers degrade the same way as
            # for an outage, but this one may be ours to fix, so it is logged loudly.
            log.error("Redis refused a command: %r", exc)
            raise BrokerUnavailable(f"Redis refused the command: {exc!r}") from exc

    # -- known down: fail fast until Redis answers again ------------------------------------
    def _mark_down(self, error: BaseException) -> None:
        if self._probe is None and self._opened:
            self._trips += 1
            log.warning("Redis unreachable (%r): commands fail fast until it answers again", error)
            self._probe = asyncio.create_task(self._probe_until_up(), name="taskwire-redis-probe")

    def _mark_up(self) -> None:
        if (probe := self._probe) is not None:
            self._probe = None
            probe.cancel()
            log.info("Redis answers again")

    async def _probe_until_up(self) -> None:
        while True:
            await asyncio.sleep(self._probe_interval)
            try:
                async with asyncio.timeout(self._timing.command_timeout):
                    await self._commands.ping()
            except asyncio.CancelledError:
                raise
            except Exception:
                continue
            self._probe = None
            log.info("Redis answers again")
            return


def _millis(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))
