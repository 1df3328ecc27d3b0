"""Attachments in the operations commands: a backup of the SQLite store holds their bytes,
and export-board / import-board carry them (bytes, thumbnails, names, types) to another
deployment, here from SQLite to MongoDB, with the file streamed a chunk at a time."""

from __future__ import annotations

import base64
import io
import json
import os
import sqlite3
from pathlib import Path

from app.domain import clock
from app.domain.ids import new_id
from app.domain.models import Attachment, Board, EventDraft, Task, User
from app.domain.views import attachment_view
from app.store.base import Store
from tests.ops.test_board_export import encoded_whole
from tests.ops.test_cli import add_user, opened, run_app, seed_shared_board, sqlite_url
from tests.support.app_fixtures import mongo_database_url

BIG = os.urandom(700 * 1024 + 1)  # several chunks, and a length that is no multiple of 3


async def attach(store: Store, task: Task, by: User, name: str, content: bytes, thumbnail: bytes | None) -> Attachment:
    attachment = Attachment(
        new_id(),
        task.board_id,
        task.id,
        name,
        "application/octet-stream",
        len(content),
        thumbnail is not None,
        by.id,
        clock.now(),
    )
    await store.create_attachment(
        attachment,
        io.BytesIO(content),
        thumbnail,
        0,
        EventDraft("attachment.added", by.id, attachment.created_at, attachment_view(attachment)),
    )
    return attachment


async def first_task(store: Store, board: Board) -> Task:
    events = await store.list_events(board.id, 0, 100)
    task = await store.get_task(next(event.data["id"] for event in events if event.type == "task.created"))
    assert task is not None
    return task


async def test_a_backup_holds_the_attachments_bytes(tmp_path: Path) -> None:
    store = await opened(sqlite_url(tmp_path))
    try:
        board, people = await seed_shared_board(store)
        await attach(store, await first_task(store, board), people["Ada"], "big.bin", BIG, None)
        result = run_app("backup", "--output", str(tmp_path / "tw-backup.db"), data_dir=tmp_path)
    finally:
        await store.close()
    assert result.returncode == 0, result.stderr
    assert "1 attachments" in result.stdout
    copy = sqlite3.connect(tmp_path / "tw-backup.db")
    try:
        chunks = copy.execute("SELECT data FROM attachment_chunks ORDER BY n").fetchall()
    finally:
        copy.close()
    assert b"".join(chunk[0] for chunk in chunks) == BIG


async def test_an_exported_boards_attachments_import_into_mongodb_whole(tmp_path: Path, mongo_wire) -> None:
    store = await opened(sqlite_url(tmp_path))
    try:
        board, people = await seed_shared_board(store)
        task = await first_task(store, board)
        big = await attach(store, task, people["Bob"], "big.bin", BIG, b"RIFF-thumbnail")
        empty = await attach(store, task, people["Cy"], "empty.txt", b"", None)
    finally:
        await store.close()
    export_file = tmp_path / "launch.json"
    exported = run_app("export-board", board.id, "--output", str(export_file), data_dir=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "2 attachments" in exported.stdout
    data = export_file.read_bytes()
    assert data == encoded_whole(data)  # the streamed base64 sits in the usual layout
    exported_attachments = json.loads(data)["attachments"]
    assert sorted(item["name"] for item in exported_attachments) == ["big.bin", "empty.txt"]
    by_name = {item["name"]: item for item in exported_attachments}
    assert base64.b64decode(by_name["big.bin"]["content_base64"]) == BIG
    assert by_name["big.bin"]["thumbnail_base64"] == base64.b64encode(b"RIFF-thumbnail").decode()
    assert by_name["empty.txt"] == {
        **attachment_view(empty),
        "thumbnail_base64": None,
        "content_base64": "",
    }
    assert by_name["big.bin"]["id"] == big.id

    mongo_url = mongo_database_url(mongo_wire.url)
    store = await opened(mongo_url)
    try:
        ada = await add_user(store, "ada@example.com", "Ada")
        bob = await add_user(store, "bob@example.com", "Bob")
        imported = run_app("import-board", str(export_file), data_dir=tmp_path, database_url=mongo_url)
        assert imported.returncode == 0, imported.stderr
        assert "2 attachments" in imported.stdout
        ((new_board, _),) = await store.list_boards_for_user(ada.id, None, 10)
        events = await store.list_events(new_board.id, 0, 100)
        added = [event.data for event in events if event.type == "attachment.added"]
        assert len(added) == 2
        copies = {item["name"]: await store.get_attachment(item["id"]) for item in added}
        copy = copies["big.bin"]
        assert copy is not None and copy.id != big.id and copy.board_id == new_board.id
        assert (copy.size, copy.has_thumbnail, copy.uploaded_by, copy.created_at) == (
            len(BIG),
            True,
            bob.id,
            big.created_at,
        )
        chunks = await store.open_attachment(copy.id)
        assert chunks is not None
        assert b"".join([chunk async for chunk in chunks]) == BIG
        assert await store.get_attachment_thumbnail(copy.id) == b"RIFF-thumbnail"
        # Cy has no account here: the importing owner stands in as the uploader.
        assert copies["empty.txt"] is not None and copies["empty.txt"].uploaded_by == ada.id
    finally:
        await store.close()
