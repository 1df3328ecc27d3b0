"""Board analytics from the event log, on both stores: a board's history written through
the REST API at moments a controlled clock sets (tests/support/history.py), then the exact
figures docs/analytics.md defines. Range 2026-01-05 (a Monday) .. 2026-01-18: two ISO weeks."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart

from tests.support.apiclient import Account, Api
from tests.support.clock import ControlledClock
from tests.support.history import TITLES, History, write_flow_history

RANGE = {"from": "2026-01-05", "to": "2026-01-18"}


async def analytics(api: Api, account: Account, board: str, **query: str) -> tuple[int, Any]:
    return await api.call("GET", f"/api/v1/boards/{board}/analytics", account, query_string=query)


@pytest.fixture
async def written(api: Api, monkeypatch: pytest.MonkeyPatch) -> tuple[Account, Account, str, History]:
    alice = await api.register("Alice")
    bob = await api.register("Bob")
    history = await write_flow_history(api, ControlledClock(monkeypatch, "2026-01-05T08:00:00Z"), alice, bob)
    return alice, bob, history.board, history


def flow(result: dict[str, Any]) -> list[tuple[str, int, int, int]]:
    return [
        (day["date"][5:], day["counts"]["todo"], day["counts"]["in_progress"], day["counts"]["done"])
        for day in result["cumulative_flow"]
    ]


async def test_the_figures_of_a_written_history(api: Api, written, app: Quart) -> None:
    alice, bob, board, h = written
    status, result = await analytics(api, bob, board, **RANGE)
    assert status == 200, result
    assert (result["from"], result["to"], result["as_of"]) == (
        "2026-01-05",
        "2026-01-18",
        "2026-01-19T00:00:00.000000Z",
    )
    assert (result["first_column"], result["done_column"]) == ("todo", "done")
    assert flow(result) == [
        ("01-05", 4, 1, 0),
        ("01-06", 2, 3, 0),
        ("01-07", 1, 3, 1),
        ("01-08", 1, 2, 2),
        ("01-09", 1, 0, 4),
        ("01-10", 1, 0, 4),
        ("01-11", 1, 0, 4),
        ("01-12", 1, 1, 3),
        ("01-13", 1, 2, 3),
        ("01-14", 1, 1, 4),
        ("01-15", 1, 1, 4),  # F came and went the same day
        ("01-16", 1, 1, 5),
        ("01-17", 1, 2, 5),
        ("01-18", 1, 2, 5),
    ]
    # Week 1: A (lead 48 h, cycle 24 h), B (72, 24), H (96, 72); D was done on the 9th but
    # reopened on the 12th, so as of the 18th it is not a completion.
    # Week 2: C (lead 215 h, cycle 24 h), E (72, 0: it skipped in progress).
    assert result["weeks"] == [
        {
            "week": "2026-01-05",
            "throughput": 3,
            "lead_time_hours": {"median": 72.0, "p85": 96.0},
            "cycle_time_hours": {"median": 24.0, "p85": 72.0},
        },
        {
            "week": "2026-01-12",
            "throughput": 2,
            "lead_time_hours": {"median": 143.5, "p85": 215.0},
            "cycle_time_hours": {"median": 12.0, "p85": 24.0},
        },
    ]
    assert result["wip"] == {
        "by_column": {"todo": 1, "in_progress": 2},
        "by_assignee": [
            {"user_id": alice.id, "name": "Alice", "count": 2},
            {"user_id": bob.id, "name": "Bob", "count": 1},
        ],
        "unassigned": 1,
    }
    # D is late; E was late but is done; G (due earlier still) did not exist yet.
    assert [(task["title"], task["status"], task["due_at"]) for task in result["overdue"]] == [
        (TITLES["D"], "in_progress", "2026-01-10T12:00:00.000000Z")
    ]

    # As of the end of week 1 D was done: the range decides.
    status, first_week = await analytics(api, alice, board, **{"from": "2026-01-05", "to": "2026-01-11"})
    assert first_week["weeks"] == [
        {
            "week": "2026-01-05",
            "throughput": 4,
            "lead_time_hours": {"median": 84.0, "p85": 96.0},
            "cycle_time_hours": {"median": 48.0, "p85": 96.0},
        }
    ]
    assert first_week["overdue"] == [] and first_week["wip"]["by_column"] == {"todo": 1, "in_progress": 0}


async def test_cached_by_seq_and_never_stale(api: Api, written, app: Quart) -> None:
    alice, _, board, h = written
    service = app.extensions["taskwire"].services.analytics
    _, before = await analytics(api, alice, board, **RANGE)
    computed = service.computations
    _, again = await analytics(api, alice, board, **RANGE)
    assert again == before and service.computations == computed  # same seq: from the cache

    await h.move("2026-01-18T20:00", "I", "done")  # lead and cycle time 58 h
    _, after = await analytics(api, alice, board, **RANGE)
    assert after["seq"] == before["seq"] + 1 and service.computations == computed + 1
    assert after["weeks"][1]["throughput"] == 3
    assert after["weeks"][1]["lead_time_hours"] == {"median": 72.0, "p85": 215.0}
    assert after["wip"]["by_column"] == {"todo": 0, "in_progress": 2} and after["wip"]["unassigned"] == 0
    assert flow(after)[-1] == ("01-18", 0, 2, 6)


async def test_refusals_change_nothing(api: Api, written) -> None:
    alice, _, board, _ = written
    stranger = await api.register("Stranger")
    status, body = await analytics(api, stranger, board, **RANGE)
    assert (status, body["error"]["code"]) == (404, "board_not_found")
    status, body = await analytics(api, alice, board, **{"from": "2026-01-18", "to": "2026-01-05"})
    assert (status, body["error"]["code"]) == (422, "invalid_range")
    status, body = await analytics(api, alice, board, **{"from": "2025-01-01", "to": "2026-01-18"})
    assert (status, body["error"]["code"]) == (422, "invalid_range")
    status, body = await analytics(api, alice, board, **{"from": "yesterday"})
    assert (status, body["error"]["code"]) == (422, "validation_error")
    status, body = await analytics(api, alice, board, since="2026-01-01")
    assert (status, body["error"]["code"]) == (422, "validation_error")
    status, body = await api.call("GET", f"/api/v1/boards/{board}/analytics")
    assert status == 401


async def test_without_a_range_the_last_four_weeks(api: Api) -> None:
    alice = await api.register("Alice")
    status, result = await analytics(api, alice, alice.personal_board)
    assert status == 200 and len(result["cumulative_flow"]) == 28
    assert result["weeks"][0]["throughput"] == 0 and result["wip"]["by_assignee"] == []
