"""Board analytics (docs/analytics.md): the board's event log folded into per-task
histories (app/services/flow_metrics.py), then measured over a date range.

Never stale, and cheap to ask again: every change to a board bumps its ``seq`` in the same
store write, so results are cached under (board, seq, columns, range) and a change makes
the next request compute afresh. The folded history is kept per board and extended with
only the events after the seq it has seen, so a busy board is not re-read from seq 1 on
every change.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import field
from datetime import date
from typing import Any

from app.domain.errors import InvalidInputError
from app.domain.models import Role, User
from app.services.access import board_not_found, require_role
from app.services.flow_metrics import BoardHistory, measure
from app.services.wiring import service
from app.store.base import BoardLogStore

MAX_DAYS = 366
EVENTS_PER_READ = 500
HISTORIES_KEPT = 64
RESULTS_KEPT = 256


@service
class AnalyticsService:
    _store: BoardLogStore
    _histories: OrderedDict[str, BoardHistory] = field(init=False, default_factory=OrderedDict)
    _locks: dict[str, asyncio.Lock] = field(init=False, default_factory=dict)
    _results: OrderedDict[tuple[Any, ...], dict[str, Any]] = field(init=False, default_factory=OrderedDict)
    computations: int = field(init=False, default=0)  # results computed rather than served from the cache

    async def board(self, actor: User, board_id: str, start: date, end: date) -> dict[str, Any]:
        await require_role(self._store, board_id, actor.id, Role.VIEWER)
        if end < start or (end - start).days >= MAX_DAYS:
            raise InvalidInputError(
                "invalid_range",
                f"'from' must be on or before 'to', at most {MAX_DAYS} days apart.",
                details={"from": start.isoformat(), "to": end.isoformat()},
            )
        board = await self._store.get_board(board_id)
        if board is None:
            raise board_not_found()
        key = (board_id, board.seq, tuple(board.columns), start, end)
        result = self._results.get(key)
        if result is None:
            history = await self._history(board_id, board.seq)
            result = measure(history, board.columns, start, end)
            self.computations += 1
            _remember(self._results, key, result, RESULTS_KEPT)
        else:
            self._results.move_to_end(key)
        # Names are not part of the log (a member may rename): looked up on every answer.
        names = {member.user_id: member.name for member in await self._store.list_members(board_id)}
        wip = result["wip"]
        by_assignee = [{**row, "name": names.get(row["user_id"], "")} for row in wip["by_assignee"]]
        return {**result, "board_id": board_id, "wip": {**wip, "by_assignee": by_assignee}}

    async def _history(self, board_id: str, seq: int) -> BoardHistory:
        """The board's history folded up to at least ``seq``."""
        lock = self._locks.setdefault(board_id, asyncio.Lock())
        async with lock:
            history = self._histories.get(board_id) or BoardHistory()
            while history.seq < seq:
                events = await self._store.list_events(board_id, history.seq, EVENTS_PER_READ)
                if not events:
                    break
                for event in events:
                    history.apply(event)
            _remember(self._histories, board_id, history, HISTORIES_KEPT)
        if len(self._locks) > HISTORIES_KEPT * 4:
            self._locks = {board: held for board, held in self._locks.items() if held.locked()}
        return history


def _remember[K, V](kept: OrderedDict[K, V], key: K, value: V, limit: int) -> None:
    kept[key] = value
    kept.move_to_end(key)
    while len(kept) > limit:
        kept.popitem(last=False)
