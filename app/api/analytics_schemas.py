"""Request and response models of the board analytics endpoint (docs/analytics.md; see
app/api/schemas.py for the conventions)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from app.api.schemas import RequestModel, ResponseModel


class AnalyticsQuery(RequestModel):
    # Python names differ from the query's: "from" is a keyword.
    start: date | None = Field(
        default=None, alias="from", description="First day (UTC), e.g. 2026-01-05; default: 27 days before 'to'."
    )
    end: date | None = Field(default=None, alias="to", description="Last day (UTC), included; default: today.")


class FlowDay(ResponseModel):
    date: str
    counts: dict[str, int] = Field(description="Tasks in each column at the end of the day (UTC).")


class TimeSummary(ResponseModel):
    median: float | None = Field(description="Hours; null in a week with no completed task.")
    p85: float | None = Field(description="Hours, 85th percentile by nearest rank.")


class AnalyticsWeek(ResponseModel):
    week: str = Field(description="The Monday the ISO week starts on.")
    throughput: int = Field(description="Tasks completed in the week.")
    lead_time_hours: TimeSummary
    cycle_time_hours: TimeSummary


class AssigneeWip(ResponseModel):
    user_id: str
    name: str
    count: int


class Wip(ResponseModel):
    by_column: dict[str, int] = Field(description="Open tasks per column (all but the done column) at the end.")
    by_assignee: list[AssigneeWip] = Field(description="Open tasks per assignee, most first.")
    unassigned: int


class OverdueTask(ResponseModel):
    id: str
    title: str
    status: str
    due_at: str
    assignees: list[str]


class AnalyticsOut(ResponseModel):
    board_id: str
    seq: int = Field(description="The board's seq the figures include events up to.")
    from_: str = Field(alias="from")
    to: str
    as_of: str = Field(description="The end of the range: where WIP and overdue are taken.")
    columns: list[str]
    first_column: str
    done_column: str
    cumulative_flow: list[FlowDay]
    weeks: list[AnalyticsWeek]
    wip: Wip
    overdue: list[OverdueTask]
