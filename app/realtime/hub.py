"""The per-instance WebSocket hub: one broker subscription per board with local listeners,
every broker message forwarded as is (the same string to every socket), membership acting
at once, presence, and catch-up from the log when the broker loses something.

Subscribe with ``since`` (the race that matters): the subscription is registered, and the
board's broker channel subscribed, *before* the board's latest seq is read; live events
are held meanwhile. The log is replayed up to that seq, ``subscribed`` is sent, and the
held events past it follow. All of the switch happens without an ``await``, so no event is
lost or repeated between replay and live.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, Protocol

from app.broker.base import BrokerUnavailable
from app.domain.ids import new_id
from app.domain.request_context import board_allowed
from app.jsonutil import loads
from app.realtime.channels import (
    BOARD_CHANNEL_PREFIX,
    DOCUMENT_CHANNEL_PREFIX,
    SESSION_ENDED_CHANNEL,
    USER_CHANNEL_PREFIX,
    board_channel,
)
from app.realtime.connection import CLOSE_RESTARTING, CLOSE_UNAUTHORIZED, Connection, WriteCoalescer
from app.realtime.documents import DocumentRelay
from app.realtime.feed import PAGE_SIZE, BoardFeed, removed_user_of, serialise_event
from app.realtime.notifications import NotificationRelay
from app.realtime.presence import REFRESH_SECONDS, PresenceBroker, PresenceTracker
from app.realtime.protocol import Outbound, Subscribe, error_message, reset_message, unsubscribed_message
from app.realtime.subscription import BoardSubscription
from app.settings import Settings
from app.store.base import BoardLogStore, NotificationStore

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_SECONDS = 5.0


class HubStore(BoardLogStore, NotificationStore, Protocol): ...


class Hub:
    def __init__(self, settings: Settings, store: HubStore, broker: PresenceBroker) -> None:
        self._settings = settings
        self._store = store
        self._broker = broker
        self._instance = new_id()  # names this instance's presence entries
        self._feeds: dict[str, BoardFeed] = {}
        self._connections: set[Connection] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._maintenance: asyncio.Task[None] | None = None
        self._all_gone: asyncio.Event | None = None  # while close_connections waits
        self.draining = False  # set once at shutdown: no connection may join after it
        delay = settings.ws_write_delay_seconds
        self._write_coalescer = WriteCoalescer(delay) if delay > 0 else None
        self.presence = PresenceTracker(broker, self._spawn)
        self.notifications = NotificationRelay(store, broker, self._spawn)
        self.documents = DocumentRelay(broker, self._instance, self._spawn)

    # -- lifecycle -------------------------------------------------------------------
    async def open(self) -> None:
        self._broker.set_handlers(self._on_message, self._on_resync)
        await self._broker.subscribe(SESSION_ENDED_CHANNEL)
        self._maintenance = asyncio.create_task(self._maintain(), name="hub-maintenance")

    async def close(self) -> None:
        await self.close_connections(CLOSE_RESTARTING)
        if self._maintenance is not None:
            self._maintenance.cancel()
            await asyncio.gather(self._maintenance, return_exceptions=True)
        for feed in self._feeds.values():
            feed.stop()
        if self._write_coalescer is not None:
            self._write_coalescer.stop()
        try:
            await asyncio.wait_for(self.presence.forget_all(), SHUTDOWN_WAIT_SECONDS)
        except (TimeoutError, BrokerUnavailable) as error:
            log.warning("presence not cleared on shutdown: %r", error)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def close_connections(self, code: int = CLOSE_RESTARTING, wait: float = SHUTDOWN_WAIT_SECONDS) -> None:
        """Close every socket ourselves, and every one that connects from now on: Hypercorn
        waits for open WebSockets before it shuts down (hypercorn issue #308), and clients
        should reconnect elsewhere."""
        self.draining = True
        if not self._connections:
            return
        self._all_gone = asyncio.Event()
        for conn in list(self._connections):
            conn.request_close(code)
        try:
            await asyncio.wait_for(self._all_gone.wait(), wait)
        except TimeoutError:
            log.warning("%d WebSockets still open after %.1f s", len(self._connections), wait)

    # -- connections -----------------------------------------------------------------
    def connect(self, conn: Connection) -> None:
        if self.draining:
            # Its handler checked before the drain began: it ends like the others did.
            conn.request_close(CLOSE_RESTARTING)
        self._connections.add(conn)
        if self._write_coalescer is not None:
            conn.coalesce_writes(self._write_coalescer)

    def disconnect(self, conn: Connection) -> None:
        """Synchronous, so that it runs to the end even while the handler is cancelled."""
        for subscription in list(conn.subscriptions.values()):
            self._end(subscription, "")
        self.notifications.drop(conn)
        self.documents.drop(conn)
        self._connections.discard(conn)
        if not self._connections and self._all_gone is not None:
            self._all_gone.set()

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    @property
    def connections(self) -> frozenset[Connection]:
        return frozenset(self._connections)

    # -- subscriptions ---------------------------------------------------------------
    async def subscribe(self, conn: Connection, request: Subscribe) -> None:
        assert conn.user is not None
        if (previous := conn.subscriptions.get(request.board)) is not None:
            self._end(previous, "")  # a repeated subscribe restarts from its own since
        if len(conn.subscriptions) >= self._settings.ws_max_boards:
            conn.push(
                error_message(
                    "too_many_subscriptions",
                    f"At most {self._settings.ws_max_boards} boards per connection.",
                    request.id,
                )
            )
            return
        feed = self._feed(request.board)
        subscription = BoardSubscription(conn, request.board, conn.user.id, feed.epoch, feed.report_gap, self._end)
        feed.subscriptions.add(subscription)
        conn.subscriptions[request.board] = subscription
        try:
            await self._sync_broker(feed)
            await self._start(feed, subscription, request)
        except BaseException:
            self._end(subscription, "")
            raise

    async def _start(self, feed: BoardFeed, subscription: BoardSubscription[Connection], request: Subscribe) -> None:
        conn, board_id = subscription.conn, subscription.board_id
        # Board first, member second: a removal committed after the member check has a
        # seq above ``latest`` and reaches this subscription live or from the log.
        board = await self._store.get_board(board_id)
        member = await self._store.get_member(board_id, subscription.user_id) if board is not None else None
        if subscription.ended:
            return
        # board_allowed: an API token limited to other boards (bound at the socket's auth).
        if board is None or member is None or not board_allowed(board_id) or subscription.removed_at > board.seq:
            self._end(subscription, "")
            conn.push(error_message("not_found", "No such board.", request.id))  # same for a non-member
            return
        subscription.verified_seq = board.seq
        await self._replay(subscription, request.since, board.seq)
        # mypy keeps the narrowing of the check above across the await, but the replay may
        # end the subscription.
        if subscription.ended:
            return  # type: ignore[unreachable]
        if feed.epoch != subscription.epoch:
            subscription.lossy = True  # a resync happened while we replayed: ask the log
        subscription.go_live(request.id)
        assert conn.user is not None
        self.presence.join(board_id, self._presence_field(conn), conn.user.id, conn.user.name)

    async def _replay(self, subscription: BoardSubscription[Connection], since: int | None, latest: int) -> None:
        conn, board_id = subscription.conn, subscription.board_id
        if since is None:
            subscription.last = latest
            return
        if since > latest or latest - since > self._settings.replay_limit:
            subscription.last = latest
            conn.push(reset_message(board_id, latest))
            return
        subscription.last = since
        while subscription.last < latest and not subscription.ended:
            events = await self._store.list_events(
                board_id, subscription.last, min(PAGE_SIZE, latest - subscription.last)
            )
            if not events:  # the log no longer has them: the client must refetch
                subscription.reset(latest)
                return
            for event in events:
                await conn.wait_for_room()
                if subscription.ended or conn.closing:
                    return
                subscription.deliver_replayed(event.seq, serialise_event(event)[0])

    def unsubscribe(self, conn: Connection, board_id: str, request_id: str | int | None) -> None:
        subscription = conn.subscriptions.get(board_id)
        if subscription is not None:
            self._end(subscription, "")
        conn.push(unsubscribed_message(board_id, "client", request_id))

    def _end(self, subscription: BoardSubscription[Connection], reason: str) -> None:
        """End one subscription; ``reason`` is told to the client unless it is empty."""
        if subscription.ended:
            return
        subscription.ended = True
        conn, board_id = subscription.conn, subscription.board_id
        if conn.subscriptions.get(board_id) is subscription:
            del conn.subscriptions[board_id]
        if reason:
            conn.push(unsubscribed_message(board_id, reason))
        self.documents.close_board(conn, board_id, reason or "unsubscribed")
        if subscription.live:
            self.presence.leave(board_id, self._presence_field(conn))
        feed = self._feeds.get(board_id)
        if feed is not None:
            feed.subscriptions.discard(subscription)
            if not feed.subscriptions:
                self._spawn(self._sync_broker(feed))

    def follows(self, conn: Connection, board_id: str) -> bool:
        """Whether ``conn`` has a live subscription to ``board_id``."""
        subscription = conn.subscriptions.get(board_id)
        return subscription is not None and subscription.live and not subscription.ended

    def _end_all(self, feed: BoardFeed, reason: str) -> None:
        for subscription in list(feed.subscriptions):
            self._end(subscription, reason)

    def _presence_field(self, conn: Connection) -> str:
        return f"{self._instance}:{conn.number}"

    # -- broker ----------------------------------------------------------------------
    def _feed(self, board_id: str) -> BoardFeed:
        feed = self._feeds.get(board_id)
        if feed is None:
            feed = BoardFeed(board_id, self._store, self._settings.replay_limit, self._spawn, self._end_all)
            self._feeds[board_id] = feed
        return feed

    async def _sync_broker(self, feed: BoardFeed) -> None:
        """Subscribe on the first listener, unsubscribe after the last; serialised per board
        so that a leave and a join racing each other end in the right state."""
        async with feed.broker_lock:
            channel = board_channel(feed.board_id)
            if feed.subscriptions and not feed.broker_subscribed:
                await self._broker.subscribe(channel)
                feed.broker_subscribed = True
            elif not feed.subscriptions and feed.broker_subscribed:
                feed.broker_subscribed = False
                try:
                    await self._broker.unsubscribe(channel)
                except BrokerUnavailable:
                    pass  # messages that still arrive find no feed and are dropped
            if not feed.subscriptions and self._feeds.get(feed.board_id) is feed:
                feed.stop()
                del self._feeds[feed.board_id]

    def _on_message(self, channel: str, text: str) -> None:
        try:
            if channel.startswith(BOARD_CHANNEL_PREFIX):
                self._route(channel[len(BOARD_CHANNEL_PREFIX) :], text)
            elif channel == SESSION_ENDED_CHANNEL:
                self._end_session(text)
            elif channel.startswith(USER_CHANNEL_PREFIX):
                self.notifications.route(channel[len(USER_CHANNEL_PREFIX) :], text)
            elif channel.startswith(DOCUMENT_CHANNEL_PREFIX):
                self.documents.route(channel[len(DOCUMENT_CHANNEL_PREFIX) :], text)
        except Exception:  # the broker's receive loop must survive any message
            log.exception("cannot route a message on %s", channel)

    def _route(self, board_id: str, text: str) -> None:
        feed = self._feeds.get(board_id)
        if feed is None:
            return
        message: Any = loads(text)
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        if kind == "event" and isinstance(seq := message.get("seq"), int):
            feed.offer(seq, Outbound(text, kind, seq), removed_user_of(message.get("event"), message.get("data")))
        elif kind == "presence":
            self.presence.seen(board_id, message.get("users"))
            outbound = Outbound(text, kind)
            for subscription in list(feed.subscriptions):
                if subscription.live:
                    subscription.conn.push(outbound)
        elif kind == "unsubscribed" and message.get("reason") == "board_deleted":
            self._end_all(feed, "board_deleted")

    def _end_session(self, session_id: str) -> None:
        # A scan: sessions end rarely, and an index would cost every connection memory.
        for conn in list(self._connections):
            if conn.session_id == session_id:
                conn.request_close(CLOSE_UNAUTHORIZED)

    def _on_resync(self) -> None:
        """The broker reconnected: whatever was published meanwhile is only in the log."""
        self.catch_up_all()
        self.notifications.refetch_all()
        self.documents.resync_all()

    def catch_up_all(self) -> None:
        """Catch every local subscription up from the log (in the background)."""
        for feed in list(self._feeds.values()):
            feed.catch_up_now()

    # -- background work -------------------------------------------------------------
    def _spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.warning("hub task failed: %r", error)

    async def _maintain(self) -> None:
        """Presence refresh, and a sweep that catches up a board whose last message was
        lost with nothing after it to reveal the gap."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.presence.refresh()
            except Exception as error:
                log.warning("presence refresh failed: %r", error)
            self.catch_up_all()
