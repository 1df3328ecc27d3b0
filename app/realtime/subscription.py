"""One connection's subscription to one board: the seq discipline that makes the stream
exact.

Every event reaches the socket once, in seq order, without gaps:

- seq <= last delivered: a duplicate (a replay overlapping live, a catch-up racing the
  broker), dropped;
- seq == last + 1: delivered, then any held successors;
- a gap: held, and the feed is asked to catch up from the log after a short wait (the
  missing one is usually just late).

Until the subscription goes live (while the subscribe request replays the log) live events
are only held, so the switch from replay to live neither loses nor repeats one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Protocol

from app.observability import metrics
from app.realtime.protocol import Outbound, reset_message, subscribed_message

# Held messages past this are dropped and fetched from the log instead: memory stays
# bounded whatever the broker does.
PENDING_LIMIT = 1024


class Outbox(Protocol):
    """What a subscription needs of its connection (``app.realtime.connection``)."""

    def push(self, message: Outbound | str) -> None: ...


@dataclasses.dataclass(eq=False, slots=True)
class BoardSubscription[C: Outbox]:
    conn: C
    board_id: str
    user_id: str
    epoch: int  # the feed's resync count when this subscription started
    _report_gap: Callable[[], None]
    _end: Callable[[BoardSubscription[C], str], None]
    live: bool = dataclasses.field(init=False, default=False)
    ended: bool = dataclasses.field(init=False, default=False)
    # The last seq this connection got (or was told to skip to by a reset).
    last: int = dataclasses.field(init=False, default=0)
    verified_seq: int | None = dataclasses.field(init=False, default=None)  # membership was checked at this seq
    # A removal of this user seen before the membership check.
    removed_at: int = dataclasses.field(init=False, default=0)
    pending: dict[int, Outbound] | None = dataclasses.field(init=False, default=None)
    lossy: bool = dataclasses.field(init=False, default=False)  # held messages were dropped: only the log can fill in

    def offer(self, seq: int, message: Outbound, removed_user: str | None) -> int:
        """An event of the board, from the broker or from the log; ``message`` is sent as is.
        Returns how many events went out (this one and held successors): the feed counts
        them once per event rather than once per socket."""
        if self.ended:
            return 0
        if removed_user == self.user_id:
            if self.verified_seq is None:
                self.removed_at = max(self.removed_at, seq)
            elif seq > self.verified_seq:
                # Acts at once, even ahead of a gap: nothing after a removal is theirs.
                self._end(self, "removed")
                return 0
        if seq <= self.last and self.live:
            return 0
        if not self.live or seq > self.last + 1:
            self._hold(seq, message)
            return 0
        self._deliver(seq, message)
        # Checked here rather than in _drain: this is once per socket per event.
        return 1 + self._drain() if self.pending is not None or self.lossy else 1

    def deliver_replayed(self, seq: int, message: Outbound) -> None:
        """One event of the subscribe-time replay, which reads the log in seq order."""
        if seq == self.last + 1:
            self._deliver(seq, message)
            metrics.EVENTS_DELIVERED.inc()

    def go_live(self, request_id: str | int | None) -> None:
        """End of the replay: confirm, then flush the live events held meanwhile."""
        self.live = True
        self.conn.push(subscribed_message(self.board_id, self.last, request_id))
        metrics.EVENTS_DELIVERED.inc(self._drain())

    def reset(self, latest: int) -> None:
        """The gap is older than the log we replay: the client refetches over REST."""
        self.conn.push(reset_message(self.board_id, latest))
        self.last = max(self.last, latest)
        if self.live:
            metrics.EVENTS_DELIVERED.inc(self._drain())

    @property
    def needs_catch_up(self) -> bool:
        return self.live and (self.lossy or bool(self.pending))

    def _deliver(self, seq: int, message: Outbound) -> None:
        self.last = seq
        self.conn.push(message)

    def _hold(self, seq: int, message: Outbound) -> None:
        if self.pending is None:
            self.pending = {}
        if len(self.pending) < PENDING_LIMIT:
            self.pending[seq] = message
        else:
            self.lossy = True
        if self.live:
            self._report_gap()

    def _drain(self) -> int:
        """Send the held successors of ``last``; how many went."""
        pending = self.pending
        if not pending:
            if self.lossy:
                self._report_gap()
            return 0
        sent = 0
        while (message := pending.pop(self.last + 1, None)) is not None and not self.ended:
            self._deliver(self.last + 1, message)
            sent += 1
        for seq in [seq for seq in pending if seq <= self.last]:
            del pending[seq]
        if not pending:
            self.pending = None
        if pending or self.lossy:
            self._report_gap()
        return sent
