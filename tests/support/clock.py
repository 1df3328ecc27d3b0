"""A controlled clock for writing a board's history at chosen moments: every time the app
reads from app/domain/clock.py (``clock.now()``: the times of events, tasks, comments) is
the one the test set. Tokens keep real time (JWT expiry is checked against the system
clock), so requests still authenticate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain import clock


class ControlledClock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, start: str) -> None:
        self.moment = clock.parse_time(start)
        monkeypatch.setattr(clock, "now", lambda: clock.format_time(self.moment))

    def set(self, moment: str) -> None:
        """``moment`` like ``2026-01-05T09:00``, taken as UTC."""
        self.moment = datetime.fromisoformat(moment).replace(tzinfo=UTC)
