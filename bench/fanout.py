"""WebSocket fan-out benchmark: N clients over 2 instances (+ a redis-server of its own),
updates over REST at a fixed rate, measured from commit (the event's ``at``) to receipt.

    .venv/bin/python bench/fanout.py --clients 1000 --rate 20 --duration 30
    .venv/bin/python bench/fanout.py --clients 1000 --idle          # RSS per connection

Clients run in ``--client-procs`` separate processes (this script with --worker), spread
evenly over both instances; each subscribes to one of ``--boards`` boards (all clients
on one board by default: the worst case, every update goes to every socket). Reports
delivered msgs/s, latency p50/p99/max, lost/duplicate/out-of-order events, close codes,
and each instance's CPU and RSS read from /proc (psutil is not installed).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests.support.servers import AppServer, app_servers  # noqa: E402
from tests.support.services import redis_server  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
# app.domain.views.event_message writes type, board, seq, event, actor, at, data, in order.
EVENT_PREFIX = '{"type":"event"'
EVENT_FIELDS = re.compile(r'"seq":(\d+),.*?"at":"([^"]+)"')
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


# -- /proc -------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# -- the client worker (a separate process) ----------------------------------------------


class Follow:
    __slots__ = ("board", "close_code", "seqs", "start")

    def __init__(self, board: str) -> None:
        self.board, self.start, self.seqs, self.close_code = board, None, [], None


class RawFollower(asyncio.Protocol):
    """One client on websockets' Sans-I/O protocol: no task per connection and no async
    iteration, so the clients leave as much of the shared CPUs as possible to the servers."""

    def __init__(self, url: str, token: str, state: Follow, latencies: list[float], ready: asyncio.Event) -> None:
        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        self.token, self.state, self.latencies, self.ready = token, state, latencies, ready
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        from websockets.frames import Close, Opcode
        from websockets.http11 import Response

        self.protocol.receive_data(data)
        now = time.time()
        for event in self.protocol.events_received():
            if isinstance(event, Response):  # the handshake is done: authenticate, subscribe
                self.protocol.send_text(json.dumps({"type": "auth", "token": self.token}).encode())
                self.protocol.send_text(
                    json.dumps({"type": "subscribe", "board": self.state.board, "since": None}).encode()
                )
            elif getattr(event, "opcode", None) is Opcode.TEXT:
                for line in event.data.decode().split("\n"):
                    self._take(line, now)
            elif getattr(event, "opcode", None) is Opcode.CLOSE:
                self.state.close_code = Close.parse(event.data).code if event.data else 1005
        self._flush()

    def _take(self, line: str, now: float) -> None:
        if line.startswith(EVENT_PREFIX):  # the hot path: two fields, no full JSON parse
            found = EVENT_FIELDS.search(line)
            assert found is not None, line
            self.state.seqs.append(int(found[1]))
            self.latencies.append(now - datetime.fromisoformat(found[2]).timestamp())
            return
        message = json.loads(line)
        if message["type"] == "subscribed":
            self.state.start = message["seq"]
            self.ready.set()

    def _flush(self) -> None:
        if self.transport is not None and (pending := b"".join(self.protocol.data_to_send())):
            self.transport.write(pending)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.state.close_code is None:
            self.state.close_code = 1006
        self.ready.set()


async def worker_main() -> None:
    """Reads its plan as one JSON line, says READY once all are subscribed, collects until
    it reads the final seqs per board, then prints its results as one JSON line."""
    plan = json.loads(sys.stdin.readline())
    states = [Follow(board) for board in plan["boards"]]
    latencies: list[float] = []
    readies = [asyncio.Event() for _ in states]
    gate = asyncio.Semaphore(50)  # the server's listen backlog is 100 per instance

    async def start(index: int) -> asyncio.Transport:
        from websockets.uri import parse_uri

        uri = parse_uri(plan["urls"][index])
        async with gate:
            transport, _ = await asyncio.get_running_loop().create_connection(
                lambda: RawFollower(
                    plan["urls"][index], plan["tokens"][index], states[index], latencies, readies[index]
                ),
                uri.host,
                uri.port,
            )
            await asyncio.wait_for(readies[index].wait(), 60)
            return transport

    transports = await asyncio.gather(*(start(index) for index in range(len(states))))
    print("READY", flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    finals = json.loads(line)
    await asyncio.sleep(float(plan.get("grace", 2.0)))
    summary = summarise(states, finals, latencies)  # before our own closes count as drops
    for transport in transports:
        transport.close()
    print(json.dumps(summary), flush=True)


def summarise(states: list[Follow], finals: dict[str, int], latencies: list[float]) -> dict:
    lost = duplicates = disorder = 0
    codes: dict[str, int] = {}
    for state in states:
        expected = set(range((state.start or 0) + 1, finals[state.board] + 1))
        seen = set(state.seqs)
        lost += len(expected - seen)
        duplicates += len(state.seqs) - len(seen)
        disorder += sum(1 for a, b in itertools.pairwise(state.seqs) if b <= a)
        if state.close_code is not None:
            codes[str(state.close_code)] = codes.get(str(state.close_code), 0) + 1
    return {
        "received": sum(len(state.seqs) for state in states),
        "lost": lost,
        "duplicates": duplicates,
        "disorder": disorder,
        "close_codes": codes,
        "latencies": [round(value, 5) for value in latencies],
    }


# -- the driver ---------------------------------------------------------------------------


async def set_up(servers: list[AppServer], clients: int, boards: int) -> tuple[str, list[str], list[str]]:
    """An owner, up to 50 member accounts (presence shows each user once, whatever the
    number of their sockets), and the boards; returns (owner token, tokens, board ids)."""
    import httpx

    async with httpx.AsyncClient(base_url=servers[0].url, timeout=60) as http:

        async def register(name: str) -> dict:
            response = await http.post(
                "/api/v1/auth/register",
                json={"email": f"{name}.{time.time_ns()}@bench.test", "password": "benchmark password", "name": name},
            )
            return response.json()

        owner = await register("owner")
        auth = {"Authorization": f"Bearer {owner['access_token']}"}
        board_ids = [
            (await http.post("/api/v1/boards", json={"name": f"Fan-out {n}"}, headers=auth)).json()["id"]
            for n in range(boards)
        ]
        members = [await register(f"viewer{n}") for n in range(min(clients, 50))]
        for board in board_ids:
            for member in members:
                await http.post(
                    f"/api/v1/boards/{board}/members",
                    headers=auth,
                    json={"email": member["user"]["email"], "role": "viewer"},
                )
    return owner["access_token"], [member["access_token"] for member in members], board_ids


def start_workers(
    count: int, servers: list[AppServer], tokens: list[str], boards: list[str], processes: int
) -> list[subprocess.Popen]:
    workers = []
    for number in range(processes):
        mine = range(number, count, processes)
        plan = {
            "urls": [servers[index % len(servers)].ws_url for index in mine],
            "tokens": [tokens[index % len(tokens)] for index in mine],
            "boards": [boards[index % len(boards)] for index in mine],
        }
        worker = subprocess.Popen(
            [sys.executable, __file__, "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
        )
        assert worker.stdin is not None
        worker.stdin.write(json.dumps(plan) + "\n")
        worker.stdin.flush()
        workers.append(worker)
    for worker in workers:
        assert worker.stdout is not None
        line = worker.stdout.readline().strip()
        if line != "READY":
            raise RuntimeError(f"client worker failed: {line!r}")
    return workers


def finish_workers(workers: list[subprocess.Popen], finals: dict[str, int]) -> list[dict]:
    results = []
    for worker in workers:
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.write(json.dumps(finals) + "\n")
        worker.stdin.flush()
    for worker in workers:
        results.append(json.loads(worker.stdout.readline()))
        worker.wait(30)
    return results


async def send_updates(
    servers: list[AppServer], token: str, boards: list[str], rate: float, duration: float
) -> tuple[int, dict[int, int], list[float]]:
    """Open loop: update i starts at t0 + i/rate whether or not earlier ones finished."""
    import httpx

    clients = [
        httpx.AsyncClient(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"})
        for server in servers
    ]
    errors: dict[int, int] = {}
    latencies: list[float] = []
    pending = []

    async def update(index: int) -> None:
        began = time.perf_counter()
        response = await clients[index % len(clients)].post(
            f"/api/v1/boards/{boards[index % len(boards)]}/tasks", json={"title": f"update {index}"}
        )
        latencies.append(time.perf_counter() - began)
        if response.status_code >= 400:
            errors[response.status_code] = errors.get(response.status_code, 0) + 1

    started = time.perf_counter()
    total = int(rate * duration)
    for index in range(total):
        delay = started + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(update(index)))
    await asyncio.gather(*pending)
    for client in clients:
        await client.aclose()
    return total, errors, latencies


async def latest_seqs(server: AppServer, token: str, boards: list[str]) -> dict[str, int]:
    import httpx

    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        return {board: (await http.get(f"/api/v1/boards/{board}")).json()["seq"] for board in boards}


def report_load(
    args: argparse.Namespace,
    servers: list[AppServer],
    workers: list[int],
    usage: tuple[dict[int, float], dict[int, int]],
    elapsed: float,
    sent: tuple[int, dict[int, int], list[float]],
    results: list[dict],
) -> None:
    cpu, rss = usage
    latencies = [value for result in results for value in result["latencies"]]
    received = sum(result["received"] for result in results)
    print(
        f"clients {args.clients} over {len(servers)} instances, {args.boards} board(s), "
        f"rate {args.rate}/s for {args.duration}s; {sent[0]} updates, REST errors {sent[1] or 'none'}, "
        f"REST p50 {percentile(sent[2], 0.5) * 1000:.1f} ms"
    )
    print(
        f"delivered {received} messages = {received / elapsed:.0f} msgs/s; latency commit->receipt "
        f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
        f"max {max(latencies, default=float('nan')) * 1000:.1f} ms"
    )
    print(
        f"lost {sum(r['lost'] for r in results)}, duplicates {sum(r['duplicates'] for r in results)}, "
        f"out of order {sum(r['disorder'] for r in results)}, closes "
        f"{[r['close_codes'] for r in results if r['close_codes']]}"
    )
    for number, server in enumerate(servers):
        print(
            f"instance {number}: CPU {100 * cpu[server.pid] / elapsed:.0f}% of one core, "
            f"RSS {rss[server.pid] / 1024:.1f} MiB"
        )
    client_cpu = sum(cpu[pid] for pid in workers)
    print(f"client processes: CPU {100 * client_cpu / elapsed:.0f}% of one core in total")


async def run_load(args: argparse.Namespace, servers: list[AppServer]) -> None:
    owner, tokens, boards = await set_up(servers, args.clients, args.boards)
    workers = start_workers(args.clients, servers, tokens, boards, args.client_procs)
    await asyncio.sleep(1.0)  # the joins' presence traffic settles
    pids = [server.pid for server in servers] + [worker.pid for worker in workers]
    cpu = {pid: cpu_seconds(pid) for pid in pids}
    started = time.perf_counter()
    sent = await send_updates(servers, owner, boards, args.rate, args.duration)
    elapsed = time.perf_counter() - started
    used = {pid: cpu_seconds(pid) - cpu[pid] for pid in pids}
    rss = {server.pid: rss_kib(server.pid) for server in servers}
    finals = await latest_seqs(servers[0], owner, boards)
    results = finish_workers(workers, finals)
    report_load(args, servers, [worker.pid for worker in workers], (used, rss), elapsed, sent, results)


async def run_idle(args: argparse.Namespace, servers: list[AppServer]) -> None:
    owner, tokens, boards = await set_up(servers, args.clients, args.boards)
    before = {server.pid: rss_kib(server.pid) for server in servers}
    workers = start_workers(args.clients, servers, tokens, boards, args.client_procs)
    await asyncio.sleep(5.0)  # presence settles, nothing else happens
    per_instance = args.clients / len(servers)
    for number, server in enumerate(servers):
        grown = rss_kib(server.pid) - before[server.pid]
        print(
            f"instance {number}: RSS {before[server.pid] / 1024:.1f} -> {rss_kib(server.pid) / 1024:.1f} MiB "
            f"with {per_instance:.0f} idle subscribed sockets = {grown / per_instance:.1f} KiB per connection"
        )
    finish_workers(workers, await latest_seqs(servers[0], owner, boards))


def load_average() -> str:
    """Other work on the machine skews every figure: the 1-minute load goes in the report."""
    with open("/proc/loadavg") as handle:
        return handle.read().split()[0]


async def drive(args: argparse.Namespace) -> None:
    print(f"load average before: {load_average()} on {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="taskwire-fanout-", dir=args.data_dir) as tmp, redis_server() as redis:
        extra = {"TASKWIRE_WS_SEND_QUEUE": str(args.send_queue)}
        with app_servers(
            2, f"sqlite:///{Path(tmp) / 'bench.db'}", redis.url, Path(tmp), extra, stop_timeout=5
        ) as servers:
            await (run_idle(args, servers) if args.idle else run_load(args, servers))
    print(f"load average after: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0, help="REST updates per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of updates")
    parser.add_argument("--boards", type=int, default=1, help="clients are spread over this many boards")
    parser.add_argument("--client-procs", type=int, default=2, help="processes running the clients")
    parser.add_argument("--send-queue", type=int, default=1000, help="TASKWIRE_WS_SEND_QUEUE")
    parser.add_argument(
        "--data-dir",
        help="where the SQLite file goes (default: the temp dir; /dev/shm takes the disk out of the measurement)",
    )
    parser.add_argument("--idle", action="store_true", help="only connect, and report RSS per connection")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(worker_main() if args.worker else drive(args))


if __name__ == "__main__":
    main()
