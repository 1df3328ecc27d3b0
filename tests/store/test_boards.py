"""Boards: creation, lookup, the per-user listing, update events and deletion."""

from __future__ import annotations

import dataclasses

import pytest

from app.domain.ids import new_id
from app.domain.models import Role, TaskFilter, TaskPageRequest, TaskSort
from app.store.base import NotFound, Store
from tests.store.conftest import Make


async def test_new_board_starts_at_seq_zero_with_its_owner(store: Store, make: Make) -> None:
    owner = await make.user()
    board = await make.board(owner, name="Launch", description="Q3", columns=["a", "b"])

    assert await store.get_board(board.id) == dataclasses.replace(board, seq=0)
    member = await store.get_member(board.id, owner.id)
    assert member is not None and member.role == Role.OWNER
    assert await store.list_events(board.id, 0, 10) == []


async def test_missing_board_reads_as_none(store: Store) -> None:
    assert await store.get_board(new_id()) is None


async def test_boards_of_a_user_are_paged_by_id_with_the_users_role(store: Store, make: Make) -> None:
    user = await make.user()
    owned = [await make.board(user) for _ in range(3)]
    shared = [await make.board() for _ in range(2)]
    for board in shared:
        await make.member(board, Role.VIEWER, user)
    await make.board()  # someone else's, never listed
    expected = sorted([(b.id, Role.OWNER) for b in owned] + [(b.id, Role.VIEWER) for b in shared])

    seen: list[tuple[str, Role]] = []
    after = None
    while page := await store.list_boards_for_user(user.id, after, 2):
        assert len(page) <= 2
        seen += [(board.id, role) for board, role in page]
        after = page[-1][0].id

    assert seen == expected


async def test_listed_boards_carry_their_fields(store: Store, make: Make) -> None:
    user = await make.user()
    board = await make.board(user, name="Roadmap", columns=["x", "y"])

    [(listed, role)] = await store.list_boards_for_user(user.id, None, 10)

    assert (listed, role) == (board, Role.OWNER)


async def test_board_update_replaces_its_fields_and_appends_an_event(store: Store, make: Make) -> None:
    board = await make.board()
    changed = dataclasses.replace(
        board,
        name="Renamed",
        description="New words",
        columns=["later", "now"],
        updated_at="2030-01-01T00:00:00.000000Z",
    )

    event = await store.update_board(changed, make.draft("board.updated", name="Renamed"))

    assert (event.board_id, event.seq, event.type, event.data) == (board.id, 1, "board.updated", {"name": "Renamed"})
    assert await store.get_board(board.id) == dataclasses.replace(changed, seq=1)
    assert await store.list_events(board.id, 0, 10) == [event]


async def test_updating_a_deleted_board_raises_not_found(store: Store, make: Make) -> None:
    board = await make.board()
    await store.delete_board(board.id)

    with pytest.raises(NotFound):
        await store.update_board(board, make.draft("board.updated"))


async def test_deleting_a_board_removes_its_members_tasks_and_events(store: Store, make: Make) -> None:
    owner = await make.user()
    board = await make.board(owner)
    kept = await make.board(owner)
    editor = await make.member(board)
    task = await make.task(board, title="searchable words", assignees=[owner.id], labels=["bug"])
    kept_task = await make.task(kept, title="searchable words")

    assert await store.delete_board(board.id) is True

    assert await store.get_board(board.id) is None
    assert await store.get_member(board.id, owner.id) is None
    assert await store.get_member(board.id, editor.user_id) is None
    assert await store.list_members(board.id) == []
    assert await store.get_task(task.id) is None
    assert await store.list_events(board.id, 0, 100) == []
    assert await store.last_position(board.id, "todo") is None
    gone = await store.list_tasks(TaskPageRequest(board.id, TaskFilter(), TaskSort.POSITION, 50, include_total=True))
    assert (gone.items, gone.total) == ([], 0)
    assert [b.id for b, _ in await store.list_boards_for_user(owner.id, None, 10)] == [kept.id]
    found = await store.list_tasks(TaskPageRequest(kept.id, TaskFilter(text="searchable"), TaskSort.POSITION, 50))
    assert [t.id for t in found.items] == [kept_task.id]


async def test_deleting_a_missing_board_returns_false(store: Store, make: Make) -> None:
    board = await make.board()
    assert await store.delete_board(board.id) is True
    assert await store.delete_board(board.id) is False
    assert await store.delete_board(new_id()) is False
