"""The personal notification channel on one instance: which local sockets listen to which
user's notifications, one broker subscription (``user:<id>``) per user with local
listeners, and each notification forwarded as published, only to its own user's sockets.

Notifications carry no per-user seq to fill gaps with. What a socket can miss is covered
instead by its client refetching the list over REST: after a reconnect (it was not
listening), and when told ``notifications.refetch`` because the broker reconnected and
may have lost messages meanwhile (docs/realtime.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from app.broker.base import BrokerUnavailable, PubSub
from app.domain.models import NotificationScope
from app.domain.request_context import current_token_limits
from app.jsonutil import loads
from app.realtime.channels import user_channel
from app.realtime.connection import Connection
from app.realtime.protocol import (
    NOTIFICATIONS_REFETCH_MESSAGE,
    notifications_subscribed_message,
    notifications_unsubscribed_message,
)
from app.store.base import NotificationStore

Spawn = Callable[[Awaitable[Any]], asyncio.Task[Any]]


@dataclasses.dataclass(eq=False, slots=True)
class NotificationListener:
    conn: Connection
    board_ids: frozenset[str] | None  # an API token's boards; None: every board
    # Messages that arrive before ``notifications.subscribed`` is sent wait here, so the
    # answer always comes first; None once it has been sent.
    held: list[str] | None = dataclasses.field(default_factory=list)

    def deliver(self, text: str) -> None:
        if self.held is not None:
            self.held.append(text)
        else:
            self.conn.push(text)


def _board_of(text: str) -> str | None:
    message = loads(text)
    notification = message.get("notification") if isinstance(message, dict) else None
    return notification.get("board_id") if isinstance(notification, dict) else None


class NotificationRelay:
    def __init__(self, store: NotificationStore, broker: PubSub, spawn: Spawn) -> None:
        self._store = store
        self._broker = broker
        self._spawn = spawn
        self._listeners: dict[str, dict[Connection, NotificationListener]] = {}  # by user id
        self._subscribed: set[str] = set()  # users whose channel the broker has for us
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def subscribe(self, conn: Connection, request_id: str | int | None) -> None:
        """Listen, then count: a notification made in between is both counted and sent,
        never neither. Subscribing again answers again."""
        assert conn.user is not None
        limits = current_token_limits()  # the socket's context: bound at its auth
        listener = NotificationListener(conn, None if limits is None else limits.board_ids)
        self._listeners.setdefault(conn.user.id, {})[conn] = listener
        try:
            await self._sync_broker(conn.user.id)
            unread = await self._store.count_unread_notifications(NotificationScope(conn.user.id, listener.board_ids))
        except BaseException:
            self._remove(conn, listener)
            raise
        if self._listeners.get(conn.user.id, {}).get(conn) is not listener:
            return  # unsubscribed or disconnected meanwhile
        conn.push(notifications_subscribed_message(unread, request_id))
        held, listener.held = listener.held or [], None
        for text in held:
            conn.push(text)

    def unsubscribe(self, conn: Connection, request_id: str | int | None) -> None:
        self.drop(conn)
        conn.push(notifications_unsubscribed_message(request_id))

    def drop(self, conn: Connection) -> None:
        """Synchronous, like Hub.disconnect, which calls it."""
        if conn.user is not None and (listener := self._listeners.get(conn.user.id, {}).get(conn)) is not None:
            self._remove(conn, listener)

    def _remove(self, conn: Connection, listener: NotificationListener) -> None:
        assert conn.user is not None
        user_id = conn.user.id
        listeners = self._listeners.get(user_id, {})
        if listeners.get(conn) is listener:
            del listeners[conn]
        if not listeners:
            self._listeners.pop(user_id, None)
            self._spawn(self._sync_broker(user_id))

    def route(self, user_id: str, text: str) -> None:
        """A message published on ``user:<user_id>``: to that user's listening sockets."""
        listeners = self._listeners.get(user_id)
        if not listeners:
            return
        board_id: str | None = None
        for listener in list(listeners.values()):
            if listener.board_ids is not None:
                board_id = board_id or _board_of(text)  # parsed only for board-limited tokens
                if board_id not in listener.board_ids:
                    continue
            listener.deliver(text)

    def refetch_all(self) -> None:
        """The broker reconnected: what it carried meanwhile is only in the store."""
        for listeners in list(self._listeners.values()):
            for listener in list(listeners.values()):
                listener.deliver(NOTIFICATIONS_REFETCH_MESSAGE)

    async def _sync_broker(self, user_id: str) -> None:
        """Subscribe on the first listener, unsubscribe after the last; serialised per user
        so that a leave and a join racing each other end in the right state."""
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        async with lock:
            wanted = user_id in self._listeners
            if wanted and user_id not in self._subscribed:
                await self._broker.subscribe(user_channel(user_id))
                self._subscribed.add(user_id)
            elif not wanted and user_id in self._subscribed:
                self._subscribed.discard(user_id)
                with contextlib.suppress(BrokerUnavailable):
                    await self._broker.unsubscribe(user_channel(user_id))
