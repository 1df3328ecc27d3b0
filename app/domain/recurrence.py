"""Recurring tasks: a rule on a task, and when its next occurrence is due.

When a task with a rule reaches its board's last column ("done"), the next occurrence is
created once (``RecurrenceService``): a copy of the task in the first column, due at
``next_due``, with the same rule, linked both ways (``previous_task_id`` on the new rule,
``next_task_id`` on the old one, which is set at most once: that is what makes "once" hold
across instances).
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.clock import format_time, parse_time
from app.domain.shape import field, record

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class RecurrenceKind(StrEnum):
    DAILY = "daily"  # every `interval` days after the due date
    WEEKLY = "weekly"  # every `interval` weeks, on `weekdays`
    MONTHLY = "monthly"  # every `interval` months, on `day_of_month` (the month's last day if shorter)
    AFTER_DONE = "after_done"  # `interval` days after the task was done


@record
class Recurrence:
    task_id: str
    board_id: str
    kind: RecurrenceKind
    interval: int
    weekdays: list[str] = field(doc="For weekly rules: mon, tue, ... sun.")
    day_of_month: int | None = field(doc="For monthly rules: 1 to 31.")
    series_id: str = field(doc="The first task of the series; every occurrence shares it.")
    previous_task_id: str | None = field(doc="The occurrence this task was created after.")
    next_task_id: str | None = field(doc="The occurrence created when this task was done; set once.")
    created_by: str
    updated_at: str


def next_due(rule: Recurrence, due_at: str | None, completed_at: str) -> str:
    """When the next occurrence is due. Schedules (daily, weekly, monthly) count from the
    task's due date (from the completion if it had none) and keep its time of day; a
    task done late skips the dates already past, so the next one is never born overdue."""
    done = parse_time(completed_at)
    if rule.kind is RecurrenceKind.AFTER_DONE:
        return format_time(done + timedelta(days=rule.interval))
    moment = parse_time(due_at) if due_at else done
    moment = _step(rule, moment)
    while moment <= done:
        moment = _step(rule, moment)
    return format_time(moment)


def _step(rule: Recurrence, moment: datetime) -> datetime:
    match rule.kind:
        case RecurrenceKind.DAILY:
            return moment + timedelta(days=rule.interval)
        case RecurrenceKind.WEEKLY:
            days = sorted(WEEKDAYS.index(day) for day in rule.weekdays) or [moment.weekday()]
            later = [day for day in days if day > moment.weekday()]
            if later:  # another chosen day later this week
                return moment + timedelta(days=later[0] - moment.weekday())
            week_start = moment - timedelta(days=moment.weekday())
            return week_start + timedelta(weeks=rule.interval, days=days[0])
        case RecurrenceKind.MONTHLY:
            day = rule.day_of_month or moment.day
            if _clamped(moment.year, moment.month, day) > moment.day:  # still ahead this month
                return moment.replace(day=_clamped(moment.year, moment.month, day))
            months = moment.year * 12 + moment.month - 1 + rule.interval
            year, month = divmod(months, 12)
            return moment.replace(year=year, month=month + 1, day=_clamped(year, month + 1, day))
    raise ValueError(rule.kind)


def _clamped(year: int, month: int, day: int) -> int:
    return min(day, calendar.monthrange(year, month)[1])
