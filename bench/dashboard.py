"""Dashboard benchmark: open a board of 10,000 tasks in Chromium and report how long it takes
until its columns are shown, the page's JavaScript heap and its DOM size.

Starts its own server (SQLite, in-process broker) unless --url is given, seeds one board over
REST (most tasks in To do, as a long backlog is), signs in through the dashboard, then opens
the board --runs times in a fresh page. For comparison it also times reading every task of
the board the way the dashboard used to (200 per request until the end) inside the page.

    .venv/bin/python bench/dashboard.py --tasks 10000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.rest import start_server  # noqa: E402
from tests.browser.support import CHROMIUM, LAUNCH_ARGS, PASSWORD  # noqa: E402
from tests.support.services import stop_process  # noqa: E402

SHARE = {"todo": 0.7, "in_progress": 0.2, "done": 0.1}


async def seed(url: str, tasks: int, concurrency: int) -> tuple[dict, str]:
    async with httpx.AsyncClient(base_url=f"{url}/api/v1", timeout=60) as client:
        email = f"bench.{int(time.time())}@example.test"
        body = (
            await client.post("/auth/register", json={"email": email, "password": PASSWORD, "name": "Bench"})
        ).json()
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        board = (await client.post("/boards", json={"name": "Ten thousand"}, headers=headers)).json()
        statuses = [status for status, share in SHARE.items() for _ in range(round(tasks * share))][:tasks]
        numbers = iter(enumerate(statuses))

        async def worker() -> None:
            for number, status in numbers:
                response = await client.post(
                    f"/boards/{board['id']}/tasks",
                    headers=headers,
                    json={
                        "title": f"Task {number:05d}",
                        "status": status,
                        "labels": [f"area-{number % 7}"],
                        "description": "Some words to search." if number % 3 == 0 else "",
                    },
                )
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return board, email


async def measure(url: str, board: dict, email: str, runs: int) -> dict:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        context = await browser.new_context(base_url=url, viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        await page.goto("/")
        await page.get_by_label("Email").fill(email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_test_id("sign-out").wait_for()
        opened, heaps, nodes = [], [], []
        for _ in range(runs):
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            await cdp.send("Performance.enable")
            started = time.perf_counter()
            await page.goto(f"/boards/{board['id']}")
            await page.locator("[data-testid=column-done] [data-testid=card]").first.wait_for()
            await page.get_by_test_id("connection").and_(page.locator("[data-state=live]")).wait_for()
            opened.append(time.perf_counter() - started)
            await cdp.send("HeapProfiler.collectGarbage")
            metrics = {m["name"]: m["value"] for m in (await cdp.send("Performance.getMetrics"))["metrics"]}
            heaps.append(metrics["JSHeapUsedSize"] / 2**20)
            nodes.append(int(metrics["Nodes"]))
            cards = await page.get_by_test_id("card").count()
            whole = await page.evaluate(
                """async (boardId) => {
                const { api } = await import("/static/app/api.js");
                const started = performance.now();
                let cursor = null, count = 0;
                do {
                    const page = await api("GET", `/boards/${boardId}/tasks`, { query: { sort: "position", limit: 200, cursor } });
                    count += page.items.length;
                    cursor = page.next_cursor;
                } while (cursor);
                return [performance.now() - started, count];
            }""",
                board["id"],
            )
            await page.close()
        await browser.close()
    return {
        "opened_s": opened,
        "heap_mib": heaps,
        "dom_nodes": nodes,
        "cards_shown": cards,
        "read_all_ms": whole[0],
        "read_all_count": whole[1],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        proc, url = start_server(
            data_dir, {"TASKWIRE_DATABASE_URL": f"sqlite:///{data_dir}/t.db", "TASKWIRE_REDIS_URL": ""}
        )
        try:
            began = time.perf_counter()
            board, email = await seed(url, args.tasks, args.concurrency)
            print(f"seeded {args.tasks} tasks in {time.perf_counter() - began:.1f} s")
            result = await measure(url, board, email, args.runs)
        finally:
            stop_process(proc)
    print(
        f"board opened (columns shown, live): median {statistics.median(result['opened_s']) * 1000:.0f} ms "
        f"(runs: {', '.join(f'{s * 1000:.0f}' for s in result['opened_s'])} ms)"
    )
    print(
        f"JS heap after GC: median {statistics.median(result['heap_mib']):.1f} MiB; "
        f"DOM nodes: {statistics.median(result['dom_nodes']):.0f}; cards shown: {result['cards_shown']}"
    )
    print(
        f"for comparison, reading all {result['read_all_count']} tasks in pages of 200 took "
        f"{result['read_all_ms']:.0f} ms (before any rendering)"
    )


if __name__ == "__main__":
    asyncio.run(main())
