"""``GET /api/v1/boards/{board_id}/analytics``: flow, lead and cycle times, throughput, WIP
and overdue tasks over a date range, computed from the board's event log
(docs/analytics.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quart import Blueprint, Response

from app.api.analytics_schemas import AnalyticsOut, AnalyticsQuery
from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import READ, guards
from app.api.responses import json_response
from app.runtime import services

blueprint = Blueprint("analytics", __name__, url_prefix="/api/v1/boards")

DEFAULT_DAYS = 28


@blueprint.get("/<board_id>/analytics")
@guards(*READ)
@contract(query=AnalyticsQuery, answers={200: AnalyticsOut})
async def board_analytics(board_id: str, query_args: AnalyticsQuery) -> Response:
    """The board's analytics for the days from..to (UTC, both included; at most 366).
    Computed from the event log and cached by the board's seq, so never stale."""
    end = query_args.end or datetime.now(UTC).date()
    start = query_args.start or end - timedelta(days=DEFAULT_DAYS - 1)
    return json_response(await services().analytics.board(caller().user, board_id, start, end))
