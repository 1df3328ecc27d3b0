"""The one clock. Times are ISO 8601 UTC strings with microseconds and a trailing Z.

The fixed width makes string order equal time order, in SQLite and MongoDB alike.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> str:
    return format_time(datetime.now(UTC))


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
