"""Redis pub/sub throughput on one server vs a cluster of 3 primaries (sharded pub/sub),
on loopback, bounded: how many messages per second Redis delivers to subscribers when
Taskwire's instances are the subscribers.

    .venv/bin/python bench/pubsub.py                      # 1 shard, then 3; prints a table
    .venv/bin/python bench/pubsub.py --json > pubsub.json # for bench/capacity.py

Per shard, one channel named so its slot is on that shard, ``--subscribers`` connections
subscribed to it (each stands for one instance with a viewer of that board), and one
``redis-benchmark`` process publishing ``--messages`` messages of ``--payload`` bytes
(about one event) to it, pipelined: PUBLISH on one server, SPUBLISH on the cluster.
Subscribers only count bytes (every delivery has the same size), so the Python side costs
little and the figure is Redis's. Delivered = publishes x subscribers; the run ends when
every subscriber has all of them, or at ``--timeout`` (then what arrived is reported).
A subscriber that falls too far behind is disconnected by Redis (``client-output-buffer-limit
pubsub``, 32 MB by default): it is counted as cut off, and the run is then a measure of the
subscribers rather than of Redis; lower ``--messages`` or ``--subscribers``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from redis.crc import key_slot  # noqa: E402

from tests.support.redis_topologies import redis_cluster  # noqa: E402
from tests.support.services import redis_server  # noqa: E402


def frame_size(kind: str, channel: str, payload: str) -> int:
    """Bytes of one delivered message in RESP2: [kind, channel, payload]."""
    return sum(len(f"${len(part)}\r\n{part}\r\n") for part in (kind, channel, payload)) + len("*3\r\n")


async def subscriber(
    port: int,
    command: str,
    channel: str,
    expected_bytes: int,
    ready: asyncio.Event,
    received: list[int],
    cut_off: list[int],
    index: int,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{command} {channel}\r\n".encode())
    await writer.drain()
    confirmation = f"*3\r\n${len(command)}\r\n{command.lower()}\r\n${len(channel)}\r\n{channel}\r\n:1\r\n"
    await reader.readexactly(len(confirmation))
    ready.set()
    while received[index] < expected_bytes:
        chunk = await reader.read(1 << 20)
        if not chunk:
            cut_off.append(index)
            break
        received[index] += len(chunk)
    writer.close()


def channel_on(ports_by_slot: dict[int, int], port: int) -> str:
    for tag in range(100_000):
        channel = f"taskwire:board:{{{tag}}}"
        if ports_by_slot.get(key_slot(channel.encode()), port) == port:
            return channel
    raise LookupError(port)


async def measure(ports: list[int], sharded: bool, ports_by_slot: dict[int, int], args: argparse.Namespace) -> dict:
    payload = "x" * args.payload
    command = "SSUBSCRIBE" if sharded else "SUBSCRIBE"
    kind = "smessage" if sharded else "message"
    channels = [channel_on(ports_by_slot, port) for port in ports]
    sizes = [frame_size(kind, channel, payload) for channel in channels]
    received = [0] * (len(ports) * args.subscribers)
    cut_off: list[int] = []
    readies, tasks = [], []
    for shard, (port, channel) in enumerate(zip(ports, channels, strict=True)):
        for number in range(args.subscribers):
            ready = asyncio.Event()
            readies.append(ready)
            index = shard * args.subscribers + number
            tasks.append(
                asyncio.create_task(
                    subscriber(port, command, channel, args.messages * sizes[shard], ready, received, cut_off, index)
                )
            )
    for ready in readies:
        await asyncio.wait_for(ready.wait(), 10)
    started = time.monotonic()
    publishers = [
        await asyncio.create_subprocess_exec(
            "redis-benchmark",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-c",
            "2",
            "-P",
            "32",
            "-n",
            str(args.messages),
            "-q",
            "SPUBLISH" if sharded else "PUBLISH",
            channel,
            payload,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port, channel in zip(ports, channels, strict=True)
    ]
    await asyncio.gather(*(publisher.wait() for publisher in publishers))
    published = time.monotonic() - started
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), args.timeout)
    except TimeoutError:
        pass
    elapsed = time.monotonic() - started
    delivered = sum(
        received[shard * args.subscribers + n] // sizes[shard]
        for shard in range(len(ports))
        for n in range(args.subscribers)
    )
    return {
        "shards": len(ports),
        "subscribers_per_channel": args.subscribers,
        "payload_bytes": args.payload,
        "published": args.messages * len(ports),
        "publish_seconds": round(published, 2),
        "delivered": delivered,
        "seconds": round(elapsed, 2),
        "delivered_per_second": round(delivered / elapsed),
        "published_per_second": round(args.messages * len(ports) / published),
        "cut_off": len(cut_off),
    }


def cluster_slots(port: int) -> dict[int, int]:
    answer = subprocess.run(
        ["redis-cli", "-p", str(port), "CLUSTER", "NODES"], capture_output=True, text=True, check=True
    ).stdout
    owner: dict[int, int] = {}
    for line in answer.splitlines():
        fields = line.split()
        if "master" not in fields[2]:
            continue
        node_port = int(fields[1].split(":")[1].split("@")[0])
        for item in fields[8:]:
            low, _, high = item.partition("-")
            for slot in range(int(low), int(high or low) + 1):
                owner[slot] = node_port
    return owner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="published per shard")
    parser.add_argument("--subscribers", type=int, default=4, help="subscriber connections per channel")
    parser.add_argument("--payload", type=int, default=400, help="bytes per message (an event is ~300-600)")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    results = []
    with redis_server() as server:
        results.append(asyncio.run(measure([server.port], False, {}, args)))
    with redis_cluster(primaries=3) as cluster:
        ports = [node.port for node in cluster.nodes]
        results.append(asyncio.run(measure(ports, True, cluster_slots(ports[0]), args)))
    if args.json:
        print(json.dumps({"load_before": load, "cpus": os.cpu_count(), "runs": results}))
        return
    print(f"load average before: {load:.2f} on {os.cpu_count()} CPUs")
    print("| shards | published/s | delivered/s | subscribers per channel | payload | delivered / expected | cut off |")
    print("|---|---|---|---|---|---|---|")
    for run in results:
        print(
            f"| {run['shards']} | {run['published_per_second']:,} | {run['delivered_per_second']:,} | "
            f"{run['subscribers_per_channel']} | {run['payload_bytes']} B | "
            f"{run['delivered']:,} / {run['published'] * run['subscribers_per_channel']:,} | {run['cut_off']} |"
        )


if __name__ == "__main__":
    main()
