"""REST benchmark: create, patch and list tasks at a fixed concurrency.

Starts its own server process (embedded default: SQLite + in-process broker; --mongo
starts mongoeco's MongoDB wire server, --redis a redis-server, both on free ports) unless
--url points at a running one, then reports requests/s and latency p50/p99 per operation.

    .venv/bin/python bench/rest.py --concurrency 32 --requests 2000
    .venv/bin/python bench/rest.py --mongo --redis [--no-cache]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests.support.services import (  # noqa: E402
    free_port,
    mongo_wire_server,
    redis_server,
    stop_process,
    wait_for_port,
)


def start_server(data_dir: str, extra_env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        **extra_env,
        "PORT": str(port),
        "TASKWIRE_DATA_DIR": data_dir,
        "TASKWIRE_RATE_LIMIT_AUTH": "1000000",
        "TASKWIRE_RATE_LIMIT_API": "10000000",
        "TASKWIRE_SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "TASKWIRE_LOG_LEVEL": "WARNING",
        "TASKWIRE_ARGON2_TIME_COST": "1",
        "TASKWIRE_ARGON2_MEMORY_KIB": "1024",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, timeout=30, proc=proc)
    return proc, f"http://127.0.0.1:{port}"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run_phase(name: str, total: int, concurrency: int, make_request) -> dict:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    started = time.perf_counter()

    async def worker() -> None:
        nonlocal errors
        for index in counter:
            began = time.perf_counter()
            response = await make_request(index)
            latencies.append(time.perf_counter() - began)
            if response.status_code >= 400:
                errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    result = {
        "op": name,
        "requests": total,
        "errors": errors,
        "rps": total / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }
    print(
        f"{name:>7}: {result['rps']:8.1f} req/s  p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms"
        f"  errors {errors}",
        flush=True,
    )
    return result


async def bench(url: str, requests: int, concurrency: int) -> list[dict]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        email = f"bench{time.time_ns()}@example.test"
        session = (
            await client.post(
                "/api/v1/auth/register", json={"email": email, "password": "benchmark password", "name": "Bench"}
            )
        ).json()
        client.headers["Authorization"] = f"Bearer {session['access_token']}"
        board = (await client.post("/api/v1/boards", json={"name": "Bench"})).json()["id"]
        print(f"server {url}, board {board}, {requests} requests per phase at concurrency {concurrency}", flush=True)
        task_ids: list[str] = []

        async def create(index: int) -> httpx.Response:
            response = await client.post(
                f"/api/v1/boards/{board}/tasks",
                json={"title": f"Task {index}", "labels": ["bench"], "priority": "high"},
            )
            if response.status_code == 201:
                task_ids.append(response.json()["id"])
            return response

        async def patch(index: int) -> httpx.Response:
            # Each task is patched by one worker at a time, so no 409s skew the figures.
            task_id = task_ids[index % len(task_ids)]
            current = versions.get(task_id, 1)
            response = await client.patch(
                f"/api/v1/tasks/{task_id}", json={"title": f"Edited {index}", "version": current}
            )
            if response.status_code == 200:
                versions[task_id] = response.json()["version"]
            return response

        async def list_page(index: int) -> httpx.Response:
            return await client.get(f"/api/v1/boards/{board}/tasks", params={"limit": 50, "status": "todo"})

        versions: dict[str, int] = {}
        results = [await run_phase("create", requests, concurrency, create)]
        results.append(await run_phase("patch", min(requests, len(task_ids)), concurrency, patch))
        results.append(await run_phase("list", requests, concurrency, list_page))
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running server; default: start one")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--mongo", action="store_true", help="store on mongoeco's MongoDB wire server")
    parser.add_argument("--redis", action="store_true", help="broker (and read cache) on a redis-server")
    parser.add_argument("--no-cache", action="store_true", help="turn the Redis read cache off")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="taskwire-bench-"))
        extra_env: dict[str, str] = {"TASKWIRE_CACHE": "false" if args.no_cache else "true"}
        if args.mongo:
            server_url = stack.enter_context(mongo_wire_server()).url
            base, _, query = server_url.partition("/?")
            extra_env["TASKWIRE_DATABASE_URL"] = f"{base}/bench?{query}"
        if args.redis:
            extra_env["TASKWIRE_REDIS_URL"] = stack.enter_context(redis_server()).url
        url = args.url
        if url is None:
            proc, url = start_server(data_dir, extra_env)
            stack.callback(stop_process, proc)
        print(
            f"store: {'mongo' if args.mongo else 'sqlite'}, broker: {'redis' if args.redis else 'in-process'}, "
            f"cache: {'off' if args.no_cache or not args.redis else 'on'}",
            flush=True,
        )
        asyncio.run(bench(url, args.requests, args.concurrency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
