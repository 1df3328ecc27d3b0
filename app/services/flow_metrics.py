"""Board analytics folded from the event log, as pure functions (docs/analytics.md defines
each measure; app/services/analytics.py reads the log, caches, checks access).

``BoardHistory`` is the log folded per task: every state a task was in and from when. It is
extended event by event in seq order, so a history read up to seq N and then extended with
the events after N equals one read in one go. ``measure`` turns a history and a date range
into the figures; it reads only states that began before the range's end, so the answer for
a range is fixed once the log has moved past it.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app.domain.clock import format_time, parse_time
from app.domain.models import Event

SECONDS_PER_HOUR = 3600.0


@dataclasses.dataclass(frozen=True, slots=True)
class TaskState:
    at: datetime
    status: str | None  # None: deleted
    title: str
    assignees: tuple[str, ...]
    due_at: str | None


@dataclasses.dataclass(slots=True)
class TaskTimeline:
    created_at: datetime
    states: list[TaskState] = dataclasses.field(default_factory=list)
    starts: list[datetime] = dataclasses.field(default_factory=list)  # states[i].at, for bisect

    def state_before(self, moment: datetime) -> TaskState | None:
        """The state the task was in just before ``moment``; None if it did not exist yet."""
        index = bisect.bisect_left(self.starts, moment)
        return self.states[index - 1] if index else None

    def append(self, state: TaskState) -> None:
        # Events are in seq order; a clock that stepped back must not reorder a task's past.
        at = max(state.at, self.starts[-1]) if self.starts else state.at
        self.states.append(dataclasses.replace(state, at=at))
        self.starts.append(at)


@dataclasses.dataclass(slots=True)
class BoardHistory:
    seq: int = 0
    tasks: dict[str, TaskTimeline] = dataclasses.field(default_factory=dict)

    def apply(self, event: Event) -> None:
        self.seq = event.seq
        data = event.data
        if not event.type.startswith("task.") or not isinstance(data.get("id"), str) or "status" not in data:
            return
        at = parse_time(event.at)
        timeline = self.tasks.get(data["id"])
        if timeline is None:
            if event.type == "task.deleted":
                return
            created = data.get("created_at")
            timeline = self.tasks[data["id"]] = TaskTimeline(parse_time(created) if created else at)
        # Every task event carries the whole task as it is after the change; a deletion
        # carries it as it was.
        timeline.append(
            TaskState(
                at=at,
                status=None if event.type == "task.deleted" else str(data["status"]),
                title=str(data.get("title", "")),
                assignees=tuple(data.get("assignees") or ()),
                due_at=data.get("due_at"),
            )
        )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / SECONDS_PER_HOUR, 3)


def summary(hours: list[float]) -> dict[str, float | None]:
    """Median, and the 85th percentile by nearest rank: the smallest value that at least
    85% of the values do not exceed."""
    if not hours:
        return {"median": None, "p85": None}
    ordered = sorted(hours)
    return {
        "median": round(statistics.median(ordered), 3),
        "p85": ordered[math.ceil(0.85 * len(ordered)) - 1],
    }


@dataclasses.dataclass(frozen=True, slots=True)
class Completion:
    task_id: str
    done_at: datetime
    lead: timedelta
    cycle: timedelta


def _completion(task_id: str, timeline: TaskTimeline, first: str, done: str, end: datetime) -> Completion | None:
    """The task's completion as of ``end``: its latest entry into the done column, if it is
    still there; started at its first state outside the first column."""
    states = timeline.states[: bisect.bisect_left(timeline.starts, end)]
    if not states or states[-1].status != done:
        return None
    entered = len(states) - 1
    while entered > 0 and states[entered - 1].status == done:
        entered -= 1
    done_at = states[entered].at
    started = next(state.at for state in states if state.status != first)
    return Completion(task_id, done_at, done_at - timeline.created_at, done_at - started)


def measure(history: BoardHistory, columns: list[str], start: date, end: date) -> dict[str, Any]:
    """The figures for the days ``start``..``end`` (UTC, both included) over the board's
    ``columns`` (the first is where work waits, the last where it is done)."""
    first, done = (columns[0], columns[-1]) if columns else ("", "")
    until = _midnight(end + timedelta(days=1))
    days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]

    ends = [_midnight(day + timedelta(days=1)) for day in days]
    flow = [
        {"date": day.isoformat(), "counts": _by_column(columns, counts)}
        for day, counts in zip(days, _counts_at(history, ends), strict=True)
    ]

    completions = [
        completion
        for task_id, timeline in history.tasks.items()
        if (completion := _completion(task_id, timeline, first, done, until)) is not None
        and completion.done_at >= _midnight(start)
    ]
    weeks = []
    week = start - timedelta(days=start.weekday())
    while week <= end:
        inside = [c for c in completions if week <= c.done_at.date() < week + timedelta(days=7)]
        weeks.append(
            {
                "week": week.isoformat(),
                "throughput": len(inside),
                "lead_time_hours": summary([_hours(c.lead) for c in inside]),
                "cycle_time_hours": summary([_hours(c.cycle) for c in inside]),
            }
        )
        week += timedelta(days=7)

    open_states = {
        task_id: state
        for task_id, timeline in history.tasks.items()
        if (state := timeline.state_before(until)) is not None and state.status not in (None, done)
    }
    by_assignee = Counter(user for state in open_states.values() for user in state.assignees)
    overdue = sorted(
        (
            {
                "id": task_id,
                "title": state.title,
                "status": state.status,
                "due_at": state.due_at,
                "assignees": list(state.assignees),
            }
            for task_id, state in open_states.items()
            if state.due_at is not None and parse_time(state.due_at) < until
        ),
        key=lambda item: (str(item["due_at"]), item["id"]),
    )
    return {
        "seq": history.seq,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "as_of": format_time(until),
        "columns": columns,
        "first_column": first,
        "done_column": done,
        "cumulative_flow": flow,
        "weeks": weeks,
        "wip": {
            "by_column": _by_column(
                columns[:-1], Counter(status for state in open_states.values() if (status := state.status) is not None)
            ),
            "by_assignee": [
                {"user_id": user, "count": count}
                for user, count in sorted(by_assignee.items(), key=lambda item: (-item[1], item[0]))
            ],
            "unassigned": sum(1 for state in open_states.values() if not state.assignees),
        },
        "overdue": overdue,
    }


def _counts_at(history: BoardHistory, moments: list[datetime]) -> Iterator[Counter[str]]:
    """Tasks per status just before each of ``moments`` (ascending), in one sweep over every
    state change: a year of days over a large board costs one sort, not a lookup per task
    per day. Deleted and not yet created tasks count nowhere."""
    changes = sorted(
        (state.at, task_id, index, state.status)
        for task_id, timeline in history.tasks.items()
        for index, state in enumerate(timeline.states)
    )
    current: dict[str, str | None] = {}
    counts: Counter[str] = Counter()
    position = 0
    for moment in moments:
        while position < len(changes) and changes[position][0] < moment:
            _, task_id, _, status = changes[position]
            if (previous := current.get(task_id)) is not None:
                counts[previous] -= 1
            current[task_id] = status
            if status is not None:
                counts[status] += 1
            position += 1
        yield counts.copy()


def _by_column(columns: list[str], counts: Counter[str]) -> dict[str, int]:
    """Tasks per column, in column order; a status no longer among the columns keeps its
    own entry."""
    ordered = {column: counts.get(column, 0) for column in columns}
    for status, count in counts.items():
        if status not in ordered and count:
            ordered[status] = count
    return ordered
