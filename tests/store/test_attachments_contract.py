"""Attachments in the store: the record, its bytes and thumbnail are written with the event
in one write (or not at all), read back a chunk at a time, counted against the board's
quota, and go away with their task or their board."""

from __future__ import annotations

import dataclasses
import io
import os

import pytest

from app.domain.clock import now
from app.domain.ids import new_id
from app.domain.models import Attachment, AttachmentSummary, Board, Task
from app.store.base import NotFound, QuotaExceeded, Store
from tests.store.conftest import Make

# More than two chunks on either store (256 KiB rows, 255 KiB GridFS chunks).
BIG = os.urandom(600 * 1024 + 123)


def attachment_record(task: Task, content: bytes, **fields: object) -> Attachment:
    attachment = Attachment(
        id=new_id(),
        board_id=task.board_id,
        task_id=task.id,
        name="notes.bin",
        content_type="application/octet-stream",
        size=len(content),
        has_thumbnail=False,
        uploaded_by="uploader",
        created_at=now(),
    )
    return dataclasses.replace(attachment, **fields)  # type: ignore[arg-type]


async def add(
    store: Store,
    make: Make,
    task: Task,
    content: bytes,
    thumbnail: bytes | None = None,
    quota: int = 0,
    **fields: object,
) -> Attachment:
    attachment = attachment_record(task, content, has_thumbnail=thumbnail is not None, **fields)
    await store.create_attachment(
        attachment, io.BytesIO(content), thumbnail, quota, make.draft("attachment.added", id=attachment.id)
    )
    return attachment


async def content_of(store: Store, attachment_id: str) -> bytes | None:
    chunks = await store.open_attachment(attachment_id)
    if chunks is None:
        return None
    return b"".join([chunk async for chunk in chunks])


async def board_with_task(make: Make) -> tuple[Board, Task]:
    board = await make.board()
    return board, await make.task(board)


async def test_an_attachment_reads_back_whole_with_its_thumbnail_and_its_event_takes_the_next_seq(
    store: Store, make: Make
) -> None:
    board, task = await board_with_task(make)
    attachment = attachment_record(task, BIG, has_thumbnail=True)

    event = await store.create_attachment(
        attachment, io.BytesIO(BIG), b"thumb", 0, make.draft("attachment.added", id=attachment.id)
    )

    assert (event.board_id, event.seq, event.type) == (board.id, 2, "attachment.added")
    assert await store.get_attachment(attachment.id) == attachment
    assert await content_of(store, attachment.id) == BIG
    assert await store.get_attachment_thumbnail(attachment.id) == b"thumb"
    assert await store.list_events(board.id, 1, 10) == [event]


async def test_the_content_is_read_from_where_the_stream_stands(store: Store, make: Make) -> None:
    _, task = await board_with_task(make)
    stream = io.BytesIO(b"HEADtail")
    stream.read(4)
    attachment = attachment_record(task, b"tail")
    await store.create_attachment(attachment, stream, None, 0, make.draft("attachment.added"))

    assert await content_of(store, attachment.id) == b"tail"
    assert await store.get_attachment_thumbnail(attachment.id) is None


async def test_an_empty_file_is_an_attachment_with_no_bytes(store: Store, make: Make) -> None:
    _, task = await board_with_task(make)
    attachment = await add(store, make, task, b"")
    assert await content_of(store, attachment.id) == b""


async def test_a_missing_attachment_reads_as_none(store: Store) -> None:
    missing = new_id()
    assert await store.get_attachment(missing) is None
    assert await store.open_attachment(missing) is None
    assert await store.get_attachment_thumbnail(missing) is None


async def test_attaching_to_a_deleted_task_raises_not_found_and_keeps_nothing(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    await store.delete_task(task.id, None, make.draft("task.deleted"))
    attachment = attachment_record(task, BIG)

    with pytest.raises(NotFound):
        await store.create_attachment(attachment, io.BytesIO(BIG), None, 0, make.draft("attachment.added"))

    assert await store.get_attachment(attachment.id) is None
    assert await store.open_attachment(attachment.id) is None
    assert (await store.get_board(board.id)).seq == 2  # type: ignore[union-attr]


async def test_the_quota_counts_every_attachment_of_the_board_and_a_refused_one_keeps_nothing(
    store: Store, make: Make
) -> None:
    board, task = await board_with_task(make)
    other_task = await make.task(board)
    await add(store, make, task, b"x" * 600, quota=1000)
    await add(store, make, other_task, b"y" * 400, quota=1000)  # exactly full is allowed
    refused = attachment_record(task, b"z")
    seq = (await store.get_board(board.id)).seq  # type: ignore[union-attr]

    with pytest.raises(QuotaExceeded) as raised:
        await store.create_attachment(refused, io.BytesIO(b"z"), None, 1000, make.draft("attachment.added"))

    assert raised.value.used == 1000
    assert await store.get_attachment(refused.id) is None
    assert await store.open_attachment(refused.id) is None
    assert (await store.get_board(board.id)).seq == seq  # type: ignore[union-attr]
    # Another board's quota is its own.
    _, elsewhere = await board_with_task(make)
    await add(store, make, elsewhere, b"w" * 1000, quota=1000)


async def test_a_task_lists_its_attachments_oldest_first_in_pages(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    first = await add(store, make, task, b"1")
    second = await add(store, make, task, b"2")
    third = await add(store, make, task, b"3")
    await add(store, make, await make.task(board), b"elsewhere")

    # Ids made within one millisecond are not ordered: id order is the order to expect.
    first, second, third = sorted([first, second, third], key=lambda attachment: attachment.id)
    assert await store.list_attachments(task.id, None, 10) == [first, second, third]
    assert await store.list_attachments(task.id, None, 2) == [first, second]
    assert await store.list_attachments(task.id, second.id, 2) == [third]
    assert await store.list_attachments(task.id, None, 0) == []


async def test_the_summary_counts_each_tasks_attachments_and_names_the_newest_with_a_thumbnail(
    store: Store, make: Make
) -> None:
    board, task = await board_with_task(make)
    plain, pictured, bare = await make.task(board), await make.task(board), await make.task(board)
    images = [await add(store, make, task, b"a", thumbnail=b"t1"), await add(store, make, task, b"b", thumbnail=b"t2")]
    newest_image = max(images, key=lambda attachment: attachment.id)
    await add(store, make, task, b"c")
    await add(store, make, plain, b"d")
    only_image = await add(store, make, pictured, b"e", thumbnail=b"t3")

    summary = await store.summarize_attachments([task.id, plain.id, pictured.id, bare.id])

    assert summary == {
        task.id: AttachmentSummary(3, newest_image.id),
        plain.id: AttachmentSummary(1, None),
        pictured.id: AttachmentSummary(1, only_image.id),
    }
    assert await store.summarize_attachments([]) == {}


async def test_deleting_an_attachment_logs_its_event_and_removes_its_bytes(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    attachment = await add(store, make, task, BIG, thumbnail=b"thumb")

    event = await store.delete_attachment(attachment.id, make.draft("attachment.deleted", id=attachment.id))

    assert (event.type, event.seq) == ("attachment.deleted", 3)
    assert await store.get_attachment(attachment.id) is None
    assert await store.open_attachment(attachment.id) is None
    assert await store.get_attachment_thumbnail(attachment.id) is None
    with pytest.raises(NotFound):
        await store.delete_attachment(attachment.id, make.draft("attachment.deleted"))
    assert (await store.get_board(board.id)).seq == 3  # type: ignore[union-attr]
    # Its bytes no longer count against the quota.
    await add(store, make, task, b"x" * 10, quota=10)


async def test_deleting_a_task_deletes_its_attachments_and_leaves_the_others(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    other = await make.task(board)
    gone = await add(store, make, task, BIG, thumbnail=b"thumb")
    kept = await add(store, make, other, b"kept")

    await store.delete_task(task.id, None, make.draft("task.deleted"))

    assert await store.get_attachment(gone.id) is None
    assert await store.open_attachment(gone.id) is None
    assert await store.list_attachments(task.id, None, 10) == []
    assert await content_of(store, kept.id) == b"kept"


async def test_deleting_a_board_deletes_its_attachments(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    other_board, other_task = await board_with_task(make)
    gone = await add(store, make, task, BIG)
    kept = await add(store, make, other_task, b"kept")

    assert await store.delete_board(board.id)

    assert await store.get_attachment(gone.id) is None
    assert await store.open_attachment(gone.id) is None
    assert await content_of(store, kept.id) == b"kept"
    # The deleted board's bytes count nowhere.
    await add(store, make, other_task, b"x" * 10, quota=4 + 10)
    assert other_board.id != board.id


async def test_a_trashed_task_keeps_its_attachments_until_its_purge_deletes_them(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    kept = await add(store, make, task, BIG, thumbnail=b"thumb")

    await store.trash_task(task.id, None, "deleter", make.draft("task.deleted"))

    assert await store.get_attachment(kept.id) == kept
    assert await content_of(store, kept.id) == BIG
    # Still stored, so still counted against the board's quota.
    other = await make.task(board)
    with pytest.raises(QuotaExceeded):
        await add(store, make, other, b"x", quota=len(BIG))
    await store.restore_task(task, [], make.draft("task.restored"))
    assert [found.id for found in await store.list_attachments(task.id, None, 10)] == [kept.id]
    assert await store.get_attachment_thumbnail(kept.id) == b"thumb"

    await store.trash_task(task.id, None, "deleter", make.draft("task.deleted"))
    await store.purge_trashed_task(task.id, make.draft("task.purged"))

    assert await store.get_attachment(kept.id) is None
    assert await store.open_attachment(kept.id) is None
    assert await store.get_attachment_thumbnail(kept.id) is None
    await add(store, make, other, b"x" * 10, quota=10)  # its bytes count no longer
