"""SQLite list_tasks on a growing board: the plans that keep a page's cost from growing
with the board (issue 13), and the same answers whichever plan runs."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.domain.models import Board, Task, TaskFilter, TaskPageRequest, TaskSort, stored_sort_keys, task_sort_key
from app.store import sqlite_tasks
from app.store.sqlite import SQLiteStore
from app.store.sqlite_boards import BOARD_ROWS as BoardRows
from app.store.sqlite_pool import connect
from app.store.sqlite_tasks import TASK_ROWS as TaskRows
from tests.store.conftest import Make
from tests.support.sqlite_plans import RecordingConnection, query_plan

# Enough that the planner cannot hide a board walk behind a tiny table.
FILLER = 40


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "taskwire.db")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def db(sqlite_store: SQLiteStore, tmp_path: Path) -> sqlite3.Connection:
    return connect(str(tmp_path / "taskwire.db"))


def run(conn: sqlite3.Connection, board: Board, total: bool = False, **wanted: str) -> RecordingConnection:
    recorder = RecordingConnection(conn)
    request = TaskPageRequest(board.id, TaskFilter(**wanted), TaskSort.POSITION, 20, None, total)
    sqlite_tasks.list_tasks(recorder, request)  # type: ignore[arg-type]
    return recorder


def plans(conn: sqlite3.Connection, recorder: RecordingConnection) -> list[str]:
    return [" | ".join(query_plan(conn, sql, params)) for sql, params in recorder.statements]


async def seed(make: Make, board: Board) -> None:
    for number in range(FILLER):
        await make.task(board, title=f"common words {number}", labels=["bug"], assignees=["ann"])
    await make.task(board, title="the quokka", labels=["rare"], assignees=["ray"])


@pytest.mark.parametrize(
    "wanted",
    [
        {"text": "quokka"},
        {"label": "rare"},
        {"assignee": "ray"},
        {"text": "quokka", "label": "bug"},
        {"text": "quokka qu"},
    ],
)
async def test_a_rare_match_is_read_from_its_own_rows_not_by_walking_the_board(
    sqlite_store: SQLiteStore, db: sqlite3.Connection, wanted: dict[str, str]
) -> None:
    make = Make(sqlite_store)
    board = await make.board()
    await seed(make, board)

    for plan in plans(db, run(db, board, total=True, **wanted)):
        assert "tasks_position" not in plan and "(board_id=?)" not in plan, plan


@pytest.mark.parametrize("wanted", [{"label": "bug"}, {"assignee": "ann"}, {"text": "common"}])
async def test_a_common_match_walks_the_page_without_listing_every_match_first(
    sqlite_store: SQLiteStore, db: sqlite3.Connection, wanted: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_tasks, "DRIVING_MATCHES", FILLER // 2)
    make = Make(sqlite_store)
    board = await make.board()
    await seed(make, board)

    page_plan = plans(db, run(db, board, **wanted))[-1]

    assert page_plan.startswith("SEARCH t USING INDEX tasks_position (board_id=?)"), page_plan
    if "text" not in wanted:
        assert "LIST SUBQUERY" not in page_plan, page_plan


async def test_the_full_text_side_of_a_search_lists_only_the_boards_own_matches(
    sqlite_store: SQLiteStore, db: sqlite3.Connection
) -> None:
    make = Make(sqlite_store)
    board, other = await make.board(), await make.board()
    await seed(make, board)
    await seed(make, other)
    own = {row[0] for row in db.execute("SELECT rid FROM tasks WHERE board_id = ?", (board.id,))}

    statements = run(db, board, text="common").statements
    full_text = [(sql, params) for sql, params in statements if sql.startswith("SELECT rowid FROM tasks_fts")]

    assert full_text
    for sql, params in full_text:
        rowids = {row[0] for row in db.execute(sql, params)}
        assert rowids and rowids <= own


async def test_every_plan_gives_the_same_pages_and_totals(
    sqlite_store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    make = Make(sqlite_store)
    board = await make.board()
    words = ["alpha beta", "beta gamma", "gamma", "alphabet soup"]
    tasks = [
        await make.task(
            board,
            title=words[n % 4],
            description=f"number {n}",
            status=["todo", "doing"][n % 2],
            labels=[["bug"], ["ui"], [], ["bug", "ui"]][n % 4][:],
            assignees=[["ann"], ["bo"], []][n % 3],
            position=f"p{(n * 7) % 30:03d}",
        )
        for n in range(30)
    ]
    await make.task(await make.board(), title="alpha beta", labels=["bug"], assignees=["ann"])
    filters = [
        dict(zip(("text", "label", "assignee", "status"), combo, strict=True))
        for combo in itertools.product(
            [None, "alpha", "beta gam", "beta ga", "al", "nothing"], [None, "bug", "ui"], [None, "ann"], [None, "doing"]
        )
    ]
    for combination in filters:
        wanted = {key: value for key, value in combination.items() if value is not None}
        expected = [task.id for task in sorted(tasks, key=lambda t: (t.position, t.id)) if matches(task, wanted)]
        for threshold in (0, 3, 1000):
            monkeypatch.setattr(sqlite_tasks, "DRIVING_MATCHES", threshold)
            assert await all_pages(sqlite_store, board, wanted) == (expected, len(expected)), (wanted, threshold)


def matches(task: Task, wanted: dict[str, str]) -> bool:
    text = f"{task.title} {task.description}".split()
    if "text" in wanted:
        *whole, last = wanted["text"].split()
        if not all(word in text for word in whole) or not any(word.startswith(last) for word in text):
            return False
    return (
        wanted.get("label") in (None, *task.labels)
        and wanted.get("assignee") in (None, *task.assignees)
        and wanted.get("status") in (None, task.status)
    )


async def all_pages(store: SQLiteStore, board: Board, wanted: dict[str, str]) -> tuple[list[str], int | None]:
    found: list[str] = []
    after = None
    total = None
    while True:
        page = await store.list_tasks(
            TaskPageRequest(board.id, TaskFilter(**wanted), TaskSort.POSITION, 4, after, total is None)
        )
        total = page.total if total is None else total
        found += [task.id for task in page.items]
        if not page.has_more:
            return found, total
        after = (task_sort_key(page.items[-1], TaskSort.POSITION), page.items[-1].id)


def _insert_as_of_schema(conn: sqlite3.Connection, table: str, values: dict[str, object]) -> None:
    columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    kept = {name: value for name, value in values.items() if name in columns}
    conn.execute(f"INSERT INTO {table} ({', '.join(kept)}) VALUES ({', '.join('?' * len(kept))})", list(kept.values()))


async def test_a_file_from_before_the_board_scoped_index_is_upgraded_and_still_finds_its_tasks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.store import sqlite_schema

    path = tmp_path / "taskwire.db"
    # The old file is written in SQL of its time: today's records have columns it lacks.
    monkeypatch.setattr(sqlite_schema, "MIGRATIONS", sqlite_schema.MIGRATIONS[:4])
    store = SQLiteStore(path)
    await store.open()
    await store.close()
    monkeypatch.undo()
    # Rows as that version kept them: only the columns its tables have (fields added since
    # are not there yet), written as records of today.
    make = Make(store)
    board = make.board_record()
    before = [make.task_record(board, title=f"written before {n}") for n in range(3)]
    with sqlite3.connect(path) as conn:
        _insert_as_of_schema(conn, "boards", BoardRows.named(board))
        for task in before:
            _insert_as_of_schema(conn, "tasks", {**TaskRows.named(task), **stored_sort_keys(task)})

    store = SQLiteStore(path)
    await store.open()
    try:
        after = await Make(store).task(board, title="written after")
        page = await store.list_tasks(TaskPageRequest(board.id, TaskFilter(text="written"), TaskSort.POSITION, 50))
        assert {task.id for task in page.items} == {task.id for task in [*before, after]}
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(sqlite_schema.MIGRATIONS)
        # Compares the full-text index with the tasks table; raises if they disagree.
        conn.execute("INSERT INTO tasks_fts (tasks_fts, rank) VALUES ('integrity-check', 1)")
