"""Co-editing one task description across two instances: how long an update takes from
one editor to every other, with 2, 10 and 50 people typing at once, and what an open
document costs the server in memory.

    .venv/bin/python bench/coedit.py                  # 2, 10, 50 editors; prints a table
    .venv/bin/python bench/coedit.py --editors 10 --seconds 20 --json

Two real server processes (``python -m app serve``) share one SQLite file and one real
redis-server, all started here on free ports. Editors (pycrdt documents over WebSockets,
as tests/realtime/doc_client.py) alternate between the instances and run ``--per-process``
to a worker process, so that the clients are not what saturates; each inserts a word
``--rate`` times a second (the dashboard merges keystrokes into at most five updates a
second) at a random place. Latency is measured from sending ``doc.update`` to its arrival
at each other editor: the server relays an update's base64 text unchanged, so arrivals are
matched by it, per editor. Every editor must get every other editor's stored
(acknowledged) update exactly once: missing and duplicated are counted apart, and updates
sent are shown against those scheduled, so a load generator that fell behind shows.
Memory: the growth of both servers' RSS while ``--documents`` tasks are opened (eight per
socket, the limit), divided by that number.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
from pycrdt import Doc, Text  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from bench.fanout import percentile, rss_kib  # noqa: E402
from tests.support.servers import AppServer, app_servers  # noqa: E402
from tests.support.services import redis_server  # noqa: E402

PASSWORD = "benchmark password"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def register(http: httpx.AsyncClient, name: str) -> dict:
    response = await http.post(
        "/api/v1/auth/register",
        json={"email": f"{name}.{time.time_ns()}@bench.test", "password": PASSWORD, "name": name},
    )
    response.raise_for_status()
    return response.json()


async def set_up(base_url: str, editors: int, tasks: int) -> tuple[list[str], str, list[str]]:
    """Editor tokens, the board, and ``tasks`` task ids (each with a 2 KB description)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        owner = await register(http, "owner")
        auth = {"Authorization": f"Bearer {owner['access_token']}"}
        board = (await http.post("/api/v1/boards", json={"name": "Co-editing"}, headers=auth)).json()["id"]
        tokens = [owner["access_token"]]
        for number in range(editors - 1):
            member = await register(http, f"editor{number}")
            await http.post(
                f"/api/v1/boards/{board}/members",
                headers=auth,
                json={"email": member["user"]["email"], "role": "editor"},
            )
            tokens.append(member["access_token"])
        task_ids = []
        for number in range(tasks):
            body = {"title": f"Notes {number}", "description": ("lorem ipsum dolor sit amet " * 80)[:2000]}
            task_ids.append((await http.post(f"/api/v1/boards/{board}/tasks", json=body, headers=auth)).json()["id"])
    return tokens, board, task_ids


class Editor:
    """One person typing: a pycrdt document over its own WebSocket. Records what it sent
    (key and when) and every ``doc.update`` that reached it (key and when, repeats kept),
    so the parent can tell per editor which of the others' updates arrived, and how often."""

    def __init__(self, number: int, url: str, token: str, board: str, task: str) -> None:
        self.number, self.url, self.token, self.board, self.task = number, url, token, board, task
        self.doc: Doc = Doc()
        self.text = self.doc.get("description", type=Text)
        self.sent: list[tuple[str, float]] = []
        self.arrived: list[tuple[str, float]] = []
        self.errors: list[dict] = []
        self.stored: set[str] = set()  # keys of the updates the server acknowledged
        self.resyncs = 0
        self.opened = asyncio.Event()
        self.last_frame = 0.0
        self.unacked: dict[int, str] = {}
        self.retry: dict[int, str] = {}

    async def run(self, rate: float, seconds: float, start: asyncio.Event) -> None:
        async with connect(self.url, max_size=None, open_timeout=60) as socket:
            await socket.send(json.dumps({"type": "auth", "token": self.token}))
            await socket.send(json.dumps({"type": "subscribe", "board": self.board, "id": "s"}))
            await socket.send(json.dumps({"type": "doc.open", "task": self.task, "id": "o"}))
            reader = asyncio.create_task(self._read(socket))
            await self.opened.wait()
            await start.wait()
            await self._type(socket, rate, seconds)
            await asyncio.sleep(2)  # refusals to the last updates arrive
            for request_id, update in list(self.retry.items()):
                await socket.send(
                    json.dumps({"type": "doc.update", "task": self.task, "update": update, "id": request_id})
                )
            # Everyone's last updates arrive: done once the socket has been quiet for 3 s.
            loop = asyncio.get_running_loop()
            for _ in range(240):  # two minutes at most
                if loop.time() - self.last_frame >= 3:
                    break
                await asyncio.sleep(0.5)
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def _type(self, socket, rate: float, seconds: float) -> None:
        rng = random.Random()
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        next_at = loop.time() + rng.uniform(0, 1 / rate)
        request_id = 0
        while True:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            if loop.time() >= until:  # a process that fell behind sends what it can, never past the end
                break
            next_at += 1 / rate
            before = self.doc.get_state()
            length = len(str(self.text).encode())
            # Keep the document well under the 5000-character limit: past 2,500 characters
            # each update also deletes five at a random place, so with 50 editors' updates
            # in flight the text stays near that size (deleting from one end instead, many
            # editors delete the same characters at once and it grows past the limit).
            # Typing every time makes each update unique: a deletion alone names no client,
            # and two editors deleting the same characters send the same bytes.
            with self.doc.transaction():
                if length > 2500:
                    at = rng.randint(0, length - 5)
                    del self.text[at : at + 5]
                    length -= 5
                self.text.insert(rng.randint(0, length), "word ")
            update = base64.b64encode(self.doc.get_update(before)).decode()
            self.sent.append((update_key(update), time.monotonic()))
            request_id += 1
            self.unacked[request_id] = update
            await socket.send(json.dumps({"type": "doc.update", "task": self.task, "update": update, "id": request_id}))

    async def _read(self, socket) -> None:
        loop = asyncio.get_running_loop()
        async for frame in socket:
            arrived = time.monotonic()
            self.last_frame = loop.time()
            for line in str(frame).split("\n"):
                message = json.loads(line)
                kind = message.get("type")
                if kind == "doc.update":
                    self.doc.apply_update(base64.b64decode(message["update"]))
                    self.arrived.append((update_key(message["update"]), arrived))
                elif kind == "doc.opened":
                    self.doc.apply_update(base64.b64decode(message["update"]))
                    self.opened.set()
                elif kind == "doc.resync":
                    # Updates missed meanwhile would come in one state diff, not one by one:
                    # counted as missing below, and the resync itself is reported.
                    self.resyncs += 1
                elif kind == "doc.ack":
                    if (update := self.unacked.pop(message["id"], None)) is not None:
                        self.stored.add(update_key(update))
                    self.retry.pop(message["id"], None)
                elif kind == "error":
                    self.errors.append(message)
                    if (update := self.unacked.get(message.get("id"))) is not None:
                        self.retry[message["id"]] = update

    def report(self) -> dict:
        return {
            "number": self.number,
            "sent": self.sent,
            "arrived": self.arrived,
            "text": str(self.text),
            "stored": sorted(self.stored),
            "errors": [str(error.get("code")) for error in self.errors],
            "resyncs": self.resyncs,
        }


def update_key(update: str) -> str:
    """The server relays an update's base64 text unchanged: a short digest of it names it."""
    return hashlib.blake2b(update.encode(), digest_size=10).hexdigest()


def drive(
    editors: list[tuple[int, str, str]], board: str, task: str, rate: float, seconds: float, ready, start, results
) -> None:
    """A worker process: ``editors`` (number, WebSocket URL, token) type on one event loop.
    Says when all are open, waits for the common start, and hands back their reports."""

    async def main() -> list[dict]:
        crew = [Editor(number, url, token, board, task) for number, url, token in editors]
        go = asyncio.Event()
        runs = [asyncio.create_task(editor.run(rate, seconds, go)) for editor in crew]
        await asyncio.wait_for(asyncio.gather(*(editor.opened.wait() for editor in crew)), 120)
        ready.put(len(crew))
        await asyncio.to_thread(start.wait)
        go.set()
        await asyncio.gather(*runs)
        return [editor.report() for editor in crew]

    results.put(asyncio.run(main()))


def tally(reports: list[dict]) -> dict:
    """Per editor, which of the others' stored updates arrived: none missing, none twice.
    An update the server refused (an error answered it) is relayed to nobody."""
    stored = {key for report in reports for key in report["stored"]}
    everything = {key: (report["number"], at) for report in reports for key, at in report["sent"]}
    sender = {key: sent for key, sent in everything.items() if key in stored}
    latencies: list[float] = []
    missing = duplicated = stray = 0
    for report in reports:
        first: dict[str, float] = {}
        for key, at in report["arrived"]:
            if key in first:
                duplicated += 1
            else:
                first[key] = at
        expected = {key for key, (number, _) in sender.items() if number != report["number"]}
        missing += len(expected - first.keys())
        stray += len(first.keys() - expected)  # its own echoed back, or an update nobody sent
        latencies.extend(at - sender[key][1] for key, at in first.items() if key in expected)
    return {
        "latencies": latencies,
        "missing": missing,
        "duplicated": duplicated,
        "stray": stray,
        "sent": len(everything),
        "stored": len(sender),
    }


async def latency_run(servers: list[AppServer], editors: int, seconds: float, rate: float, per_process: int) -> dict:
    """Editors alternate between the instances given, ``per_process`` to a worker process."""
    tokens, board, [task] = await set_up(servers[0].url, editors, 1)
    everyone = [(n, servers[n % len(servers)].ws_url, tokens[n]) for n in range(editors)]
    groups = [everyone[n : n + per_process] for n in range(0, editors, per_process)]
    context = multiprocessing.get_context("spawn")  # no fork of a process with a running loop
    ready, results, start = context.Queue(), context.Queue(), context.Event()
    workers = [
        context.Process(target=drive, args=(group, board, task, rate, seconds, ready, start, results))
        for group in groups
    ]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            await asyncio.to_thread(ready.get, True, 180)
        load_before = os.getloadavg()[0]
        log(f"{editors} editors open in {len(workers)} processes; typing for {seconds:.0f} s at {rate}/s each")
        start.set()
        reports = [report for _ in workers for report in await asyncio.to_thread(results.get, True, 600)]
        load_after = os.getloadavg()[0]
    finally:
        for worker in workers:
            worker.join(30)
            if worker.is_alive():
                worker.kill()
    counted = tally(reports)
    latencies = counted["latencies"]
    return {
        "editors": editors,
        "processes": len(workers),
        "updates_sent": counted["sent"],
        "updates_scheduled": editors * int(rate * seconds),
        "deliveries": len(latencies),
        "updates_stored": counted["stored"],
        "deliveries_expected": counted["stored"] * (editors - 1),
        "missing": counted["missing"],
        "duplicated": counted["duplicated"],
        "stray": counted["stray"],
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "converged": len({report["text"] for report in reports}) == 1,
        "errors": dict(Counter(code for report in reports for code in report["errors"])),
        "resyncs": sum(report["resyncs"] for report in reports),
        "load_1min": f"{load_before:.1f}–{load_after:.1f}",
    }


async def memory_run(servers: list[AppServer], documents: int) -> dict:
    tokens, board, tasks = await set_up(servers[0].url, 1, documents)
    before = sum(rss_kib(server.pid) for server in servers)
    sockets = []
    try:
        for start in range(0, documents, 8):
            server = servers[(start // 8) % 2]
            socket = await connect(server.ws_url, max_size=None, open_timeout=30)
            sockets.append(socket)
            await socket.send(json.dumps({"type": "auth", "token": tokens[0]}))
            await socket.send(json.dumps({"type": "subscribe", "board": board, "id": "s"}))
            batch = tasks[start : start + 8]
            for task in batch:
                await socket.send(json.dumps({"type": "doc.open", "task": task, "id": task}))
            opened = 0
            while opened < len(batch):
                for line in str(await asyncio.wait_for(socket.recv(), 30)).split("\n"):
                    opened += json.loads(line).get("type") == "doc.opened"
        await asyncio.sleep(1)
        after = sum(rss_kib(server.pid) for server in servers)
        # The sockets themselves cost memory too: measured apart as one socket per 8 documents.
        return {
            "documents": documents,
            "rss_growth_kib": after - before,
            "kib_per_document": round((after - before) / documents, 1),
        }
    finally:
        for socket in sockets:
            with contextlib.suppress(Exception):
                await socket.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--editors", type=int, nargs="*", default=[2, 10, 50])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=4.0, help="updates per second per editor")
    parser.add_argument("--documents", type=int, default=400, help="documents opened for the memory figure")
    parser.add_argument("--instances", type=int, choices=(1, 2), default=2)
    parser.add_argument("--per-process", type=int, default=5, help="editors driven by one worker process")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict = {"latency": [], "memory": None}
    with tempfile.TemporaryDirectory() as workdir, redis_server() as redis:
        env = {
            "TASKWIRE_RATE_LIMIT_WS": "1000000",
            "TASKWIRE_RATE_LIMIT_API": "1000000",
            "TASKWIRE_RATE_LIMIT_AUTH": "1000000",
        }
        with app_servers(2, f"sqlite:///{Path(workdir) / 'bench.db'}", redis.url, Path(workdir), env) as servers:
            log(f"two instances on ports {servers[0].port} and {servers[1].port}")
            for editors in args.editors:
                results["latency"].append(
                    await latency_run(servers[: args.instances], editors, args.seconds, args.rate, args.per_process)
                )
                log(f"{editors} editors: {results['latency'][-1]}")
            log(f"opening {args.documents} documents for the memory figure")
            results["memory"] = await memory_run(servers, args.documents)
            log(f"memory: {results['memory']}")
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        "| editors | processes | updates sent (scheduled) | stored | deliveries (expected) | missing | duplicated "
        "| p50 ms | p99 ms | converged | errors | load (1 min) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in results["latency"]:
        errors = ", ".join(f"{code} ×{count}" for code, count in row["errors"].items()) or "0"
        print(
            f"| {row['editors']} | {row['processes']} | {row['updates_sent']} ({row['updates_scheduled']}) | "
            f"{row['updates_stored']} | "
            f"{row['deliveries']} ({row['deliveries_expected']}) | {row['missing']} | {row['duplicated']} | "
            f"{row['p50_ms']} | {row['p99_ms']} | {row['converged']} | {errors} | {row['load_1min']} |"
        )
    memory = results["memory"]
    print(
        f"\nMemory: {memory['documents']} documents open: {memory['rss_growth_kib']} KiB, {memory['kib_per_document']} KiB each."
    )


if __name__ == "__main__":
    asyncio.run(main())
