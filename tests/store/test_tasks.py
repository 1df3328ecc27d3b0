"""Tasks: creation, optimistic concurrency on update and delete, column positions."""

from __future__ import annotations

import dataclasses

import pytest

from app.domain.ids import new_id
from app.domain.models import Priority, Role
from app.store.base import NotFound, Store, VersionConflict
from tests.store.conftest import Make


async def test_created_task_reads_back_equal_at_version_one(store: Store, make: Make) -> None:
    board = await make.board()
    task = make.task_record(
        board,
        title="Write docs",
        description="All of them",
        status="in_progress",
        priority=Priority.URGENT,
        assignees=["u1", "u2"],
        labels=["docs", "v1"],
        due_at="2030-05-01T09:00:00.000000Z",
        position="m",
    )

    event = await store.create_task(task, make.draft("task.created", id=task.id))

    assert (event.board_id, event.seq, event.type, event.data) == (board.id, 1, "task.created", {"id": task.id})
    assert await store.get_task(task.id) == task
    assert task.version == 1


async def test_missing_task_reads_as_none(store: Store) -> None:
    assert await store.get_task(new_id()) is None


async def test_creating_a_task_on_a_missing_board_raises_not_found(store: Store, make: Make) -> None:
    board = await make.board()
    await store.delete_board(board.id)
    task = make.task_record(board)

    with pytest.raises(NotFound):
        await store.create_task(task, make.draft())

    assert await store.get_task(task.id) is None


async def test_returned_lists_are_copies_the_caller_may_change(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board, assignees=["u1"], labels=["a"])

    read = await store.get_task(task.id)
    assert read is not None
    read.assignees.append("u2")
    read.labels.clear()
    listed = await store.get_board(board.id)
    assert listed is not None
    listed.columns.append("zzz")

    assert await store.get_task(task.id) == task
    assert (await store.get_board(board.id)).columns == board.columns  # type: ignore[union-attr]


async def test_update_with_the_current_version_replaces_the_task_and_appends_an_event(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board, assignees=["u1"], labels=["a"])
    changed = dataclasses.replace(
        task,
        title="New title",
        description="New text",
        status="done",
        priority=Priority.LOW,
        assignees=["u2"],
        labels=["b", "c"],
        due_at="2031-01-01T00:00:00.000000Z",
        position="zz",
        updated_at="2030-01-01T00:00:00.000000Z",
        version=2,
    )

    event = await store.update_task(changed, 1, make.draft("task.updated", id=task.id))

    assert (event.board_id, event.seq, event.type) == (board.id, 2, "task.updated")
    assert await store.get_task(task.id) == changed


async def test_update_with_a_stale_version_raises_conflict_carrying_the_current_task(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board)
    current = dataclasses.replace(task, title="Theirs", version=2)
    await store.update_task(current, 1, make.draft("task.updated"))

    with pytest.raises(VersionConflict) as raised:
        await store.update_task(dataclasses.replace(task, title="Mine", version=2), 1, make.draft("task.updated"))

    assert raised.value.current == current
    assert await store.get_task(task.id) == current
    assert [e.seq for e in await store.list_events(board.id, 0, 10)] == [1, 2]


async def test_updating_a_missing_task_raises_not_found(store: Store, make: Make) -> None:
    board = await make.board()
    task = make.task_record(board)

    with pytest.raises(NotFound):
        await store.update_task(dataclasses.replace(task, version=2), 1, make.draft("task.updated"))

    assert await store.list_events(board.id, 0, 10) == []


async def test_delete_with_the_current_version_removes_the_task_and_appends_an_event(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board)

    event = await store.delete_task(task.id, 1, make.draft("task.deleted", id=task.id))

    assert (event.board_id, event.seq, event.type, event.data) == (board.id, 2, "task.deleted", {"id": task.id})
    assert await store.get_task(task.id) is None


async def test_delete_without_a_version_removes_the_task_whatever_its_version(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board)
    await store.update_task(dataclasses.replace(task, version=2), 1, make.draft("task.updated"))

    event = await store.delete_task(task.id, None, make.draft("task.deleted"))

    assert event.seq == 3
    assert await store.get_task(task.id) is None


async def test_delete_with_a_stale_version_raises_conflict_and_keeps_the_task(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board)
    current = dataclasses.replace(task, title="Edited", version=2)
    await store.update_task(current, 1, make.draft("task.updated"))

    with pytest.raises(VersionConflict) as raised:
        await store.delete_task(task.id, 1, make.draft("task.deleted"))

    assert raised.value.current == current
    assert await store.get_task(task.id) == current
    assert (await store.get_board(board.id)).seq == 2  # type: ignore[union-attr]


async def test_deleting_a_missing_task_raises_not_found(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board)
    await store.delete_task(task.id, None, make.draft("task.deleted"))

    with pytest.raises(NotFound):
        await store.delete_task(task.id, None, make.draft("task.deleted"))
    with pytest.raises(NotFound):
        await store.delete_task(new_id(), 1, make.draft("task.deleted"))
    assert (await store.get_board(board.id)).seq == 2  # type: ignore[union-attr]


async def test_last_position_is_the_greatest_key_of_that_column_only(store: Store, make: Make) -> None:
    board, other_board = await make.board(), await make.board()
    for position in ("b", "d", "c"):
        await make.task(board, status="todo", position=position)
    await make.task(board, status="done", position="z")
    await make.task(other_board, status="todo", position="y")

    assert await store.last_position(board.id, "todo") == "d"
    assert await store.last_position(board.id, "done") == "z"
    assert await store.last_position(board.id, "in_progress") is None


async def test_moving_a_task_moves_its_column_position(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board, status="todo", position="x")

    await store.update_task(dataclasses.replace(task, status="done", position="a", version=2), 1, make.draft())

    assert await store.last_position(board.id, "todo") is None
    assert await store.last_position(board.id, "done") == "a"


async def test_task_access_reads_the_task_the_callers_membership_and_the_board(store: Store, make: Make) -> None:
    board = await make.board()
    editor = await make.member(board, Role.EDITOR)
    outsider = await make.user()
    task = await make.task(board)

    seen = await store.get_task_access(task.id, editor.user_id, with_board=True)
    assert (seen.task, seen.member, seen.board) == (task, editor, await store.get_board(board.id))
    without_board = await store.get_task_access(task.id, editor.user_id, with_board=False)
    assert (without_board.task, without_board.member, without_board.board) == (task, editor, None)
    stranger = await store.get_task_access(task.id, outsider.id, with_board=True)
    assert (stranger.task, stranger.member) == (task, None)
    missing = await store.get_task_access(new_id(), editor.user_id, with_board=True)
    assert (missing.task, missing.member, missing.board) == (None, None, None)


async def test_new_task_place_reads_membership_board_and_the_end_of_the_column(store: Store, make: Make) -> None:
    board = await make.board()
    editor = await make.member(board, Role.EDITOR)
    await make.task(board, status="todo", position="c")
    await make.task(board, status="done", position="x")
    stored_board = await store.get_board(board.id)

    named = await store.get_new_task_place(board.id, editor.user_id, "done")
    assert (named.member, named.board, named.last_position) == (editor, stored_board, "x")
    first_column = await store.get_new_task_place(board.id, editor.user_id, None)
    assert (first_column.board, first_column.last_position) == (stored_board, "c")  # "todo" comes first
    empty = await store.get_new_task_place(board.id, editor.user_id, "in_progress")
    assert empty.last_position is None
    stranger = await store.get_new_task_place(board.id, (await make.user()).id, None)
    assert (stranger.member, stranger.board) == (None, stored_board)
    gone = await store.get_new_task_place(new_id(), editor.user_id, None)
    assert (gone.member, gone.board, gone.last_position) == (None, None, None)
