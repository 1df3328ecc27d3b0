"""The operations commands, run for real: ``python -m app <command>`` as a subprocess on a
store in a temp dir, seeded through the Store protocol."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.domain import clock
from app.domain.ids import new_id
from app.domain.models import (
    Board,
    EventDraft,
    Member,
    Priority,
    Role,
    Task,
    TaskFilter,
    TaskPageRequest,
    TaskSort,
    User,
)
from app.domain.views import member_view, task_view
from app.store import create_store
from app.store.base import Store
from tests.support.app_fixtures import mongo_database_url
from tests.support.services import REPO_ROOT


def run_app(
    *args: str, data_dir: Path, database_url: str | None = None, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TASKWIRE_")}
    env["TASKWIRE_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        env["TASKWIRE_DATABASE_URL"] = database_url
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'taskwire.db'}"


async def opened(url: str) -> Store:
    store = create_store(url)
    await store.open()
    return store


async def add_user(store: Store, email: str, name: str) -> User:
    at = clock.now()
    user = User(new_id(), email, name, "not-a-real-hash", at, at)
    await store.create_user(user)
    return user


async def add_task(
    store: Store,
    board: Board,
    actor: User,
    title: str,
    status: str,
    position: str,
    assignees: list[str],
    labels: list[str],
) -> Task:
    at = clock.now()
    task = Task(
        new_id(),
        board.id,
        title,
        f"about {title}",
        status,
        Priority.HIGH,
        assignees,
        labels,
        "2030-01-02T03:04:05.000000Z",
        position,
        actor.id,
        at,
        at,
    )
    await store.create_task(task, EventDraft("task.created", actor.id, at, task_view(task)))
    return task


async def seed_shared_board(store: Store) -> tuple[Board, dict[str, User]]:
    """A board of Ada's shared with Bob (editor) and Cy (viewer), with three tasks."""
    people = {name: await add_user(store, f"{name.lower()}@example.com", name) for name in ("Ada", "Bob", "Cy")}
    at = clock.now()
    board = Board(new_id(), "Launch", "the spring launch", ["todo", "doing", "done"], people["Ada"].id, at, at)
    await store.create_board(board, Member(board.id, people["Ada"].id, Role.OWNER, at))
    for name, role in (("Bob", Role.EDITOR), ("Cy", Role.VIEWER)):
        member = Member(board.id, people[name].id, role, at, email=people[name].email, name=name)
        await store.add_member(member, EventDraft("member.added", people["Ada"].id, at, member_view(member)))
    ada, bob, cy = people["Ada"], people["Bob"], people["Cy"]
    await add_task(store, board, ada, "Write the post", "todo", "a0", [bob.id, cy.id], ["blog"])
    await add_task(store, board, bob, "Record the demo", "todo", "a1", [bob.id], [])
    await add_task(store, board, ada, "Book the room", "done", "a0", [], ["office", "admin"])
    return board, people


async def test_backup_writes_a_valid_sqlite_file_with_the_data_while_the_store_is_open(tmp_path: Path) -> None:
    store = await opened(sqlite_url(tmp_path))
    try:
        for number in range(25):
            await add_user(store, f"user{number}@example.com", f"User {number}")
        # The store stays open, as a running server's would: the backup must see its commits.
        result = run_app("backup", "--output", str(tmp_path / "backups" / "tw.db"), data_dir=tmp_path)
    finally:
        await store.close()
    assert result.returncode == 0, result.stderr
    assert "100% (" in result.stdout and "integrity ok" in result.stdout
    copy = sqlite3.connect(tmp_path / "backups" / "tw.db")
    try:
        assert copy.execute("SELECT count(*) FROM users").fetchone()[0] == 25
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        copy.close()
    assert not list((tmp_path / "backups").glob(".*partial")), "no partial file may be left behind"
    assert not (tmp_path / "secret_key").exists(), "an ops command must not generate a secret key"


def test_backup_keeps_an_existing_file_unless_forced(tmp_path: Path) -> None:
    assert run_app("create-indexes", data_dir=tmp_path).returncode == 0
    target = tmp_path / "old.db"
    target.write_bytes(b"an older backup")
    refused = run_app("backup", "--output", str(target), data_dir=tmp_path)
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert target.read_bytes() == b"an older backup"
    forced = run_app("backup", "--output", str(target), "--force", data_dir=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert target.read_bytes().startswith(b"SQLite format 3\x00")


def test_backup_of_a_missing_database_fails_without_creating_one(tmp_path: Path) -> None:
    result = run_app("backup", "--output", str(tmp_path / "b.db"), data_dir=tmp_path / "nothing")
    assert result.returncode == 1 and "no database at" in result.stderr
    assert not (tmp_path / "nothing").exists()


def test_backup_on_mongodb_refuses_and_points_at_mongodump(tmp_path: Path) -> None:
    # Nothing listens on port 1: the refusal must come before any connection attempt.
    result = run_app(
        "backup", "--output", str(tmp_path / "b.db"), data_dir=tmp_path, database_url="mongodb://127.0.0.1:1/taskwire"
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "mongodump" in result.stderr


def test_create_indexes_on_sqlite_creates_the_schema_and_lists_it(tmp_path: Path) -> None:
    from app.store.sqlite_schema import MIGRATIONS

    result = run_app("create-indexes", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"schema version {len(MIGRATIONS)}" in result.stdout
    for name in ("users_email", "members_user", "tasks_status_position", "tasks_fts (full-text)"):
        assert name in result.stdout
    assert (tmp_path / "taskwire.db").is_file()


def test_create_indexes_on_mongodb_lists_every_declared_index(tmp_path: Path, mongo_wire) -> None:
    from app.store.mongo_schema import INDEXES

    result = run_app("create-indexes", data_dir=tmp_path, database_url=mongo_database_url(mongo_wire.url))
    assert result.returncode == 0, result.stderr
    for spec in INDEXES:
        assert spec.name in result.stdout
    assert f"all {len(INDEXES)} indexes the store declares exist" in result.stdout


async def test_export_then_import_recreates_the_board_in_another_deployment(tmp_path: Path) -> None:
    source_dir, target_dir = tmp_path / "source", tmp_path / "target"
    store = await opened(sqlite_url(source_dir))
    try:
        board, _ = await seed_shared_board(store)
    finally:
        await store.close()
    export_file = tmp_path / "launch.json"
    exported = run_app("export-board", board.id, "--output", str(export_file), data_dir=source_dir)
    assert exported.returncode == 0, exported.stderr
    assert "3 tasks" in exported.stdout and "5 events" in exported.stdout
    document = json.loads(export_file.read_text())
    assert [event["seq"] for event in document["events"]] == [1, 2, 3, 4, 5]
    assert sorted(document["users"].values()) == ["ada@example.com", "bob@example.com", "cy@example.com"]

    # The other deployment knows Ada and Bob under other ids, and has never seen Cy.
    store = await opened(sqlite_url(target_dir))
    try:
        ada = await add_user(store, "ada@example.com", "Ada")
        bob = await add_user(store, "bob@example.com", "Bob")
    finally:
        await store.close()
    imported = run_app("import-board", str(export_file), data_dir=target_dir)
    assert imported.returncode == 0, imported.stderr
    assert "skipped member cy@example.com" in imported.stdout
    new_id_line = next(line for line in imported.stdout.splitlines() if line.startswith("import-board: done"))
    new_board_id = new_id_line.split("board ")[1].split(";")[0]
    assert new_board_id != board.id

    store = await opened(sqlite_url(target_dir))
    try:
        new_board = await store.get_board(new_board_id)
        assert new_board is not None
        assert (new_board.name, new_board.columns, new_board.created_by) == (
            "Launch",
            ["todo", "doing", "done"],
            ada.id,
        )
        members = {member.email: member.role for member in await store.list_members(new_board_id)}
        assert members == {"ada@example.com": Role.OWNER, "bob@example.com": Role.EDITOR}
        page = await store.list_tasks(TaskPageRequest(new_board_id, TaskFilter(), TaskSort.POSITION, 50))
        tasks = {task.title: task for task in page.items}
        assert set(tasks) == {"Write the post", "Record the demo", "Book the room"}
        assert tasks["Write the post"].assignees == [bob.id]  # Cy is not a member here
        assert tasks["Record the demo"].created_by == bob.id
        assert [(t.status, t.position) for t in (tasks["Write the post"], tasks["Record the demo"])] == [
            ("todo", "a0"),
            ("todo", "a1"),
        ]
        assert tasks["Book the room"].labels == ["office", "admin"]
        assert tasks["Book the room"].due_at == "2030-01-02T03:04:05.000000Z"
        events = await store.list_events(new_board_id, 0, 100)
        assert [event.type for event in events] == ["member.added"] + ["task.created"] * 3
    finally:
        await store.close()


async def test_import_with_an_unknown_owner_email_changes_nothing(tmp_path: Path) -> None:
    store = await opened(sqlite_url(tmp_path))
    try:
        board, _ = await seed_shared_board(store)
    finally:
        await store.close()
    export_file = tmp_path / "launch.json"
    assert run_app("export-board", board.id, "--output", str(export_file), data_dir=tmp_path).returncode == 0
    result = run_app("import-board", str(export_file), "--owner-email", "nobody@example.com", data_dir=tmp_path)
    assert result.returncode == 1 and result.stderr == "taskwire: no account has the email 'nobody@example.com'\n"
    store = await opened(sqlite_url(tmp_path))
    try:
        ada = await store.get_user_by_email("ada@example.com")
        assert ada is not None
        assert len(await store.list_boards_for_user(ada.id, None, 10)) == 1
    finally:
        await store.close()


def test_import_of_a_file_that_is_not_an_export_fails_in_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"hello": "world"}')
    result = run_app("import-board", str(bogus), data_dir=tmp_path)
    assert result.returncode == 1 and result.stderr == f"taskwire: {bogus} is not a Taskwire board export\n"


def test_export_of_an_unknown_board_fails_in_one_line(tmp_path: Path) -> None:
    result = run_app("export-board", "01NOSUCHBOARD", "--output", str(tmp_path / "x.json"), data_dir=tmp_path)
    assert result.returncode == 1 and result.stderr == "taskwire: no board with id '01NOSUCHBOARD'\n"
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize(
    ("command", "bad"),
    [
        (["serve"], {"TASKWIRE_DATABASE_URL": "postgres://db/taskwire"}),
        (["backup", "--output", "x.db"], {"PORT": "eighty"}),
        (["create-indexes"], {"TASKWIRE_LOG_LEVEL": "LOUD"}),
        (["export-board", "B", "--output", "x.json"], {"TASKWIRE_SECRET_KEY": "short"}),
    ],
)
def test_a_bad_setting_prints_one_line_and_exits_2(tmp_path: Path, command: list[str], bad: dict[str, str]) -> None:
    result = run_app(*command, data_dir=tmp_path, extra_env=bad)
    assert result.returncode == 2
    assert result.stderr.startswith("taskwire: ") and result.stderr.count("\n") == 1
    assert next(iter(bad)) in result.stderr
    assert result.stdout == ""


async def test_a_board_exported_from_sqlite_imports_into_mongodb(tmp_path: Path, mongo_wire) -> None:
    store = await opened(sqlite_url(tmp_path))
    try:
        board, _ = await seed_shared_board(store)
    finally:
        await store.close()
    export_file = tmp_path / "launch.json"
    assert run_app("export-board", board.id, "--output", str(export_file), data_dir=tmp_path).returncode == 0
    mongo_url = mongo_database_url(mongo_wire.url)
    store = await opened(mongo_url)
    try:
        await add_user(store, "bob@example.com", "Bob")
        imported = run_app(
            "import-board",
            str(export_file),
            "--owner-email",
            "BOB@example.com",
            data_dir=tmp_path,
            database_url=mongo_url,
        )
        assert imported.returncode == 0, imported.stderr
        assert "skipped member ada@example.com" in imported.stdout
        bob = await store.get_user_by_email("bob@example.com")
        assert bob is not None
        ((new_board, role),) = await store.list_boards_for_user(bob.id, None, 10)
        assert role == Role.OWNER and new_board.seq == 3  # three task.created events
        page = await store.list_tasks(TaskPageRequest(new_board.id, TaskFilter(), TaskSort.POSITION, 50))
        assert sorted(task.title for task in page.items) == ["Book the room", "Record the demo", "Write the post"]
        assert all(task.assignees in ([], [bob.id]) for task in page.items)
    finally:
        await store.close()


async def test_an_import_that_fails_partway_leaves_no_half_board(tmp_path: Path) -> None:
    store = await opened(sqlite_url(tmp_path))
    try:
        board, people = await seed_shared_board(store)
    finally:
        await store.close()
    export_file = tmp_path / "launch.json"
    assert run_app("export-board", board.id, "--output", str(export_file), data_dir=tmp_path).returncode == 0
    document = json.loads(export_file.read_text())
    document["tasks"][-1]["status"] = "archived"  # not a column: the last task cannot be created
    export_file.write_text(json.dumps(document))
    result = run_app("import-board", str(export_file), data_dir=tmp_path)
    assert result.returncode == 1 and "'archived', not a column" in result.stderr
    assert "removed the partly imported board" in result.stdout
    store = await opened(sqlite_url(tmp_path))
    try:
        assert [b.id for b, _ in await store.list_boards_for_user(people["Ada"].id, None, 10)] == [board.id]
    finally:
        await store.close()
