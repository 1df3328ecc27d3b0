"""Who is viewing a board, across instances; ephemeral by design (never logged).

Each instance writes one field per local viewing connection into the broker hash
``presence:<board>``; the value carries its own expiry time, refreshed periodically, so
readers drop the entries of an instance that died without saying goodbye. After a local
join or leave (coalesced per board), the instance reads the whole hash and publishes the
list on the board channel as a ``presence`` message, which every hub passes through to
its local subscribers without seq logic.

Publishing races between instances can leave clients with a list one change behind;
the periodic refresh republishes whenever an instance sees a list differ from the last
one published, so the view converges within ``REFRESH_SECONDS``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from app.broker.base import BrokerUnavailable, PresenceHashes, PubSub
from app.jsonutil import dumps, loads
from app.realtime.channels import board_channel
from app.realtime.protocol import presence_message

log = logging.getLogger(__name__)

PRESENCE_KEY_PREFIX = "presence:"
TTL_SECONDS = 45.0
REFRESH_SECONDS = 15.0
FLUSH_DELAY_SECONDS = 0.1  # joins and leaves within this window cost one publish
LIST_LIMIT = 100  # the message names this many users at most; "count" tells the total

Spawn = Callable[[Awaitable[Any]], asyncio.Task[Any]]


@dataclasses.dataclass(slots=True)
class _BoardPresence:
    local: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)  # field -> {id, name}
    written: set[str] = dataclasses.field(default_factory=set)
    joined: bool = False  # a local join since the last publish: the joiner needs a list
    last_users: list[dict[str, str]] | None = None
    flushing: bool = False
    dirty: bool = False


class PresenceBroker(PubSub, PresenceHashes, Protocol): ...


class PresenceTracker:
    def __init__(self, broker: PresenceBroker, spawn: Spawn) -> None:
        self._broker = broker
        self._spawn = spawn
        self._boards: dict[str, _BoardPresence] = {}

    def join(self, board_id: str, field: str, user_id: str, name: str) -> None:
        state = self._boards.setdefault(board_id, _BoardPresence())
        state.local[field] = {"id": user_id, "name": name}
        state.joined = True
        self._schedule(board_id, state)

    def leave(self, board_id: str, field: str) -> None:
        state = self._boards.get(board_id)
        if state is not None and state.local.pop(field, None) is not None:
            self._schedule(board_id, state)

    def seen(self, board_id: str, users: list[dict[str, str]] | None) -> None:
        """A presence message arrived: remember it, so refreshes publish only changes."""
        if (state := self._boards.get(board_id)) is not None:
            state.last_users = users

    def _schedule(self, board_id: str, state: _BoardPresence) -> None:
        state.dirty = True
        if not state.flushing:
            state.flushing = True
            self._spawn(self._flush(board_id, state))

    async def _flush(self, board_id: str, state: _BoardPresence) -> None:
        try:
            await asyncio.sleep(FLUSH_DELAY_SECONDS)
            while state.dirty:
                state.dirty = False
                await self._write(board_id, state)
                await self._publish_if_needed(board_id, state, force=state.joined)
        except BrokerUnavailable as error:
            log.warning("presence of board %s not updated: %s", board_id, error)
        finally:
            state.flushing = False
            if not state.local and not state.written and self._boards.get(board_id) is state:
                del self._boards[board_id]

    async def _write(self, board_id: str, state: _BoardPresence, everyone: bool = False) -> None:
        key = PRESENCE_KEY_PREFIX + board_id
        expires = time.time() + TTL_SECONDS
        for field, user in list(state.local.items()):
            if everyone or field not in state.written:
                await self._broker.hash_set(key, field, dumps({**user, "exp": expires}), TTL_SECONDS)
                state.written.add(field)
        for field in [field for field in state.written if field not in state.local]:
            await self._broker.hash_delete(key, field)
            state.written.discard(field)

    async def _publish_if_needed(self, board_id: str, state: _BoardPresence, force: bool) -> None:
        users, count = await self.snapshot(board_id)
        if force or users != state.last_users:
            state.joined = False
            state.last_users = users
            await self._broker.publish(board_channel(board_id), presence_message(board_id, users, count))

    async def snapshot(self, board_id: str) -> tuple[list[dict[str, str]], int]:
        """The live viewers (each user once), dropping and deleting expired entries."""
        key = PRESENCE_KEY_PREFIX + board_id
        now = time.time()
        users: dict[str, dict[str, str]] = {}
        for field, raw in (await self._broker.hash_get_all(key)).items():
            entry = _parse_entry(raw)
            if entry is None or entry[2] < now:
                await self._broker.hash_delete(key, field)
                continue
            users[entry[0]] = {"id": entry[0], "name": entry[1]}
        ordered = sorted(users.values(), key=lambda user: (user["name"], user["id"]))
        return ordered[:LIST_LIMIT], len(ordered)

    async def refresh(self) -> None:
        """Re-arm every local entry and republish a board whose list changed (a viewer's
        instance died, or a publish race left clients behind)."""
        for board_id, state in list(self._boards.items()):
            try:
                await self._write(board_id, state, everyone=True)
                if state.local:
                    await self._publish_if_needed(board_id, state, force=False)
            except BrokerUnavailable as error:
                log.warning("presence of board %s not refreshed: %s", board_id, error)

    async def forget_all(self) -> None:
        """On shutdown: this instance's viewers leave at once rather than by expiry."""
        for board_id, state in list(self._boards.items()):
            state.local.clear()
            try:
                await self._write(board_id, state)
                await self._publish_if_needed(board_id, state, force=False)
            except BrokerUnavailable as error:
                log.warning("presence of board %s not cleared: %s", board_id, error)
        self._boards.clear()


def _parse_entry(raw: str) -> tuple[str, str, float] | None:
    try:
        value = loads(raw)
        user_id, name, expires = value["id"], value["name"], float(value["exp"])
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(user_id, str) or not isinstance(name, str):
        return None
    return user_id, name, expires
