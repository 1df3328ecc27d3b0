"""Column names, work-in-progress limits and checklists: kept by both stores alike, written
with the board's or the task's change and its event in one write."""

from __future__ import annotations

import dataclasses

import pytest

from app.domain.clock import now
from app.domain.models import TaskFilter, TaskPageRequest, TaskSort
from app.store.base import BoardChanged, NotFound, Store, VersionConflict
from tests.store.conftest import Make


async def test_column_names_and_limits_are_kept_with_the_board(store: Store, make: Make) -> None:
    board = await make.board(
        columns=["to_do", "code_review"], column_names={"to_do": "To Do", "code_review": "Code Review 👀"}
    )
    assert await store.get_board(board.id) == board

    renamed = dataclasses.replace(
        board,
        columns=["code_review", "to_do", "done"],
        column_names={"to_do": "Later", "code_review": "Code Review 👀"},
        wip_limits={"code_review": 3},
        updated_at=now(),
    )
    event = await store.update_board(renamed, make.draft("column.updated", column={"key": "to_do"}))

    stored = await store.get_board(board.id)
    assert stored == dataclasses.replace(renamed, seq=event.seq)
    assert stored is not None and stored.wip_limits == {"code_review": 3}
    assert [(e.type, e.data) for e in await store.list_events(board.id, 0, 10)] == [
        ("column.updated", {"column": {"key": "to_do"}})
    ]
    (listed, _), *_ = await store.list_boards_for_user(board.created_by, None, 10)
    assert listed.column_names == {"to_do": "Later", "code_review": "Code Review 👀"}


async def test_a_board_written_without_names_reads_with_none(store: Store, make: Make) -> None:
    board = await make.board()
    stored = await store.get_board(board.id)
    assert stored is not None and stored.column_names == {} and stored.wip_limits == {}


async def test_a_checklist_is_kept_with_its_task_in_order(store: Store, make: Make) -> None:
    board = await make.board()
    items = [{"id": "i1", "text": "Write it", "done": True}, {"id": "i2", "text": "Ship it 🚀", "done": False}]
    task = await make.task(board, checklist=items)
    assert await store.get_task(task.id) == task

    reordered = dataclasses.replace(task, checklist=[items[1], {**items[0], "done": False}], version=2)
    await store.update_task(reordered, 1, make.draft("checklist_item.moved", task_id=task.id, id=task.id))

    stored = await store.get_task(task.id)
    assert stored is not None and stored.checklist == reordered.checklist and stored.version == 2
    page = await store.list_tasks(TaskPageRequest(board.id, TaskFilter(), TaskSort.POSITION, limit=10))
    assert page.items[0].checklist == reordered.checklist
    history = await store.list_events(board.id, 0, 10, task_id=task.id)
    assert [e.type for e in history] == ["task.created", "checklist_item.moved"]


async def test_a_checklist_change_at_a_stale_version_changes_nothing(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board, checklist=[{"id": "i1", "text": "a", "done": False}])
    ticked = dataclasses.replace(task, checklist=[{"id": "i1", "text": "a", "done": True}], version=2)
    await store.update_task(ticked, 1, make.draft("checklist_item.updated", task_id=task.id))

    with pytest.raises(VersionConflict) as raised:
        await store.update_task(dataclasses.replace(task, checklist=[], version=2), 1, make.draft("x", task_id=task.id))

    assert raised.value.current.checklist == [{"id": "i1", "text": "a", "done": True}]
    stored = await store.get_task(task.id)
    assert stored is not None and stored.checklist == ticked.checklist
    assert [e.type for e in await store.list_events(board.id, 0, 10)] == ["task.created", "checklist_item.updated"]


async def test_a_board_change_made_from_a_stale_read_is_refused_and_writes_nothing(store: Store, make: Make) -> None:
    board = await make.board()
    first = dataclasses.replace(board, column_names={"todo": "To Do"}, updated_at=now())
    await store.update_board(first, make.draft("column.updated"), expected_updated_at=board.updated_at)

    stale = dataclasses.replace(board, columns=["todo", "done"], updated_at=now())
    with pytest.raises(BoardChanged):
        await store.update_board(stale, make.draft("column.deleted"), expected_updated_at=board.updated_at)

    stored = await store.get_board(board.id)
    assert stored == dataclasses.replace(first, seq=1)
    assert [e.type for e in await store.list_events(board.id, 0, 10)] == ["column.updated"]
    with pytest.raises(NotFound):
        await store.update_board(dataclasses.replace(board, id="gone"), make.draft(), expected_updated_at="x")
