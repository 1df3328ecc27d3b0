"""Growth benchmark: one board of 1k, 20k and 100k tasks, its list, search and filter
queries and its export.

Builds every board through the operations CLI (``python -m app import-board`` of a
generated export file) into one store, so the largest board's rows sit beside the others
as they would in a real deployment, then for each board times the first page (50 tasks,
the API's default) of: the board in position order, one column, a rare word (3 tasks), a
common word (a quarter of the tasks), a label (about a tenth) and an assignee (about a
fifth). SQLite (the default): the statements ``list_tasks`` runs, captured and re-run on
their own (median SQL time of the page query and of the total count) with their
``EXPLAIN QUERY PLAN``. Then ``python -m app export-board`` of each board: wall time, file
size and the peak RSS of the export process.

    .venv/bin/python bench/growth.py                           # 1k, 20k, 100k on SQLite
    .venv/bin/python bench/growth.py --sizes 1000,20000
    .venv/bin/python bench/growth.py --data-dir /tmp/g            # keep the store, then
    .venv/bin/python bench/growth.py --data-dir /tmp/g --reuse    # measure it again
    .venv/bin/python bench/growth.py --mongo --sizes 500,2000   # mongoeco: explain plans

``--mongo`` starts mongoeco's wire server and reports, for the same filters, the query
shape ``list_tasks`` sends, its explain plan (the stages and the index chosen) and the
store's time per call. mongoeco is a pure-Python emulator: its times say nothing about a
real MongoDB, its plans show whether the filter can use an index at all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from app.domain import clock  # noqa: E402
from app.domain.ids import new_id  # noqa: E402
from app.domain.models import TaskFilter, TaskPageRequest, TaskSort, User  # noqa: E402
from app.ops.board_export import FORMAT, FORMAT_VERSION  # noqa: E402
from app.store import create_store  # noqa: E402
from app.store.base import Store  # noqa: E402
from tests.support.sqlite_plans import RecordingConnection, query_plan  # noqa: E402

COLUMNS = ["todo", "doing", "review", "done"]
LABELS = [f"label{number}" for number in range(10)]
PEOPLE = 8
OWNER_EMAIL = "owner@growth.test"
RARE_WORD = "quokka"  # in exactly 3 tasks of each board
COMMON_WORD = "release"  # in a quarter of the tasks
PAGE = 50
SEED = 13


@dataclass
class Operation:
    name: str
    task_filter: TaskFilter


@dataclass
class Measured:
    board_size: int
    op: str
    rows: int
    total: int | None
    page_ms: float
    count_ms: float | None = None
    store_ms: float | None = None
    plan: list[str] = field(default_factory=list)


def say(message: str) -> None:
    print(f"growth: {message}", flush=True)


# -- the data -------------------------------------------------------------------------------


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """3,000 made-up words with Zipf weights; none is the rare or the common word."""
    syllables = ["ka", "lo", "mi", "ter", "van", "su", "ne", "ro", "pa", "dil", "gor", "fen", "tu", "bex", "ha"]
    words: set[str] = set()
    while len(words) < 3000:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    ordered = sorted(words - {RARE_WORD, COMMON_WORD})
    rng.shuffle(ordered)
    return ordered, [1 / rank for rank in range(1, len(ordered) + 1)]


def export_document(size: int, people: dict[str, str], seed: int) -> dict[str, Any]:
    """An export file (the format export-board writes) holding ``size`` tasks of ~1 KB."""
    rng = random.Random(seed)
    words, weights = vocabulary(rng)
    at = clock.now()
    member_ids = [old_id for old_id, email in people.items() if email != OWNER_EMAIL]
    owner_old = next(old_id for old_id, email in people.items() if email == OWNER_EMAIL)
    rare = set(rng.sample(range(size), 3))
    tasks = []
    for index in range(size):
        title = rng.choices(words, weights, k=rng.randint(3, 7))
        description = rng.choices(words, weights, k=rng.randint(80, 170))
        if index % 4 == 0:
            description[rng.randrange(len(description))] = COMMON_WORD
        if index in rare:
            description[rng.randrange(len(description))] = RARE_WORD
        status = COLUMNS[index % len(COLUMNS)]
        tasks.append(
            {
                "id": new_id(),
                "board_id": "source",
                "title": " ".join(title).capitalize(),
                "description": " ".join(description),
                "status": status,
                "priority": rng.choice(["low", "medium", "high", "urgent"]),
                "assignees": rng.sample(member_ids, rng.choice([0, 1, 1, 2])),
                "labels": rng.sample(LABELS, rng.choice([0, 1, 1, 2])),
                "due_at": None if index % 3 else f"2031-{1 + index % 12:02d}-{1 + index % 28:02d}T09:00:00.000000Z",
                # Column order scrambled against creation order, as after months of moves.
                "position": f"a{rng.randrange(10**9):09d}{index:07d}",
                "created_by": rng.choice([owner_old, *member_ids]),
                "created_at": at,
                "updated_at": at,
                "version": 1,
            }
        )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": at,
        "board": {"id": "source", "name": f"Growth {size}", "description": "", "columns": COLUMNS},
        "members": [
            {"user_id": old_id, "email": email, "role": "owner" if email == OWNER_EMAIL else "editor"}
            for old_id, email in people.items()
        ],
        "users": people,
        "tasks": tasks,
        "events": [],
    }


async def create_people(store: Store) -> dict[str, str]:
    """The owner and the members on this deployment; returns export-side ids -> emails."""
    emails = [OWNER_EMAIL] + [f"person{number}@growth.test" for number in range(PEOPLE)]
    for email in emails:
        if await store.get_user_by_email(email) is None:
            at = clock.now()
            await store.create_user(User(new_id(), email, email.split("@")[0], "not-a-real-hash", at, at))
    return {f"old-{email}": email for email in emails}


# -- the CLI --------------------------------------------------------------------------------


def app_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TASKWIRE_")}
    env["TASKWIRE_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        env["TASKWIRE_DATABASE_URL"] = database_url
    return env


@dataclass
class CommandRun:
    seconds: float
    peak_rss_kib: int
    output: list[str]


def watch_peak_rss(pid: int, peak: list[int]) -> None:
    """Keep the process's VmHWM (its own high-water RSS) in ``peak[0]`` until it exits.
    Not wait4's ru_maxrss: on Linux a child inherits its parent's high-water mark at
    fork, and this script holds a generated board in memory."""
    while True:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        if found is None:  # a zombie: the process has exited
            return
        peak[0] = max(peak[0], int(found.group(1)))
        time.sleep(0.02)


def run_app(env: dict[str, str], *args: str, echo_every: int = 0) -> CommandRun:
    """Run ``python -m app ARGS``; echo its progress lines (every ``echo_every``-th task
    count) and return its wall time and peak RSS."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peak = [0]
    watcher = threading.Thread(target=watch_peak_rss, args=(proc.pid, peak), daemon=True)
    watcher.start()
    output: list[str] = []
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.rstrip("\n")
        output.append(line)
        count = re.search(r"(\d+)(?:/\d+)? (?:tasks|events)$", line)
        if echo_every == 0 or count is None or int(count.group(1)) % echo_every == 0:
            print(f"  {line}", flush=True)
    watcher.join()
    proc.wait()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"python -m app {' '.join(args)} failed ({proc.returncode}):\n" + "\n".join(output[-20:]))
    return CommandRun(seconds, peak[0], output)


def import_board(env: dict[str, str], source: Path, size: int) -> tuple[str, CommandRun]:
    run = run_app(env, "import-board", str(source), "--owner-email", OWNER_EMAIL, echo_every=max(size // 5, 100))
    done = next(line for line in run.output if line.startswith("import-board: done: board "))
    return done.split("board ")[1].split(";")[0], run


# -- the queries ----------------------------------------------------------------------------


def operations(person_email_id: str) -> list[Operation]:
    return [
        Operation("list", TaskFilter()),
        Operation("list column", TaskFilter(status="doing")),
        Operation("search rare", TaskFilter(text=RARE_WORD)),
        Operation("search common", TaskFilter(text=COMMON_WORD)),
        # Two letters, as typed into a search box: most tasks have a word starting so.
        Operation("search prefix", TaskFilter(text="ka")),
        Operation("search 2 words", TaskFilter(text=f"{RARE_WORD} {COMMON_WORD[:3]}")),
        Operation("label", TaskFilter(label=LABELS[3])),
        Operation("label unused", TaskFilter(label="unused")),
        Operation("assignee", TaskFilter(assignee=person_email_id)),
        Operation("assignee+column", TaskFilter(assignee=person_email_id, status="review")),
    ]


def median_ms(work: Any, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def measure_sqlite(db_path: Path, board_id: str, size: int, op: Operation, repeat: int) -> Measured:
    from app.store import sqlite_tasks
    from app.store.sqlite_pool import connect

    conn = connect(str(db_path))
    try:
        request = TaskPageRequest(board_id, op.task_filter, TaskSort.POSITION, PAGE, None, True)
        recorder = RecordingConnection(conn)
        page = sqlite_tasks.list_tasks(recorder, request)  # type: ignore[arg-type]
        # Whatever list_tasks runs before the total and the page (probes) counts as the page's.
        *before, count_sql, page_sql = recorder.statements

        def page_statements() -> None:
            for statement in [*before, page_sql]:
                conn.execute(*statement).fetchall()

        page_ms = median_ms(page_statements, repeat)
        count_ms = median_ms(lambda: conn.execute(*count_sql).fetchall(), repeat)
        untimed = TaskPageRequest(board_id, op.task_filter, TaskSort.POSITION, PAGE)
        store_ms = median_ms(lambda: sqlite_tasks.list_tasks(conn, untimed), repeat)
        plan = [line for sql, params in [*before, page_sql] for line in query_plan(conn, sql, params)]
    finally:
        conn.close()
    return Measured(size, op.name, len(page.items), page.total, page_ms, count_ms, store_ms, plan)


async def measure_mongo(
    store: Store, database_url: str, board_id: str, size: int, op: Operation, repeat: int
) -> Measured:
    from pymongo import AsyncMongoClient

    from app.store.mongo_query import base_filter, sort_spec

    request = TaskPageRequest(board_id, op.task_filter, TaskSort.POSITION, PAGE)
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        page = await store.list_tasks(request)
        samples.append((time.perf_counter() - began) * 1000)
    query = base_filter(board_id, op.task_filter)
    client: AsyncMongoClient[Any] = AsyncMongoClient(database_url)
    try:
        cursor = client.get_default_database()["tasks"].find(query).sort(sort_spec(TaskSort.POSITION))
        explained = await cursor.limit(PAGE + 1).explain()
    finally:
        await client.close()
    plan = [json.dumps(query, default=str), *describe_mongo_plan(explained)]
    median = statistics.median(samples)
    return Measured(size, op.name, len(page.items), None, median, None, median, plan)


def describe_mongo_plan(explained: dict[str, Any]) -> list[str]:
    """A real server's winning plan (stages outermost first, with each index), or
    mongoeco's execution lineage (it scans and sorts in Python, whatever the indexes)."""
    lines = []
    stage: dict[str, Any] | None = explained.get("queryPlanner", {}).get("winningPlan")
    while isinstance(stage, dict):
        lines.append(f"{stage.get('stage', '?')} {stage.get('indexName', '')}".strip())
        stage = stage.get("inputStage")
    if "execution_lineage" in explained:
        phases = " -> ".join(f"{step['phase']} ({step['detail']})" for step in explained["execution_lineage"])
        text_index = explained.get("details", {}).get("textQuery", {}).get("index")
        lines.append(
            f"{explained.get('engine')}/{explained.get('strategy')}: {phases}"
            + (f"; text index {text_index}" if text_index else "")
        )
    return lines or [json.dumps(explained, default=str)[:400]]


def print_result(result: Measured) -> None:
    count = "" if result.count_ms is None else f"  count {result.count_ms:8.2f} ms"
    store = "" if result.store_ms is None else f"  store {result.store_ms:8.2f} ms"
    total = "" if result.total is None else f" of {result.total}"
    say(
        f"{result.board_size:>7} tasks  {result.op:<15}  page {result.page_ms:8.2f} ms{count}{store}"
        f"  ({result.rows}{total} rows)"
    )
    for line in result.plan:
        print(f"      {line}", flush=True)


# -- the run --------------------------------------------------------------------------------


async def prepare(database_url: str) -> dict[str, str]:
    store = create_store(database_url)
    await store.open()
    try:
        return await create_people(store)
    finally:
        await store.close()


async def person_id(database_url: str, email: str) -> str:
    store = create_store(database_url)
    await store.open()
    try:
        user = await store.get_user_by_email(email)
        assert user is not None
        return user.id
    finally:
        await store.close()


async def existing_boards(database_url: str, sizes: list[int]) -> dict[int, str]:
    """The boards a previous run with the same --data-dir built, by name."""
    store = create_store(database_url)
    await store.open()
    try:
        owner = await store.get_user_by_email(OWNER_EMAIL)
        assert owner is not None
        named = {board.name: board.id for board, _ in await store.list_boards_for_user(owner.id, None, 1000)}
    finally:
        await store.close()
    return {size: named[f"Growth {size}"] for size in sizes if f"Growth {size}" in named}


def build_boards(
    args: argparse.Namespace, env: dict[str, str], people: dict[str, str], boards: dict[int, str]
) -> dict[int, str]:
    for number, size in enumerate(args.sizes):
        if size in boards:
            say(f"{size} tasks: reusing board {boards[size]}")
            continue
        source = args.data_dir / f"growth-{size}.json"
        began = time.perf_counter()
        source.write_text(json.dumps(export_document(size, people, SEED + number)))
        say(
            f"{size} tasks: wrote {source.name} ({source.stat().st_size / 2**20:.1f} MiB) in "
            f"{time.perf_counter() - began:.1f} s; importing"
        )
        board_id, run = import_board(env, source, size)
        say(
            f"{size} tasks: imported as board {board_id} in {run.seconds:.1f} s "
            f"({size / run.seconds:.0f} tasks/s, peak RSS {run.peak_rss_kib / 1024:.0f} MiB)"
        )
        boards[size] = board_id
        source.unlink()
    return dict(sorted(boards.items()))


async def measure_boards(args: argparse.Namespace, database_url: str, boards: dict[int, str]) -> list[Measured]:
    assignee = await person_id(database_url, "person2@growth.test")
    results = []
    store = None
    if args.mongo:
        store = create_store(database_url)
        await store.open()
    try:
        for size, board_id in boards.items():
            for op in operations(assignee):
                if store is None:
                    result = measure_sqlite(args.data_dir / "taskwire.db", board_id, size, op, args.repeat)
                else:
                    result = await measure_mongo(store, database_url, board_id, size, op, args.repeat)
                print_result(result)
                results.append(result)
    finally:
        if store is not None:
            await store.close()
    return results


def export_boards(args: argparse.Namespace, env: dict[str, str], boards: dict[int, str]) -> list[dict[str, Any]]:
    exports = []
    for size, board_id in boards.items():
        target = args.data_dir / f"export-{size}.json"
        run = run_app(
            env, "export-board", board_id, "--output", str(target), "--force", echo_every=max(size // 5, 1000)
        )
        file_mib = target.stat().st_size / 2**20
        exports.append(
            {"board_size": size, "seconds": run.seconds, "file_mib": file_mib, "peak_rss_mib": run.peak_rss_kib / 1024}
        )
        say(
            f"{size:>7} tasks  export  {run.seconds:6.1f} s  file {file_mib:7.1f} MiB  "
            f"peak RSS {run.peak_rss_kib / 1024:7.1f} MiB ({run.peak_rss_kib / 1024 / file_mib:.2f}x the file)"
        )
        target.unlink()
    return exports


def summary(results: list[Measured], exports: list[dict[str, Any]]) -> None:
    sizes = sorted({result.board_size for result in results})
    print("\n| op | " + " | ".join(f"{size:,} tasks" for size in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for op in dict.fromkeys(result.op for result in results):
        cells = []
        for size in sizes:
            found = next(r for r in results if r.op == op and r.board_size == size)
            count = "" if found.count_ms is None else f" / {found.count_ms:.2f}"
            cells.append(f"{found.page_ms:.2f}{count} ms")
        print(f"| {op} | " + " | ".join(cells) + " |")
    for export in exports:
        print(
            f"| export {export['board_size']:,} | {export['seconds']:.1f} s, {export['file_mib']:.1f} MiB file, "
            f"peak RSS {export['peak_rss_mib']:.0f} MiB |"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", default="1000,20000,100000", type=lambda text: [int(part) for part in text.split(",")]
    )
    parser.add_argument("--repeat", type=int, default=15, help="runs of each query; the median is reported")
    parser.add_argument("--data-dir", type=Path, help="where the store goes (default: a temporary folder)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the boards an earlier run left in --data-dir instead of building them again",
    )
    parser.add_argument("--mongo", action="store_true", help="run on mongoeco's wire server instead of SQLite")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="taskwire-growth-") as scratch:
        args.data_dir = (args.data_dir or Path(scratch)).resolve()
        args.data_dir.mkdir(parents=True, exist_ok=True)
        if args.mongo:
            from tests.support.services import mongo_wire_server

            with mongo_wire_server() as server:
                database_url = f"mongodb://127.0.0.1:{server.port}/growth?directConnection=true"
                run(args, database_url, app_env(args.data_dir, database_url))
        else:
            run(args, f"sqlite:///{args.data_dir / 'taskwire.db'}", app_env(args.data_dir, None))


def run(args: argparse.Namespace, database_url: str, env: dict[str, str]) -> None:
    say(f"store {database_url.split('?')[0]}, boards of {', '.join(map(str, args.sizes))} tasks")
    people = asyncio.run(prepare(database_url))
    reused = asyncio.run(existing_boards(database_url, args.sizes)) if args.reuse else {}
    boards = build_boards(args, env, people, reused)
    results = asyncio.run(measure_boards(args, database_url, boards))
    exports = [] if args.no_export else export_boards(args, env, boards)
    summary(results, exports)
    if args.json is not None:
        args.json.write_text(json.dumps({"results": [vars(r) for r in results], "exports": exports}, indent=1))


if __name__ == "__main__":
    main()
