"""Soak: mixed REST + WebSocket load on two real instances sharing one SQLite file and a
redis-server this script starts itself, for a bounded time.

    .venv/bin/python bench/soak.py --duration 600

Reports throughput, errors, WebSocket deliveries and each instance's RSS (from /proc) once
warmed up and at the end, then checks what must hold after any amount of traffic: every
follower holds every seq of its board exactly once, and REST state equals the event log.
Target: no error, RSS growth under 10 %. Exit status 0 only when all of that holds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.realtime.follower import Follower
from tests.reliability.instances import rss_kib
from tests.reliability.load import (
    Score,
    Writer,
    account_with_board,
    assert_rest_state_equals_the_event_log,
    expect_every_seq_exactly_once,
)
from tests.support.servers import AppServer, app_servers
from tests.support.services import redis_server


class Readers:
    """Dashboard-like reads: board lists, task pages with filters and search, the feed."""

    def __init__(self, urls: list[str], accounts: list[tuple[str, str]], seed: int) -> None:
        self.clients = [httpx.AsyncClient(base_url=url, timeout=20) for url in urls]
        self.accounts = accounts
        self.random = random.Random(seed)
        self.ok = 0
        self.errors: Counter = Counter()

    async def run_until(self, stop: asyncio.Event) -> None:
        paths = [
            "/api/v1/boards",
            "/api/v1/boards/{board}/tasks?limit=50&include_total=true",
            "/api/v1/boards/{board}/tasks?q=task&sort=-updated_at",
            "/api/v1/boards/{board}/tasks?status=done",
            "/api/v1/boards/{board}/events?after=0&limit=100",
            "/api/v1/boards/{board}/members",
        ]
        while not stop.is_set():
            token, board = self.random.choice(self.accounts)
            client = self.random.choice(self.clients)
            try:
                response = await client.get(
                    self.random.choice(paths).format(board=board), headers={"Authorization": f"Bearer {token}"}
                )
                if response.status_code == 200:
                    self.ok += 1
                else:
                    self.errors[response.status_code] += 1
            except httpx.TransportError as error:
                self.errors[type(error).__name__] += 1
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


class Churn:
    """WebSocket clients that come and go: connect, subscribe with since, read a little,
    leave. Whatever a connection leaves behind in the server would show in its RSS."""

    def __init__(self, ws_urls: list[str], accounts: list[tuple[str, str]], seed: int) -> None:
        self.ws_urls, self.accounts = ws_urls, accounts
        self.random = random.Random(seed)
        self.sessions = 0
        self.errors: Counter = Counter()

    async def run_until(self, stop: asyncio.Event) -> None:
        from websockets.asyncio.client import connect

        while not stop.is_set():
            token, board = self.random.choice(self.accounts)
            try:
                async with connect(self.random.choice(self.ws_urls), open_timeout=10, max_size=None) as socket:
                    await socket.send(json.dumps({"type": "auth", "token": token}))
                    await socket.send(
                        json.dumps(
                            {"type": "subscribe", "board": board, "since": self.random.choice([None, 0, 5]), "id": "s"}
                        )
                    )
                    deadline = time.monotonic() + self.random.uniform(0.2, 2.0)
                    while time.monotonic() < deadline:
                        try:
                            frame = await asyncio.wait_for(socket.recv(), deadline - time.monotonic())
                        except TimeoutError:
                            break
                        for line in str(frame).split("\n"):
                            if json.loads(line).get("type") == "error":
                                self.errors[json.loads(line).get("code")] += 1
                self.sessions += 1
            except Exception as error:  # counted: any failure of a well-behaved client is an error
                self.errors[type(error).__name__] += 1
            await asyncio.sleep(0.05)


def _errors(score: Score, readers: Readers, churn: Churn) -> int:
    return (
        score.unavailable
        + score.transport_errors
        + sum(score.refused.values())
        + sum(readers.errors.values())
        + sum(churn.errors.values())
    )


def _rss(servers: list[AppServer]) -> list[int]:
    return [rss_kib(server.pid) for server in servers]


async def soak(args: argparse.Namespace, servers: list[AppServer]) -> dict[str, Any]:
    urls = [server.url for server in servers]
    ws_urls = [server.ws_url for server in servers]
    accounts = [await account_with_board(urls[number % 2], f"soak{number}") for number in range(args.boards)]
    score = Score()
    writers = [
        Writer(urls, token, board, score, seed=number)
        for number, (token, board) in enumerate(accounts)
        for _ in range(args.writers_per_board)
    ]
    readers = Readers(urls, accounts, seed=1)
    churn = Churn(ws_urls, accounts, seed=2)
    followers = []
    for number in range(args.followers):
        token, board = accounts[number % len(accounts)]
        follower = Follower(ws_urls[number % 2 :] + ws_urls[: number % 2], token, board)
        follower.start()
        followers.append(follower)
    for follower in followers:
        await asyncio.wait_for(follower.subscribed.wait(), 10)

    stop = asyncio.Event()
    started = time.monotonic()
    tasks = [asyncio.create_task(writer.run_until(stop)) for writer in writers]
    tasks += [asyncio.create_task(readers.run_until(stop)) for _ in range(args.readers)]
    tasks += [asyncio.create_task(churn.run_until(stop)) for _ in range(args.churners)]
    timeline: list[dict[str, Any]] = []
    await asyncio.sleep(args.warmup)
    baseline = {"writes": sum(score.ok.values()), "reads": readers.ok, "at": time.monotonic()}
    rss_start = _rss(servers)
    print(f"warmed up after {args.warmup}s: RSS {rss_start} KiB", flush=True)
    end = started + args.duration
    while time.monotonic() < end:
        await asyncio.sleep(min(args.sample, max(end - time.monotonic(), 0)))
        sample = {
            "t": round(time.monotonic() - started),
            "rss_kib": _rss(servers),
            "writes": sum(score.ok.values()),
            "reads": readers.ok,
            "ws_sessions": churn.sessions,
            "errors": _errors(score, readers, churn),
        }
        timeline.append(sample)
        print(json.dumps(sample), flush=True)
    stop.set()
    failures = [
        result for result in await asyncio.gather(*tasks, return_exceptions=True) if isinstance(result, BaseException)
    ]
    measured = time.monotonic() - baseline["at"]
    rss_end = _rss(servers)
    for writer in writers:
        await writer.close()
    await readers.close()

    totals: Counter = Counter()
    for number, (token, board) in enumerate(accounts):
        latest = await assert_rest_state_equals_the_event_log(urls[0], token, board)
        totals.update(await expect_every_seq_exactly_once(followers[number :: len(accounts)], latest))
        totals["events"] += latest
    writes = sum(score.ok.values()) - baseline["writes"]
    reads = readers.ok - baseline["reads"]
    errors = _errors(score, readers, churn) + len(failures)
    growth = [
        round(100 * (end_kib - start_kib) / start_kib, 1) for start_kib, end_kib in zip(rss_start, rss_end, strict=True)
    ]
    # A leak keeps growing; caches and allocator arenas filling up stop. The second half of
    # the measured window tells them apart.
    midpoint = baseline["at"] - started + measured / 2
    middle = min(timeline, key=lambda sample: abs(sample["t"] - midpoint))["rss_kib"] if timeline else rss_start
    growth_second_half = [
        round(100 * (end_kib - mid_kib) / mid_kib, 1) for mid_kib, end_kib in zip(middle, rss_end, strict=True)
    ]
    return {
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "measured_s": round(measured, 1),
        "writes": writes,
        "writes_per_s": round(writes / measured, 1),
        "write_kinds": dict(score.ok),
        "reads": reads,
        "reads_per_s": round(reads / measured, 1),
        "ws_followers": len(followers),
        "events_logged": totals["events"],
        "events_delivered": totals["events"] * len(followers) // max(len(accounts), 1),
        "events_lost": totals["lost"],
        "events_repeated": totals["repeated"],
        "follower_reconnects": totals["reconnects"],
        "ws_churn_sessions": churn.sessions,
        "errors": errors,
        "error_detail": {
            "503": score.unavailable,
            "transport": score.transport_errors,
            "refused_writes": dict(score.refused),
            "reads": dict(readers.errors),
            "ws": dict(churn.errors),
            "crashed_tasks": [repr(failure) for failure in failures],
        },
        "rss_start_kib": rss_start,
        "rss_end_kib": rss_end,
        "rss_growth_pct": growth,
        "rss_growth_second_half_pct": growth_second_half,
        "timeline": timeline,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load in all (default 600)")
    parser.add_argument("--warmup", type=float, default=30, help="seconds before the first RSS reading (default 30)")
    parser.add_argument("--sample", type=float, default=30, help="seconds between progress lines (default 30)")
    parser.add_argument("--boards", type=int, default=6)
    parser.add_argument("--writers-per-board", type=int, default=1)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--followers", type=int, default=30, help="WebSocket clients following a board throughout")
    parser.add_argument("--churners", type=int, default=4, help="WebSocket clients that keep reconnecting")
    parser.add_argument("--report", type=Path, help="also write the report as JSON here")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra environment variable for both instances, e.g. MALLOC_ARENA_MAX=2",
    )
    args = parser.parse_args()
    if args.warmup >= args.duration:
        parser.error("--warmup must be shorter than --duration")
    with tempfile.TemporaryDirectory(prefix="taskwire-soak-") as workdir, redis_server() as redis:
        # The load's clients sign in once; their access tokens must outlive the run (the
        # default 15 minutes would turn every later call into a 401).
        extra_env = {
            "TASKWIRE_ACCESS_TOKEN_TTL": str(min(int(args.duration) + 3600, 24 * 3600)),
            **dict(item.split("=", 1) for item in args.server_env),
        }
        with app_servers(
            2, f"sqlite:///{Path(workdir) / 'soak.db'}", redis.url, Path(workdir), extra_env=extra_env
        ) as servers:
            report = asyncio.run(soak(args, servers))
            log_errors = sum(
                server.log_path.read_text(errors="replace").count('"level": "error"') for server in servers
            )
    report["server_log_errors"] = log_errors
    print(json.dumps({key: value for key, value in report.items() if key != "timeline"}, indent=1))
    if args.report:
        args.report.write_text(json.dumps(report, indent=1))
    healthy = (
        report["errors"] == 0
        and log_errors == 0
        and report["events_lost"] == 0
        and report["events_repeated"] == 0
        and max(report["rss_growth_pct"]) < 10
    )
    print("SOAK PASSED" if healthy else "SOAK FAILED")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
