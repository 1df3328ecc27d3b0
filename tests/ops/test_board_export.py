"""export-board writes the file as it reads the board: the same bytes as encoding the whole
document at once, with memory bounded by a page rather than by the board."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from app.domain import clock
from app.domain.ids import new_id
from app.domain.models import Board, Comment, EventDraft, Member, Role, Task, User
from app.domain.views import comment_view
from app.ops import board_export
from app.ops.common import written_atomically
from app.store.base import Store
from tests.ops.test_cli import add_task, add_user, opened, run_app, seed_shared_board, sqlite_url


def encoded_whole(data: bytes) -> bytes:
    """What json.dumps of the file's document gives: the layout every export has had."""
    return json.dumps(json.loads(data), ensure_ascii=False, indent=1).encode()


async def test_the_streamed_file_is_byte_for_byte_the_encoded_document(tmp_path: Path) -> None:
    store = await opened(sqlite_url(tmp_path))
    try:
        board, people = await seed_shared_board(store)
        await add_task(store, board, people["Ada"], 'Ünï “quotes” \\ "escapes"\n\ttab 🚀', "doing", "b0", [], [])
        former = await add_user(store, "gone@example.com", "Gone")
        await add_task(store, board, former, "by a former member", "todo", "a2", [former.id], ["x"])
        empty = await add_empty_board(store, people["Ada"].id)
    finally:
        await store.close()

    for board_id, tasks in ((board.id, 5), (empty, 0)):
        target = tmp_path / f"{board_id}.json"
        result = run_app("export-board", board_id, "--output", str(target), data_dir=tmp_path)
        assert result.returncode == 0, result.stderr
        data = target.read_bytes()
        assert data == encoded_whole(data)
        document = json.loads(data)
        assert len(document["tasks"]) == tasks
        assert list(document) == [
            "format",
            "format_version",
            "exported_at",
            "omitted",
            "board",
            "members",
            "users",
            "webhooks",
            "invitations",
            "tasks",
            "comments",
            "attachments",
            "watches",
            "recurrences",
            "events",
        ]
    assert document["tasks"] == [] and document["users"] == {people["Ada"].id: "ada@example.com"}
    full = json.loads((tmp_path / f"{board.id}.json").read_bytes())
    assert full["users"][former.id] == "gone@example.com"
    assert [task["title"] for task in full["tasks"] if task["status"] == "doing"] == [
        'Ünï “quotes” \\ "escapes"\n\ttab 🚀'
    ]
    assert not list(tmp_path.glob(".*partial")) and not list(tmp_path.glob("tmp*"))


async def add_empty_board(store: Store, owner_id: str) -> str:
    at = clock.now()
    board = Board(new_id(), "Empty", "", ["todo"], owner_id, at, at)
    await store.create_board(board, Member(board.id, owner_id, Role.OWNER, at))
    return board.id


async def add_comments(store: Store, task: Task, author: User, count: int) -> None:
    for number in range(count):
        at = clock.now()
        comment = Comment(new_id(), task.board_id, task.id, author.id, f"comment {number} " + "text " * 200, [], at, at)
        await store.create_comment(comment, EventDraft("comment.created", author.id, at, comment_view(comment)))


async def test_an_export_holds_a_page_of_the_board_in_memory_not_the_whole_board(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board_export, "PAGE_SIZE", 20)
    store = await opened(sqlite_url(tmp_path))
    try:
        board, people = await seed_shared_board(store)
        for number in range(300):
            task = await add_task(
                store, board, people["Bob"], f"task {number} " + "word " * 1600, "todo", f"b{number:04d}", [], []
            )
            if number % 10 == 0:
                await add_comments(store, task, people["Bob"], 30)
        target = tmp_path / "export.json"
        tracemalloc.start()
        try:
            with written_atomically(target) as handle:
                tasks, _ = await board_export.write_export(store, board.id, handle, tmp_path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        await store.close()
    size = target.stat().st_size
    assert tasks == 303 and size > 6_000_000
    # A page of 20 tasks (or of comments, or of events) is ~0.3 MB of text; the whole board ~7 MB.
    assert peak < size / 4, f"peak {peak} bytes for a {size}-byte file"


async def test_a_board_in_the_trash_is_in_the_backup_but_not_exported(tmp_path: Path) -> None:
    store = await opened(sqlite_url(tmp_path))
    try:
        board, people = await seed_shared_board(store)
        await store.trash_board(
            board.id, people["Ada"].id, EventDraft("board.deleted", people["Ada"].id, clock.now(), {})
        )
    finally:
        await store.close()

    refused = run_app("export-board", board.id, "--output", str(tmp_path / "out.json"), data_dir=tmp_path)
    assert refused.returncode == 1 and "is in the trash" in refused.stderr
    assert not (tmp_path / "out.json").exists()

    backed_up = run_app("backup", "--output", str(tmp_path / "copy.db"), data_dir=tmp_path)
    assert backed_up.returncode == 0, backed_up.stderr
    assert "1 board_trash" in backed_up.stdout
    copy = await opened(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        assert await copy.get_board(board.id) is None
        assert [entry.id for entry in await copy.list_trashed_boards(people["Ada"].id, 10)] == [board.id]
    finally:
        await copy.close()
