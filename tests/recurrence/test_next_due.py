"""When the next occurrence of a recurring task is due, for each kind of rule."""

from __future__ import annotations

import pytest

from app.domain.recurrence import Recurrence, RecurrenceKind, next_due


def rule(kind: str, interval: int = 1, weekdays: list[str] | None = None, day: int | None = None) -> Recurrence:
    return Recurrence(
        task_id="t",
        board_id="b",
        kind=RecurrenceKind(kind),
        interval=interval,
        weekdays=weekdays or [],
        day_of_month=day,
        series_id="t",
        previous_task_id=None,
        next_task_id=None,
        created_by="u",
        updated_at="2026-03-02T09:00:00.000000Z",
    )


# 2026-03-02 is a Monday.
@pytest.mark.parametrize(
    ("the_rule", "due_at", "done_at", "expected"),
    [
        (rule("daily"), "2026-03-02T17:00:00Z", "2026-03-02T16:00:00Z", "2026-03-03T17:00:00.000000Z"),
        (rule("daily", 3), "2026-03-02T17:00:00Z", "2026-03-02T16:00:00Z", "2026-03-05T17:00:00.000000Z"),
        # done late: the dates already past are skipped
        (rule("daily", 2), "2026-03-02T17:00:00Z", "2026-03-07T10:00:00Z", "2026-03-08T17:00:00.000000Z"),
        # no due date: counted from the completion
        (rule("daily", 2), None, "2026-03-02T10:30:00Z", "2026-03-04T10:30:00.000000Z"),
        (
            rule("weekly", 1, ["mon", "thu"]),
            "2026-03-02T09:00:00Z",
            "2026-03-02T08:00:00Z",
            "2026-03-05T09:00:00.000000Z",
        ),
        (
            rule("weekly", 1, ["mon", "thu"]),
            "2026-03-05T09:00:00Z",
            "2026-03-05T08:00:00Z",
            "2026-03-09T09:00:00.000000Z",
        ),
        (
            rule("weekly", 2, ["mon", "thu"]),
            "2026-03-05T09:00:00Z",
            "2026-03-05T08:00:00Z",
            "2026-03-16T09:00:00.000000Z",
        ),
        (rule("monthly", 1, day=15), "2026-03-15T12:00:00Z", "2026-03-15T11:00:00Z", "2026-04-15T12:00:00.000000Z"),
        (rule("monthly", 1, day=31), "2026-01-31T12:00:00Z", "2026-01-31T11:00:00Z", "2026-02-28T12:00:00.000000Z"),
        (rule("monthly", 1, day=31), "2026-02-28T12:00:00Z", "2026-02-28T11:00:00Z", "2026-03-31T12:00:00.000000Z"),
        (rule("monthly", 3, day=10), "2026-11-10T12:00:00Z", "2026-11-10T11:00:00Z", "2027-02-10T12:00:00.000000Z"),
        (rule("monthly", 1, day=20), "2026-03-05T12:00:00Z", "2026-03-05T11:00:00Z", "2026-03-20T12:00:00.000000Z"),
        (rule("after_done", 5), "2026-03-02T17:00:00Z", "2026-03-04T08:15:00Z", "2026-03-09T08:15:00.000000Z"),
    ],
)
def test_the_next_due_date(the_rule: Recurrence, due_at: str | None, done_at: str, expected: str) -> None:
    assert next_due(the_rule, due_at, done_at) == expected
