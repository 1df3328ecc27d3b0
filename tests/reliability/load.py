"""A mixed REST load that survives faults and keeps score, and the two invariants every
fault test and the soak check afterwards: followers hold every seq exactly once, and the
tasks REST lists are exactly what the board's event log says."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.realtime.follower import Follower

PASSWORD = "correct horse battery"
COLUMNS = ["todo", "doing", "done"]


@dataclass
class Score:
    ok: Counter = field(default_factory=Counter)
    unavailable: int = 0  # 503 unavailable: nothing was written, so it is retried
    transport_errors: int = 0  # the instance vanished mid-request: the outcome is unknown
    refused: Counter = field(default_factory=Counter)  # any other 4xx, by status: a bug of ours or theirs
    last_failure: float = 0.0
    first_success_after_failure: float = 0.0
    served_at: list[float] = field(default_factory=list)

    def served_between(self, start: float, end: float) -> int:
        return sum(start <= moment <= end for moment in self.served_at)

    def line(self) -> str:
        return (
            f"writes ok {sum(self.ok.values())} {dict(self.ok)}, 503 unavailable {self.unavailable}, "
            f"transport errors {self.transport_errors}, refused {dict(self.refused)}"
        )


class Writer:
    """Creates, edits, moves and deletes tasks of one board, spreading calls over instances
    and moving on to the next instance when one fails."""

    def __init__(self, urls: list[str], token: str, board: str, score: Score, seed: int) -> None:
        self.clients = [
            httpx.AsyncClient(base_url=url, timeout=20, headers={"Authorization": f"Bearer {token}"}) for url in urls
        ]
        self.board, self.score = board, score
        self.tasks: dict[str, int] = {}  # id -> the version we last saw
        self.random = random.Random(seed)
        self.turn = 0

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response | None:
        """The answer of the first instance that gives one that is not 503 (None: gave up)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            client = self.clients[self.turn % len(self.clients)]
            self.turn += 1
            try:
                response = await client.request(method, path, json=body)
            except httpx.TransportError:
                self.score.transport_errors += 1
                self.score.last_failure = time.monotonic()
                await asyncio.sleep(0.05)
                continue
            if response.status_code == 503:
                assert response.json()["error"]["code"] == "unavailable", response.text
                self.score.unavailable += 1
                self.score.last_failure = time.monotonic()
                await asyncio.sleep(0.1)
                continue
            assert response.status_code < 500, (method, path, response.status_code, response.text)
            if self.score.last_failure and not self.score.first_success_after_failure:
                self.score.first_success_after_failure = time.monotonic()
            self.score.served_at.append(time.monotonic())
            return response
        return None

    async def step(self) -> None:
        choice = self.random.random()
        if not self.tasks or choice < 0.4:
            response = await self.call(
                "POST", f"/api/v1/boards/{self.board}/tasks", {"title": f"task {self.random.randrange(10**6)}"}
            )
            if response is not None and response.status_code == 201:
                self.tasks[response.json()["id"]] = 1
                self.score.ok["create"] += 1
            elif response is not None:
                self.score.refused[response.status_code] += 1
            return
        task_id = self.random.choice(sorted(self.tasks))
        if choice < 0.7:
            kind, method, path, body = (
                "update",
                "PATCH",
                f"/api/v1/tasks/{task_id}",
                {"version": self.tasks[task_id], "description": f"edit {self.random.randrange(10**6)}"},
            )
        elif choice < 0.9:
            kind, method, path, body = (
                "move",
                "POST",
                f"/api/v1/tasks/{task_id}/move",
                {"status": self.random.choice(COLUMNS)},
            )
        else:
            kind, method, path, body = "delete", "DELETE", f"/api/v1/tasks/{task_id}", None
        response = await self.call(method, path, body)
        if response is None:
            return
        if response.status_code in (200, 204):
            self.score.ok[kind] += 1
            if kind == "delete":
                self.tasks.pop(task_id, None)
            else:
                self.tasks[task_id] = response.json()["version"]
        elif response.status_code == 409:  # a retried write had landed after all
            self.tasks[task_id] = response.json()["current"]["version"]
        elif response.status_code == 404:
            self.tasks.pop(task_id, None)
        else:
            self.score.refused[response.status_code] += 1

    async def run_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.step()
            await asyncio.sleep(0.005)


async def account_with_board(url: str, name: str) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=url, timeout=20) as client:
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": f"{name}.{time.monotonic_ns()}@example.test", "password": PASSWORD, "name": name},
        )
        assert response.status_code == 201, response.text
        token = response.json()["access_token"]
        response = await client.post(
            "/api/v1/boards", json={"name": name, "columns": COLUMNS}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 201, response.text
        return token, response.json()["id"]


async def _all_pages(client: httpx.AsyncClient, path: str, key: str) -> list[dict]:
    items, cursor = [], None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        body = (await client.get(path, params=params)).raise_for_status().json()
        items += body[key]
        cursor = body.get("next_cursor")
        if not cursor:
            return items


async def _events(client: httpx.AsyncClient, board: str) -> list[dict]:
    events: list[dict] = []
    while True:
        after = events[-1]["seq"] if events else 0
        body = (
            (await client.get(f"/api/v1/boards/{board}/events", params={"after": after, "limit": 1000}))
            .raise_for_status()
            .json()
        )
        events += body["items"]
        if not body["items"]:
            return events


async def assert_rest_state_equals_the_event_log(url: str, token: str, board: str) -> int:
    """Replays the board's log into tasks and compares them with what REST lists; the latest seq."""
    async with httpx.AsyncClient(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        events = await _events(client, board)
        assert [event["seq"] for event in events] == list(range(1, len(events) + 1)), "the log has a gap"
        replayed: dict[str, dict] = {}
        for event in events:
            if event["type"] in ("task.created", "task.updated", "task.moved"):
                replayed[event["data"]["id"]] = event["data"]
            elif event["type"] == "task.deleted":
                replayed.pop(event["data"]["id"], None)
        listed = {task["id"]: task for task in await _all_pages(client, f"/api/v1/boards/{board}/tasks", "items")}
        assert listed == replayed
        seq = (await client.get(f"/api/v1/boards/{board}")).raise_for_status().json()["seq"]
        assert seq == len(events)
        return seq


async def expect_every_seq_exactly_once(followers: list[Follower], latest: int) -> dict[str, int]:
    try:
        for follower in followers:
            await follower.wait_for(latest, timeout=30)
        await asyncio.sleep(0.3)  # a duplicate would arrive by now
        lost = sum(len(set(range(1, latest + 1)) - set(follower.seqs)) for follower in followers)
        repeated = sum(len(follower.seqs) - len(set(follower.seqs)) for follower in followers)
        for follower in followers:
            assert follower.seqs == list(range(1, latest + 1)), follower.seqs
            assert follower.unexpected == []
        return {"lost": lost, "repeated": repeated, "reconnects": sum(f.connections - 1 for f in followers)}
    finally:
        for follower in followers:
            await follower.stop()
