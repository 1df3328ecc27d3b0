"""Recurring tasks on two real server processes sharing one SQLite file and one Redis, under
a controlled clock (tests/support/controlled_clock): the next occurrence is created exactly
once however many times, and on whichever instance, the task is done, reopened and done
again; its due date follows the rule from the instances' own "now"; and moving the clock on
(restarting both instances later) skips the dates a late completion left behind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.realtime.follower import Rest
from tests.support.servers import AppServer, app_servers
from tests.support.services import REPO_ROOT, RedisServer

pytestmark = pytest.mark.processes

CLOCK = str(REPO_ROOT / "tests" / "support" / "controlled_clock")
MONDAY = "2026-03-02T09:00:00Z"


@pytest.fixture(scope="module")
def instances(redis: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[AppServer]]:
    workdir = tmp_path_factory.mktemp("recurrence-instances")
    clock = {"PYTHONPATH": CLOCK, "TEST_CLOCK_START": MONDAY}
    with app_servers(2, f"sqlite:///{Path(workdir) / 'shared.db'}", redis.url, workdir, extra_env=clock) as servers:
        yield servers


async def board_tasks(rest: Rest, token: str, board: str) -> list[dict[str, Any]]:
    return (await rest.call("GET", f"/api/v1/boards/{board}/tasks?limit=200", token))["items"]


async def recurring(rest: Rest, token: str, board: str, title: str, due_at: str | None, rule: dict) -> dict:
    body: dict[str, Any] = {"title": title} | ({"due_at": due_at} if due_at else {})
    task = await rest.call("POST", f"/api/v1/boards/{board}/tasks", token, body)
    await rest.call("PUT", f"/api/v1/tasks/{task['id']}/recurrence", token, rule)
    return task


async def test_done_on_two_instances_creates_the_next_occurrence_once_due_by_the_rule(
    instances: list[AppServer],
) -> None:
    first, second = Rest(instances[0].url), Rest(instances[1].url)
    try:
        owner = await first.register("owner")
        board = await first.board(owner["token"], "Chores")
        # An API token: a session's access token would expire when the clock moves on.
        body = {"name": "chores", "scopes": ["read", "write"]}
        token = (await first.call("POST", "/api/v1/tokens", owner["token"], body))["token"]
        standup = await recurring(first, token, board, "Standup", "2026-03-02T09:30:00Z", {"kind": "daily"})
        rent = await recurring(
            first, token, board, "Pay rent", "2026-03-01T08:00:00Z", {"kind": "monthly", "day_of_month": 1}
        )
        backups = await recurring(first, token, board, "Check backups", None, {"kind": "after_done", "interval": 3})

        async def churn(rest: Rest, task_id: str) -> None:
            """Done, reopened, done again, over and over, racing the other instance."""
            for _ in range(5):
                await rest.call("POST", f"/api/v1/tasks/{task_id}/move", token, {"status": "done"})
                await rest.call("POST", f"/api/v1/tasks/{task_id}/move", token, {"status": "todo"})
            await rest.call("POST", f"/api/v1/tasks/{task_id}/move", token, {"status": "done"})

        await asyncio.gather(
            *(churn(rest, task["id"]) for rest in (first, second) for task in (standup, rent, backups))
        )

        tasks = await board_tasks(first, token, board)
        successors = {
            task["title"]: task for task in tasks if task["id"] not in {standup["id"], rent["id"], backups["id"]}
        }
        assert sorted(task["title"] for task in tasks) == sorted(["Standup", "Pay rent", "Check backups"] * 2)
        assert successors["Standup"]["due_at"] == "2026-03-03T09:30:00.000000Z"  # tomorrow, same time
        assert successors["Pay rent"]["due_at"] == "2026-04-01T08:00:00.000000Z"  # March's was already past
        assert successors["Check backups"]["due_at"].startswith("2026-03-05T09:0")  # done now (the clock) + 3 days
        assert all(task["status"] == "todo" for task in successors.values())

        log = (await second.call("GET", f"/api/v1/boards/{board}/events?limit=1000", token))["items"]
        recurred = [event for event in log if event["type"] == "task.recurred"]
        assert sorted(event["data"]["title"] for event in recurred) == ["Check backups", "Pay rent", "Standup"]
        assert all(event["at"].startswith("2026-03-02T09:") for event in recurred)

        # Ten days on: the standup successor, due on the 3rd, is done late on the 12th; the
        # next one is due on the 13th, not on a day already gone.
        for server in instances:
            server.stop()
            server.env["TEST_CLOCK_START"] = "2026-03-12T10:00:00Z"
            server.start()
        await second.call("POST", f"/api/v1/tasks/{successors['Standup']['id']}/move", token, {"status": "done"})
        newest = [task for task in await board_tasks(second, token, board) if task["title"] == "Standup"]
        assert sorted(task["due_at"] for task in newest) == [
            "2026-03-02T09:30:00.000000Z",
            "2026-03-03T09:30:00.000000Z",
            "2026-03-13T09:30:00.000000Z",
        ]
    finally:
        await first.close()
        await second.close()
