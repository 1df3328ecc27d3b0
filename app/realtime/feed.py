"""One board as one instance sees it: its local subscriptions and the catch-up from the log
that fills whatever the broker lost.

A catch-up reads the log once per board, from the oldest position among the board's
local subscriptions, serialises each event once, and offers it to every subscription; the
seq discipline in ``BoardSubscription`` drops what one already has. So a lost message
costs one store query per instance, however many sockets watch the board.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from app.domain.models import Event
from app.domain.views import event_message
from app.jsonutil import dumps
from app.observability import metrics
from app.realtime.connection import Connection
from app.realtime.protocol import Outbound
from app.realtime.subscription import BoardSubscription
from app.store.base import BoardLogStore

log = logging.getLogger(__name__)

# A missing seq is usually only late (another publisher's message overtaken): wait this
# long before asking the store.
GAP_HOLD_SECONDS = 0.075
RETRY_SECONDS = 1.0  # after a failed catch-up (store unavailable)
PAGE_SIZE = 500

Spawn = Callable[[Awaitable[Any]], asyncio.Task[Any]]
EndAll = Callable[["BoardFeed", str], None]


def removed_user_of(event_type: Any, data: Any) -> str | None:
    """The user a ``member.removed`` event removes; the hub ends their subscriptions."""
    if event_type == "member.removed" and isinstance(data, dict) and isinstance(data.get("user_id"), str):
        user_id: str = data["user_id"]
        return user_id
    return None


class BoardFeed:
    def __init__(self, board_id: str, store: BoardLogStore, replay_limit: int, spawn: Spawn, end_all: EndAll) -> None:
        self.board_id = board_id
        self.subscriptions: set[BoardSubscription[Connection]] = set()
        self.broker_subscribed = False
        self.broker_lock = asyncio.Lock()
        self.epoch = 0  # resyncs so far; a subscription started before one must catch up too
        self._store = store
        self._replay_limit = replay_limit
        self._spawn = spawn
        self._end_all = end_all
        self._timer: asyncio.TimerHandle | None = None
        self._catch_up: asyncio.Task[Any] | None = None
        self._again = False

    def offer(self, seq: int, message: Outbound, removed_user: str | None) -> None:
        sent = 0
        for subscription in list(self.subscriptions):
            sent += subscription.offer(seq, message, removed_user)
        metrics.EVENTS_DELIVERED.inc(sent)

    def report_gap(self) -> None:
        """A subscription is missing a seq: catch up unless it arrives within the hold."""
        if self._catch_up is not None:
            self._again = True
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(GAP_HOLD_SECONDS, self._hold_over)

    def catch_up_now(self) -> None:
        """After a broker resync or in the periodic sweep: ask the log, whatever we hold."""
        self.epoch += 1
        if self._catch_up is not None:
            self._again = True
            return
        self._cancel_timer()
        self._catch_up = self._spawn(self._run())

    def stop(self) -> None:
        self._cancel_timer()
        if self._catch_up is not None:
            self._catch_up.cancel()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _hold_over(self) -> None:
        self._timer = None
        if self._catch_up is None and any(sub.needs_catch_up for sub in self.subscriptions):
            self._catch_up = self._spawn(self._run())

    async def _run(self) -> None:
        delay = GAP_HOLD_SECONDS
        try:
            while True:
                self._again = False
                try:
                    await self._catch_up_once()
                except Exception as error:  # the store is down: try again, never give up
                    log.warning("catch-up of board %s failed: %s", self.board_id, error)
                    for subscription in self.subscriptions:
                        subscription.lossy = True  # so the retry below happens
                    delay, self._again = RETRY_SECONDS, False
                if not self._again:
                    break
        finally:
            self._catch_up = None
        if self.subscriptions and any(sub.needs_catch_up for sub in self.subscriptions):
            self._timer = asyncio.get_running_loop().call_later(delay, self._hold_over)

    async def _catch_up_once(self) -> None:
        board = await self._store.get_board(self.board_id)
        if board is None:
            self._end_all(self, "board_deleted")
            return
        latest = board.seq
        behind = []
        for subscription in list(self.subscriptions):
            if not subscription.live:
                continue
            subscription.lossy = False
            if subscription.last < latest:
                if latest - subscription.last > self._replay_limit:
                    subscription.reset(latest)
                else:
                    behind.append(subscription)
        if behind:
            await self._replay_to(behind, min(sub.last for sub in behind), latest)

    async def _replay_to(self, subscriptions: list[BoardSubscription[Connection]], after: int, latest: int) -> None:
        while after < latest:
            events = await self._store.list_events(self.board_id, after, min(PAGE_SIZE, latest - after))
            if not events:
                return
            for event in events:
                message, removed_user = serialise_event(event)
                sent = sum(subscription.offer(event.seq, message, removed_user) for subscription in subscriptions)
                metrics.EVENTS_DELIVERED.inc(sent)
            after = events[-1].seq


def serialise_event(event: Event) -> tuple[Outbound, str | None]:
    return Outbound(dumps(event_message(event)), "event", event.seq), removed_user_of(event.type, event.data)
