"""The one clock. Times are ISO 8601 UTC strings with microseconds and a trailing Z.

The fixed width makes string order equal time order, in SQLite and MongoDB alike.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Where this process's clock stands from the real one: moved only by tests (travel), to
# see what a later time does, e.g. reminders coming due while no instance ran.
_offset = timedelta()


def now() -> str:
    return format_time(datetime.now(UTC) + _offset)


def travel(by: timedelta) -> None:
    """Move this process's clock by ``by`` (tests only; every time Taskwire reads comes from now())."""
    global _offset
    _offset += by


def format_time(moment: datetime) -> str:
    """Naive times are taken as UTC, never as the server's local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time; naive times are taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
