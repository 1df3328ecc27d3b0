"""A board's history written through the REST API at moments a controlled clock sets: the
sample the analytics tests measure (tests/api/test_analytics.py states its figures) and the
browser test renders."""

from __future__ import annotations

from typing import Any

from tests.support.apiclient import Account, Api
from tests.support.clock import ControlledClock

# Tasks are named by letter in the tests; people read titles.
TITLES = {
    "A": "Draft the pricing page",
    "B": "Choose a payment provider",
    "C": "Translate the onboarding emails",
    "D": "Fix the login redirect loop",
    "E": "Review the privacy policy",
    "F": "Duplicate of the pricing task",
    "G": "Plan the February release",
    "H": "Set up error monitoring",
    "I": "Write the changelog",
    "J": "Load-test the sign-up flow",
}


class History:
    """Writes through the API at the clock's moments."""

    def __init__(self, api: Api, clock: ControlledClock, account: Account, board: str) -> None:
        self.api, self.clock, self.account, self.board = api, clock, account, board
        self.tasks: dict[str, dict[str, Any]] = {}

    async def create(self, at: str, key: str, **fields: Any) -> None:
        self.clock.set(at)
        self.tasks[key] = await self.api.task(self.account, self.board, TITLES[key], **fields)

    async def move(self, at: str, key: str, status: str) -> None:
        self.clock.set(at)
        status_code, body = await self.api.call(
            "POST", f"/api/v1/tasks/{self.tasks[key]['id']}/move", self.account, json={"status": status}
        )
        assert status_code == 200, body
        self.tasks[key] = body

    async def delete(self, at: str, key: str) -> None:
        self.clock.set(at)
        status_code, body = await self.api.call("DELETE", f"/api/v1/tasks/{self.tasks[key]['id']}", self.account)
        assert status_code == 204, body


async def write_flow_history(api: Api, clock: ControlledClock, alice: Account, bob: Account) -> History:
    """Alice's board "Website relaunch" (Bob an editor): tasks A..J from 2026-01-05 to 2026-01-20."""
    clock.set("2026-01-05T08:00")
    board = (await api.board(alice, "Website relaunch"))["id"]
    await api.add_member(alice, board, bob, "editor")
    h = History(api, clock, alice, board)
    await h.create("2026-01-05T09:00", "A")
    await h.create("2026-01-05T10:00", "B")
    await h.create("2026-01-05T11:00", "C", assignees=[bob.id])
    await h.create("2026-01-05T12:00", "D", status="in_progress", assignees=[alice.id], due_at="2026-01-10T12:00:00Z")
    await h.create("2026-01-05T13:00", "H")
    await h.move("2026-01-06T09:00", "A", "in_progress")
    await h.move("2026-01-06T13:00", "H", "in_progress")
    await h.move("2026-01-07T09:00", "A", "done")
    await h.move("2026-01-07T10:00", "B", "in_progress")
    await h.move("2026-01-08T10:00", "B", "done")
    await h.move("2026-01-09T12:00", "D", "done")
    await h.move("2026-01-09T13:00", "H", "done")
    await h.move("2026-01-12T09:00", "D", "in_progress")  # reopened: not done as of the 18th
    await h.create("2026-01-13T09:00", "E", assignees=[alice.id, bob.id], due_at="2026-01-14T00:00:00Z")
    await h.move("2026-01-13T10:00", "C", "in_progress")
    await h.move("2026-01-14T10:00", "C", "done")
    await h.create("2026-01-15T09:00", "F")
    await h.delete("2026-01-15T10:00", "F")
    await h.move("2026-01-16T09:00", "E", "done")  # straight from todo: a cycle time of 0
    await h.create("2026-01-16T10:00", "I")
    await h.create(
        "2026-01-17T10:00", "J", status="in_progress", assignees=[bob.id, alice.id], due_at="2026-01-25T00:00:00Z"
    )
    await h.create("2026-01-20T09:00", "G", due_at="2026-01-01T00:00:00Z")  # after the range
    return h
