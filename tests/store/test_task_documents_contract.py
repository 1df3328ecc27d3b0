"""The shared description documents in the store: one seed of two racing, updates kept and
read back, compaction that loses nothing, and gone with their task and their board."""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Doc, Text

from app.store.base import NotFound, Store
from tests.store.conftest import Make


def text_of(updates: list[tuple[str, bytes]]) -> str:
    doc = Doc()
    text = doc.get("description", type=Text)
    for _, update in updates:
        doc.apply_update(update)
    return str(text)


def state_with(content: str) -> tuple[Doc, bytes]:
    doc = Doc()
    doc.get("description", type=Text).insert(0, content)
    return doc, doc.get_update()


async def test_of_two_racing_seeds_one_is_kept(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board)
    _, first = state_with("Hello")
    _, second = state_with("Hello")
    kept = await asyncio.gather(
        store.seed_task_document(task.id, board.id, first), store.seed_task_document(task.id, board.id, second)
    )
    assert sorted(kept) == [False, True]
    assert text_of(await store.load_task_document(task.id)) == "Hello"  # not "HelloHello"
    assert await store.seed_task_document(task.id, board.id, first) is False


async def test_updates_are_kept_and_compaction_keeps_the_same_text(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board)
    doc, seed = state_with("abc")
    assert await store.seed_task_document(task.id, board.id, seed)
    text = doc.get("description", type=Text)
    for letter in "defgh":
        before = doc.get_state()
        text += letter
        await store.append_task_document_update(task.id, board.id, doc.get_update(before))
    kept = await store.load_task_document(task.id)
    assert len(kept) == 6 and text_of(kept) == "abcdefgh"

    # An update kept after the load is not in the state and must survive the compaction.
    before = doc.get_state()
    text += "!"
    late = doc.get_update(before)
    await store.append_task_document_update(task.id, board.id, late)
    compacted = Doc()
    compacted.get("description", type=Text)
    for _, update in kept:
        compacted.apply_update(update)
    await store.compact_task_document(task.id, [update_id for update_id, _ in kept], compacted.get_update())

    after = await store.load_task_document(task.id)
    assert len(after) == 2
    assert text_of(after) == "abcdefgh!"
    assert await store.seed_task_document(task.id, board.id, seed) is False  # still seeded


async def test_a_document_goes_with_its_task_and_its_board(store: Store, make: Make) -> None:
    board = await make.board()
    doomed, other = await make.task(board), await make.task(board)
    for task in (doomed, other):
        await store.seed_task_document(task.id, board.id, state_with("x")[1])
    await store.delete_task(doomed.id, None, make.draft("task.deleted", id=doomed.id))
    assert await store.load_task_document(doomed.id) == []
    assert await store.load_task_document(other.id) != []
    with pytest.raises(NotFound):
        await store.append_task_document_update(doomed.id, board.id, state_with("y")[1])
    await store.delete_board(board.id)
    assert await store.load_task_document(other.id) == []


async def test_a_task_of_another_board_is_not_found(store: Store, make: Make) -> None:
    board, elsewhere = await make.board(), await make.board()
    task = await make.task(board)
    with pytest.raises(NotFound):
        await store.seed_task_document(task.id, elsewhere.id, state_with("x")[1])
    with pytest.raises(NotFound):
        await store.append_task_document_update("no-such-task", board.id, state_with("x")[1])
