"""SQLite only: what the file itself must guarantee, including several processes sharing it."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.store import sqlite_schema
from app.store.base import StoreUnavailable
from app.store.sqlite import SQLiteStore
from app.store.sqlite_schema import MIGRATIONS
from tests.store.conftest import Make
from tests.store.test_attachments_contract import BIG, add, content_of
from tests.support.services import REPO_ROOT

# Run by each child process: open the shared file, say "ready", wait for "go" on stdin so
# that both processes write at the same moment, then create tasks on one board.
_WRITER = """
import asyncio, sys
from app.domain.clock import now
from app.domain.ids import new_id
from app.domain.models import EventDraft, Priority, Task
from app.store.base import StoreUnavailable
from app.store.sqlite import SQLiteStore

async def main(path, board_id, count, name):
    store = SQLiteStore(path)
    await store.open()
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(count):
        at = now()
        task = Task(new_id(), board_id, f"{name} {n}", "", "todo", Priority.LOW, [], [], None,
                    f"{name}{n:03d}", name, at, at)
        await store.create_task(task, EventDraft("task.created", name, at, {"id": task.id}))
        # A breath between writes lets the other process take the lock, so that the two
        # processes' writes interleave instead of running as two blocks.
        await asyncio.sleep(0.001)
    await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
"""


@pytest.fixture
async def sqlite_make(tmp_path: Path) -> AsyncIterator[Make]:
    store = SQLiteStore(tmp_path / "shared" / "taskwire.db")
    await store.open()
    try:
        yield Make(store)
    finally:
        await store.close()


def _spawn(path: Path, board_id: str, count: int, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), board_id, str(count), name],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _run_together(processes: list[subprocess.Popen[str]]) -> None:
    for proc in processes:
        assert proc.stdout is not None
        line = await asyncio.to_thread(proc.stdout.readline)
        assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
    for proc in processes:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in processes:
        _, errors = await asyncio.to_thread(proc.communicate, timeout=60)
        assert proc.returncode == 0, errors


async def test_two_processes_writing_one_board_get_seqs_one_to_n(sqlite_make: Make, tmp_path: Path) -> None:
    store = sqlite_make.store
    board = await sqlite_make.board()
    path = tmp_path / "shared" / "taskwire.db"

    await _run_together([_spawn(path, board.id, 50, "left"), _spawn(path, board.id, 50, "right")])

    events = await store.list_events(board.id, 0, 1000)
    assert [e.seq for e in events] == list(range(1, 101))
    assert sorted(e.actor for e in events) == ["left"] * 50 + ["right"] * 50
    assert (await store.get_board(board.id)).seq == 100  # type: ignore[union-attr]


async def test_two_processes_opening_a_new_file_at_once_both_succeed(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "taskwire.db"
    path.parent.mkdir()

    # Zero tasks each: these processes only open (and so migrate) the new file.
    processes = [_spawn(path, "no-such-board", 0, name) for name in ("left", "right")]
    await _run_together(processes)

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_open_creates_the_folder_and_reopening_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "taskwire.db"
    first = SQLiteStore(path)
    await first.open()
    user = await Make(first).user()
    await first.close()

    again = SQLiteStore(path)
    await again.open()
    try:
        assert await again.get_user(user.id) == user
        await again.ping()
    finally:
        await again.close()


async def test_deleted_board_leaves_no_row_behind_in_any_table(sqlite_make: Make, tmp_path: Path) -> None:
    board = await sqlite_make.board()
    await sqlite_make.member(board)
    for n in range(3):
        await sqlite_make.task(board, title=f"words {n}", assignees=["u1"], labels=["bug"])

    await sqlite_make.store.delete_board(board.id)

    with sqlite3.connect(tmp_path / "shared" / "taskwire.db") as conn:
        for table in ("boards", "members", "events", "tasks", "task_assignees", "task_labels"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
        assert conn.execute("SELECT count(*) FROM tasks_fts WHERE tasks_fts MATCH 'words'").fetchone()[0] == 0
        # Compares the full-text index with the tasks table; raises if they disagree.
        conn.execute("INSERT INTO tasks_fts (tasks_fts, rank) VALUES ('integrity-check', 1)")


async def test_a_file_that_cannot_be_a_database_makes_the_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not an SQLite file" * 100)

    for path in (blocker / "taskwire.db", garbage):
        with pytest.raises(StoreUnavailable):
            await SQLiteStore(path).open()


async def test_a_closed_store_is_unavailable(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "taskwire.db")
    await store.open()
    await store.close()

    with pytest.raises(StoreUnavailable):
        await store.ping()
    with pytest.raises(StoreUnavailable):
        await store.get_user("anyone")


async def test_a_file_from_before_files_outlived_their_task_row_keeps_every_attachment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "taskwire.db"
    monkeypatch.setattr(sqlite_schema, "MIGRATIONS", MIGRATIONS[:-1])
    old = SQLiteStore(path)
    await old.open()
    make = Make(old)
    board = await make.board()
    task, other = await make.task(board), await make.task(board)
    attachment = await add(old, make, task, BIG, thumbnail=b"thumb")
    await add(old, make, other, b"other")
    await old.close()
    monkeypatch.undo()

    store = SQLiteStore(path)
    await store.open()
    try:
        assert await store.get_attachment(attachment.id) == attachment
        assert await content_of(store, attachment.id) == BIG
        assert await store.get_attachment_thumbnail(attachment.id) == b"thumb"
        # The row of a task in the trash is gone; its file stays until the purge.
        await store.trash_task(task.id, None, "deleter", make.draft("task.deleted"))
        assert await content_of(store, attachment.id) == BIG
        await store.purge_trashed_task(task.id, make.draft("task.purged"))
        assert await store.open_attachment(attachment.id) is None
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert [row[2] for row in conn.execute("PRAGMA foreign_key_list(attachments)")] == ["boards"]
        assert [row[2] for row in conn.execute("PRAGMA foreign_key_list(attachment_chunks)")] == ["attachments"]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT count(*) FROM attachment_chunks").fetchone()[0] == 1  # the other file's
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not {name for name in tables if name.endswith("_old")}
