"""Members: the permission check's lookups, roles, and the board never losing its last owner."""

from __future__ import annotations

import pytest

from app.domain.ids import new_id
from app.domain.models import Member, Role
from app.store.base import AlreadyMember, LastOwner, NotFound, Store
from tests.store.conftest import Make


async def test_added_member_is_found_and_its_addition_is_an_event(store: Store, make: Make) -> None:
    board = await make.board()
    user = await make.user()
    member = Member(board.id, user.id, Role.EDITOR, "2030-01-01T00:00:00.000000Z")

    event = await store.add_member(member, make.draft("member.added", user_id=user.id))

    assert (event.board_id, event.seq, event.type) == (board.id, 1, "member.added")
    found = await store.get_member(board.id, user.id)
    assert found is not None
    assert (found.board_id, found.user_id, found.role, found.added_at) == (
        board.id,
        user.id,
        Role.EDITOR,
        member.added_at,
    )
    assert (await store.get_board(board.id)).seq == 1  # type: ignore[union-attr]


async def test_a_stranger_is_not_a_member(store: Store, make: Make) -> None:
    board = await make.board()
    stranger = await make.user()

    assert await store.get_member(board.id, stranger.id) is None
    assert await store.get_member(new_id(), stranger.id) is None


async def test_adding_an_existing_member_raises_already_member_and_appends_nothing(store: Store, make: Make) -> None:
    board = await make.board()
    member = await make.member(board, Role.VIEWER)

    with pytest.raises(AlreadyMember):
        await store.add_member(
            Member(board.id, member.user_id, Role.ADMIN, "2030-01-01T00:00:00.000000Z"), make.draft("member.added")
        )

    assert (await store.get_member(board.id, member.user_id)).role == Role.VIEWER  # type: ignore[union-attr]
    assert [e.seq for e in await store.list_events(board.id, 0, 10)] == [1]


async def test_adding_a_member_to_a_missing_board_raises_not_found(store: Store, make: Make) -> None:
    user = await make.user()

    with pytest.raises(NotFound):
        await store.add_member(
            Member(new_id(), user.id, Role.EDITOR, "2030-01-01T00:00:00.000000Z"), make.draft("member.added")
        )


async def test_members_are_listed_with_email_and_name_in_the_order_added(store: Store, make: Make) -> None:
    owner = await make.user(email="owner@example.com", name="Olga")
    board = await make.board(owner)
    first, second = await make.user(name="Bea"), await make.user(name="Cy")
    same_time = "2030-01-01T00:00:00.000000Z"
    for user in sorted([first, second], key=lambda u: u.id, reverse=True):
        await store.add_member(Member(board.id, user.id, Role.EDITOR, same_time), make.draft("member.added"))

    members = await store.list_members(board.id)

    tied = sorted([first, second], key=lambda u: u.id)
    assert [(m.user_id, m.email, m.name, m.role) for m in members] == [
        (owner.id, "owner@example.com", "Olga", Role.OWNER),
        *[(u.id, u.email, u.name, Role.EDITOR) for u in tied],
    ]


async def test_member_role_change_is_stored_and_is_an_event(store: Store, make: Make) -> None:
    board = await make.board()
    member = await make.member(board, Role.VIEWER)

    event = await store.update_member_role(board.id, member.user_id, Role.ADMIN, make.draft("member.updated"))

    assert (event.seq, event.type) == (2, "member.updated")
    assert (await store.get_member(board.id, member.user_id)).role == Role.ADMIN  # type: ignore[union-attr]


async def test_demoting_the_last_owner_raises_last_owner_and_changes_nothing(store: Store, make: Make) -> None:
    owner = await make.user()
    board = await make.board(owner)
    await make.member(board, Role.ADMIN)

    with pytest.raises(LastOwner):
        await store.update_member_role(board.id, owner.id, Role.ADMIN, make.draft("member.updated"))

    assert (await store.get_member(board.id, owner.id)).role == Role.OWNER  # type: ignore[union-attr]
    assert (await store.get_board(board.id)).seq == 1  # type: ignore[union-attr]


async def test_the_last_owner_may_keep_the_owner_role(store: Store, make: Make) -> None:
    owner = await make.user()
    board = await make.board(owner)

    event = await store.update_member_role(board.id, owner.id, Role.OWNER, make.draft("member.updated"))

    assert event.seq == 1


async def test_an_owner_can_be_demoted_or_removed_while_another_remains(store: Store, make: Make) -> None:
    owner = await make.user()
    board = await make.board(owner)
    second = await make.member(board, Role.OWNER)

    await store.update_member_role(board.id, owner.id, Role.EDITOR, make.draft("member.updated"))
    with pytest.raises(LastOwner):
        await store.remove_member(board.id, second.user_id, make.draft("member.removed"))
    await store.update_member_role(board.id, owner.id, Role.OWNER, make.draft("member.updated"))
    await store.remove_member(board.id, second.user_id, make.draft("member.removed"))

    assert [(m.user_id, m.role) for m in await store.list_members(board.id)] == [(owner.id, Role.OWNER)]


async def test_removing_the_last_owner_raises_last_owner_and_keeps_them(store: Store, make: Make) -> None:
    owner = await make.user()
    board = await make.board(owner)

    with pytest.raises(LastOwner):
        await store.remove_member(board.id, owner.id, make.draft("member.removed"))

    assert await store.get_member(board.id, owner.id) is not None
    assert await store.list_events(board.id, 0, 10) == []


async def test_removed_member_is_gone_and_the_removal_is_an_event(store: Store, make: Make) -> None:
    board = await make.board()
    member = await make.member(board, Role.EDITOR)

    event = await store.remove_member(board.id, member.user_id, make.draft("member.removed", user_id=member.user_id))

    assert (event.seq, event.type, event.data) == (2, "member.removed", {"user_id": member.user_id})
    assert await store.get_member(board.id, member.user_id) is None
    assert member.user_id not in [m.user_id for m in await store.list_members(board.id)]


async def test_changing_or_removing_a_non_member_raises_not_found(store: Store, make: Make) -> None:
    board = await make.board()
    stranger = await make.user()

    with pytest.raises(NotFound):
        await store.update_member_role(board.id, stranger.id, Role.EDITOR, make.draft("member.updated"))
    with pytest.raises(NotFound):
        await store.remove_member(board.id, stranger.id, make.draft("member.removed"))
    assert await store.list_events(board.id, 0, 10) == []
