"""The trash of deleted boards in the store, on both adapters: a trashed board reads as gone
everywhere yet keeps all it holds, comes back whole with its members, and a purge deletes it
for good as deleting a board always did."""

from __future__ import annotations

import pytest

from app.domain.clock import now
from app.domain.ids import new_id
from app.domain.models import Comment, EventDraft, Role
from app.store.base import NotFound, Store
from tests.store.conftest import Make
from tests.store.test_attachments_contract import add, content_of

EARLIER = "2000-01-01T00:00:00.000000Z"


def _draft(type: str, at: str | None = None) -> EventDraft:
    return EventDraft(type, "actor", at or now(), {"name": "Board"})


async def test_a_trashed_board_reads_as_gone_and_restores_whole_with_its_members(store: Store, make: Make) -> None:
    owner, editor = await make.user(), await make.user()
    board = await make.board(owner, name="Launch", description="the plan")
    await make.member(board, Role.EDITOR, editor)
    task = await make.task(board, title="Write the copy")
    at = now()
    await store.create_comment(
        Comment(new_id(), board.id, task.id, editor.id, "draft", [], at, at), make.draft("comment.created")
    )
    attachment = await add(store, make, task, b"file bytes")

    event = await store.trash_board(board.id, owner.id, _draft("board.deleted"))

    assert (event.type, event.seq) == ("board.deleted", 5)
    assert await store.get_board(board.id) is None
    assert await store.get_member(board.id, owner.id) is None
    assert await store.list_members(board.id) == []
    assert await store.list_boards_for_user(editor.id, None, 10) == []
    assert await store.list_boards_for_user(owner.id, None, 10, archived=True) == []
    access = await store.get_task_access(task.id, owner.id, with_board=True)
    assert (access.member, access.board) == (None, None)
    entry = await store.get_trashed_board(board.id)
    assert entry is not None
    assert (entry.name, entry.description, entry.deleted_by, entry.deleted_at) == (
        "Launch",
        "the plan",
        owner.id,
        event.at,
    )
    assert [found.id for found in await store.list_trashed_boards(owner.id, 10)] == [board.id]
    assert await store.list_trashed_boards(editor.id, 10) == []  # owners only
    trashed = await store.get_trashed_member(board.id, editor.id)
    assert trashed is not None and trashed.role == Role.EDITOR
    with pytest.raises(NotFound):
        await store.trash_board(board.id, owner.id, _draft("board.deleted"))  # in the trash already

    restored = await store.restore_board(board.id, _draft("board.restored"))

    assert (restored.type, restored.seq) == ("board.restored", 6)
    back = await store.get_board(board.id)
    assert back is not None and (back.name, back.seq) == ("Launch", 6)
    assert {(m.user_id, m.role) for m in await store.list_members(board.id)} == {
        (owner.id, Role.OWNER),
        (editor.id, Role.EDITOR),
    }
    assert [b.id for b, _ in await store.list_boards_for_user(editor.id, None, 10)] == [board.id]
    assert (await store.get_task(task.id)) == task
    assert [c.body for c in await store.list_comments(task.id, None, 10)] == ["draft"]
    assert await content_of(store, attachment.id) == b"file bytes"
    assert [e.type for e in await store.list_events(board.id, 4, 10)] == ["board.deleted", "board.restored"]
    assert await store.get_trashed_board(board.id) is None
    assert await store.get_trashed_member(board.id, editor.id) is None
    assert await store.list_trashed_boards(owner.id, 10) == []
    with pytest.raises(NotFound):
        await store.restore_board(board.id, _draft("board.restored"))


async def test_a_purge_deletes_a_trashed_board_for_good_and_no_other(store: Store, make: Make) -> None:
    owner = await make.user()
    board, kept = await make.board(owner), await make.board(owner)
    task = await make.task(board)
    attachment = await add(store, make, task, b"gone with it")
    assert await store.purge_trashed_board(board.id) is False  # not in the trash: untouched
    assert await store.get_board(board.id) is not None

    await store.trash_board(board.id, owner.id, _draft("board.deleted"))
    assert await store.purge_trashed_board(board.id) is True

    assert await store.get_trashed_board(board.id) is None
    assert await store.get_trashed_member(board.id, owner.id) is None
    assert await store.get_task(task.id) is None
    assert await content_of(store, attachment.id) is None
    assert await store.list_events(board.id, 0, 10) == []
    assert await store.purge_trashed_board(board.id) is False
    with pytest.raises(NotFound):
        await store.restore_board(board.id, _draft("board.restored"))
    assert [b.id for b, _ in await store.list_boards_for_user(owner.id, None, 10)] == [kept.id]


async def test_expired_board_trash_is_listed_oldest_first_and_the_owner_s_trash_newest_first(
    store: Store, make: Make
) -> None:
    owner = await make.user()
    old, recent = await make.board(owner), await make.board(owner)
    await store.trash_board(old.id, owner.id, _draft("board.deleted", EARLIER))
    await store.trash_board(recent.id, owner.id, _draft("board.deleted"))

    assert [entry.id for entry in await store.list_expired_board_trash("2001-01-01T00:00:00.000000Z", 10)] == [old.id]
    assert [entry.id for entry in await store.list_expired_board_trash("2999-01-01T00:00:00.000000Z", 1)] == [old.id]
    assert [entry.id for entry in await store.list_trashed_boards(owner.id, 10)] == [recent.id, old.id]
    assert await store.list_trashed_boards(owner.id, 0) == []


async def test_a_member_whose_account_was_erased_meanwhile_does_not_come_back(store: Store, make: Make) -> None:
    owner, leaving = await make.user(), await make.user()
    board = await make.board(owner)
    await make.member(board, Role.ADMIN, leaving)
    await store.trash_board(board.id, owner.id, _draft("board.deleted"))

    await store.erase_user(leaving.id, leaving.email, leaving.name, [])

    assert await store.get_trashed_member(board.id, leaving.id) is None
    await store.restore_board(board.id, _draft("board.restored"))
    assert [m.user_id for m in await store.list_members(board.id)] == [owner.id]


async def test_the_trashed_boards_an_owner_alone_owned_leave_out_those_with_another_owner(
    store: Store, make: Make
) -> None:
    owner, co_owner, editor = await make.user(), await make.user(), await make.user()
    alone, shared = await make.board(owner), await make.board(owner)
    await make.member(alone, Role.EDITOR, editor)
    await make.member(shared, Role.OWNER, co_owner)
    await store.trash_board(alone.id, owner.id, _draft("board.deleted", EARLIER))
    await store.trash_board(shared.id, owner.id, _draft("board.deleted"))

    assert [entry.id for entry in await store.list_trashed_boards(owner.id, 10)] == [shared.id, alone.id]
    assert [entry.id for entry in await store.list_solely_owned_trashed_boards(owner.id, 10)] == [alone.id]
    assert await store.list_solely_owned_trashed_boards(co_owner.id, 10) == []
    assert await store.list_solely_owned_trashed_boards(editor.id, 10) == []
    assert await store.list_solely_owned_trashed_boards(owner.id, 0) == []
