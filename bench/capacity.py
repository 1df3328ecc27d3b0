"""The capacity model of docs/scaling.md: from measured figures and stated assumptions to how
many Taskwire processes, Redis shards and MongoDB shards serve N connected people.

    .venv/bin/python bench/capacity.py                                   # the table in docs/scaling.md
    .venv/bin/python bench/capacity.py --pubsub pubsub.json              # with a fresh bench/pubsub.py --json
    .venv/bin/python bench/capacity.py --set writes_per_person_per_minute=5

Inputs live in bench/capacity_inputs.json: ``measured`` (each with the benchmark and date it
came from; rerun that benchmark and edit the figure when it moves) and ``assumed`` (the
usage model and the headroom kept). The arithmetic is below, one line per resource.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

INPUTS = Path(__file__).resolve().parent / "capacity_inputs.json"
PEOPLE = (10_000, 100_000, 1_000_000)


def load_inputs(path: Path, pubsub: Path | None, overrides: list[str]) -> dict[str, float]:
    raw = json.loads(path.read_text())
    figures = {
        name: float(entry["value"]) for section in ("measured", "assumed") for name, entry in raw[section].items()
    }
    if pubsub is not None:
        runs = {run["shards"]: run for run in json.loads(pubsub.read_text())["runs"]}
        figures["redis_deliveries_per_second_per_shard"] = float(runs[1]["delivered_per_second"])
    for item in overrides:
        name, _, value = item.partition("=")
        if name not in figures:
            raise SystemExit(f"unknown input {name!r}; known: {', '.join(sorted(figures))}")
        figures[name] = float(value)
    return figures


def plan(people: int, f: dict[str, float]) -> dict[str, Any]:
    connections = people * f["connections_per_person"]
    writes = people * f["writes_per_person_per_minute"] / 60
    deliveries = writes * f["viewers_per_write"]  # every write reaches the board's viewers

    # Processes: enough memory for the sockets, enough CPU for the deliveries and the writes,
    # each kept under the CPU target so a failover's catch-up and a burst have room.
    per_process_memory = (f["memory_per_process_mib"] - f["process_baseline_mib"]) * 1024 / f["idle_connection_kib"]
    delivery_capacity = f["fanout_deliveries_per_second_per_process"] / f["fanout_cpu_fraction"] * f["cpu_target"]
    write_capacity = f["rest_writes_per_second_per_process"] * f["cpu_target"]
    processes = max(
        math.ceil(connections / per_process_memory), math.ceil(deliveries / delivery_capacity + writes / write_capacity)
    )

    # Redis: each write is published once and delivered once per process with a viewer of
    # that board (at worst every viewer on another process).
    redis_deliveries = writes * min(f["viewers_per_write"], processes)
    redis_shards = math.ceil(redis_deliveries / (f["redis_deliveries_per_second_per_shard"] * f["redis_target"]))

    # Store: one SQLite file takes one writer at a time; past it, MongoDB sharded on
    # hashed board_id (a board's seq and events stay on one shard).
    sqlite_fits = writes <= f["sqlite_writes_per_second"] * f["cpu_target"]
    mongo_shards = math.ceil(writes / (f["mongodb_writes_per_second_per_shard"] * f["cpu_target"]))
    cores = processes  # one worker process per core (TASKWIRE_WORKERS = cores per machine)
    return {
        "people": people,
        "connections": connections,
        "writes_per_second": writes,
        "deliveries_per_second": deliveries,
        "processes": processes,
        "cores": cores,
        "memory_gib": processes * f["memory_per_process_mib"] / 1024,
        "bound_by": "memory"
        if connections / per_process_memory >= deliveries / delivery_capacity + writes / write_capacity
        else "CPU",
        "redis_deliveries_per_second": redis_deliveries,
        "redis_shards": max(1, redis_shards),
        "store": "SQLite (one file)" if sqlite_fits else f"MongoDB, {mongo_shards} shard(s)",
    }


def table(figures: dict[str, float]) -> str:
    rows = [
        "| connected people | writes/s | deliveries/s | Taskwire processes (cores) | bound by | RAM | "
        "Redis deliveries/s | Redis shards | store |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for people in PEOPLE:
        p = plan(people, figures)
        rows.append(
            f"| {people:,} | {p['writes_per_second']:,.0f} | {p['deliveries_per_second']:,.0f} | "
            f"{p['processes']:,} | {p['bound_by']} | {p['memory_gib']:,.0f} GiB | "
            f"{p['redis_deliveries_per_second']:,.0f} | {p['redis_shards']} | {p['store']} |"
        )
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=Path, default=INPUTS)
    parser.add_argument("--pubsub", type=Path, help="output of bench/pubsub.py --json (its 1-shard figure)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override one input")
    args = parser.parse_args()
    print(table(load_inputs(args.inputs, args.pubsub, args.set)), end="")


if __name__ == "__main__":
    main()
