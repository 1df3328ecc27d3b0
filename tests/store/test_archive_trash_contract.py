"""Archive, trash, leases and invitations in the store, on both adapters."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from app.domain.clock import now
from app.domain.ids import new_id
from app.domain.invitations import Invitation, InvitationStatus
from app.domain.models import Comment, Member, Role, TaskFilter, TaskPageRequest, TaskSort
from app.store.base import AlreadyMember, NotFound, Store, VersionConflict
from tests.store.conftest import Make

LATER = "2999-01-01T00:00:00.000000Z"
EARLIER = "2000-01-01T00:00:00.000000Z"


async def _ids(store: Store, board_id: str, archived: bool = False, **wanted: str) -> set[str]:
    page = await store.list_tasks(
        TaskPageRequest(board_id, TaskFilter(archived=archived, **wanted), TaskSort.POSITION, 50, include_total=True)
    )
    assert page.total == len(page.items)
    return {task.id for task in page.items}


async def test_an_archived_task_leaves_the_lists_and_comes_back_with_archived_true(store: Store, make: Make) -> None:
    board = await make.board()
    kept, archived = await make.task(board, title="kept alpha"), await make.task(board, title="archived alpha")
    changed = dataclasses.replace(archived, archived_at=now(), version=2)
    await store.update_task(changed, 1, make.draft("task.archived"))

    assert await store.get_task(archived.id) == changed
    assert await _ids(store, board.id) == {kept.id}
    assert await _ids(store, board.id, archived=True) == {archived.id}
    assert await _ids(store, board.id, text="alpha") == {kept.id}
    assert await _ids(store, board.id, archived=True, text="alpha", status="todo") == {archived.id}

    restored = dataclasses.replace(changed, archived_at=None, version=3)
    await store.update_task(restored, 2, make.draft("task.unarchived"))
    assert await store.get_task(archived.id) == restored
    assert await _ids(store, board.id) == {kept.id, archived.id}


async def test_archived_boards_are_listed_apart(store: Store, make: Make) -> None:
    owner = await make.user()
    boards = sorted([await make.board(owner) for _ in range(4)], key=lambda board: board.id)
    event = await store.set_board_archived(boards[1].id, now(), make.draft("board.archived"))
    assert event.seq == 1 and event.type == "board.archived"

    listed = await store.list_boards_for_user(owner.id, None, 2)
    assert [board.id for board, _ in listed] == [boards[0].id, boards[2].id]
    archived = await store.list_boards_for_user(owner.id, None, 10, archived=True)
    assert [board.id for board, _ in archived] == [boards[1].id]
    assert archived[0][0].archived_at is not None

    await store.set_board_archived(boards[1].id, None, make.draft("board.unarchived"))
    assert (await store.get_board(boards[1].id)).archived_at is None  # type: ignore[union-attr]
    assert len(await store.list_boards_for_user(owner.id, None, 10)) == 4
    with pytest.raises(NotFound):
        await store.set_board_archived(new_id(), now(), make.draft("board.archived"))


def _comment(task_id: str, board_id: str, body: str) -> Comment:
    at = now()
    return Comment(new_id(), board_id, task_id, "author", body, [], at, at)


async def test_a_trashed_task_is_gone_from_every_read_and_restores_with_its_comments(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board, title="Write the report", labels=["docs"])
    comment = _comment(task.id, board.id, "first draft attached")
    await store.create_comment(comment, make.draft("comment.created"))

    event = await store.trash_task(task.id, 1, "deleter", make.draft("task.deleted", id=task.id))

    assert (event.type, event.seq) == ("task.deleted", 3)
    assert await store.get_task(task.id) is None
    assert await _ids(store, board.id) == set()
    assert await _ids(store, board.id, label="docs") == set()
    assert await store.list_comments(task.id, None, 10) == []
    entry = await store.get_trashed_task(task.id)
    assert entry is not None
    assert (entry.board_id, entry.title, entry.deleted_by, entry.deleted_at) == (
        board.id,
        "Write the report",
        "deleter",
        event.at,
    )
    assert entry.task["labels"] == ["docs"] and entry.comments["items"][0]["body"] == "first draft attached"
    assert [item.id for item in await store.list_trash(board.id, 10)] == [task.id]

    back = dataclasses.replace(task, version=2)
    restored = await store.restore_task(back, [comment], make.draft("task.restored", id=task.id))
    assert restored.seq == 4
    assert await store.get_task(task.id) == back
    assert await store.list_comments(task.id, None, 10) == [comment]
    assert await _ids(store, board.id, label="docs") == {task.id}
    assert await store.list_trash(board.id, 10) == []
    with pytest.raises(NotFound):
        await store.restore_task(back, [], make.draft("task.restored"))
    assert (await store.get_board(board.id)).seq == 4  # type: ignore[union-attr]


async def test_trashing_checks_the_version_and_that_the_task_exists(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board)
    with pytest.raises(VersionConflict) as conflict:
        await store.trash_task(task.id, 7, "deleter", make.draft("task.deleted"))
    assert conflict.value.current == task
    with pytest.raises(NotFound):
        await store.trash_task(new_id(), None, "deleter", make.draft("task.deleted"))
    assert await store.get_task(task.id) == task
    assert (await store.get_board(board.id)).seq == 1  # type: ignore[union-attr]


async def test_expired_trash_is_listed_oldest_first_and_purged_once(store: Store, make: Make) -> None:
    board = await make.board()
    tasks = [await make.task(board) for _ in range(3)]
    for task in tasks:
        await store.trash_task(task.id, None, "deleter", make.draft("task.deleted"))
    expired = await store.list_expired_trash(LATER, 2)
    assert [entry.id for entry in expired] == [task.id for task in tasks[:2]]
    assert await store.list_expired_trash(EARLIER, 10) == []

    results = await asyncio.gather(
        *(store.purge_trashed_task(tasks[0].id, make.draft("task.purged")) for _ in range(3)), return_exceptions=True
    )
    assert sum(not isinstance(result, BaseException) for result in results) == 1
    assert all(isinstance(result, NotFound) for result in results if isinstance(result, BaseException))
    assert [entry.id for entry in await store.list_trash(board.id, 10)] == [tasks[2].id, tasks[1].id]


async def test_a_lease_has_one_owner_until_it_runs_out_or_is_released(store: Store) -> None:
    assert await store.claim_lease("purge", "a", now(), LATER)
    assert not await store.claim_lease("purge", "b", now(), LATER)
    assert await store.claim_lease("purge", "a", now(), LATER)  # renewed by its owner
    assert await store.claim_lease("other", "b", now(), LATER)  # names are separate
    await store.release_lease("purge", "b")  # not b's: nothing happens
    assert not await store.claim_lease("purge", "b", now(), LATER)
    await store.release_lease("purge", "a")
    assert await store.claim_lease("purge", "b", now(), EARLIER)  # expires at once
    assert await store.claim_lease("purge", "c", now(), LATER)  # an expired lease is free


def _invitation(board_id: str, **fields: object) -> Invitation:
    invitation = Invitation(
        id=new_id(),
        board_id=board_id,
        email="new@example.com",
        role=Role.COMMENTER,
        token_hash=new_id(),
        created_by="admin",
        created_at=now(),
        expires_at=LATER,
    )
    return dataclasses.replace(invitation, **fields)  # type: ignore[arg-type]


async def test_an_invitation_is_accepted_once_and_adds_the_member_in_the_same_write(store: Store, make: Make) -> None:
    board = await make.board()
    invitation = _invitation(board.id)
    created = await store.create_invitation(invitation, make.draft("invitation.created"))
    assert created.seq == 1
    assert await store.get_invitation(invitation.id) == invitation
    assert await store.get_invitation_by_token_hash(invitation.token_hash) == invitation
    assert await store.list_invitations(board.id) == [invitation]

    users = [await make.user() for _ in range(3)]
    results = await asyncio.gather(
        *(
            store.accept_invitation(
                invitation.id, Member(board.id, user.id, Role.COMMENTER, now()), make.draft("member.added")
            )
            for user in users
        ),
        return_exceptions=True,
    )
    winners = [user for user, result in zip(users, results, strict=True) if not isinstance(result, BaseException)]
    assert len(winners) == 1
    accepted = await store.get_invitation(invitation.id)
    assert accepted is not None and accepted.accepted_by == winners[0].id
    assert accepted.status(now()) is InvitationStatus.ACCEPTED
    members = {member.user_id: member.role for member in await store.list_members(board.id)}
    assert members[winners[0].id] is Role.COMMENTER
    assert not {user.id for user in users if user is not winners[0]} & set(members)
    assert await store.list_invitations(board.id) == []
    assert (await store.get_board(board.id)).seq == 2  # type: ignore[union-attr]


async def test_a_revoked_expired_or_foreign_invitation_cannot_be_accepted(store: Store, make: Make) -> None:
    board, other = await make.board(), await make.board()
    user = await make.user()
    revoked, expired = _invitation(board.id), _invitation(board.id, expires_at=EARLIER)
    for invitation in (revoked, expired):
        await store.create_invitation(invitation, make.draft("invitation.created"))
    await store.revoke_invitation(revoked.id, now(), make.draft("invitation.revoked"))
    with pytest.raises(NotFound):
        await store.revoke_invitation(revoked.id, now(), make.draft("invitation.revoked"))
    for invitation, board_id in ((revoked, board.id), (expired, board.id), (expired, other.id)):
        with pytest.raises(NotFound):
            await store.accept_invitation(
                invitation.id, Member(board_id, user.id, Role.EDITOR, now()), make.draft("member.added")
            )
    assert [item.id for item in await store.list_invitations(board.id)] == [expired.id]
    assert await store.get_member(board.id, user.id) is None


async def test_accepting_as_a_member_already_changes_nothing(store: Store, make: Make) -> None:
    board = await make.board()
    member = await make.member(board, Role.VIEWER)
    invitation = _invitation(board.id)
    await store.create_invitation(invitation, make.draft("invitation.created"))
    seq = (await store.get_board(board.id)).seq  # type: ignore[union-attr]
    with pytest.raises(AlreadyMember):
        await store.accept_invitation(
            invitation.id, Member(board.id, member.user_id, Role.EDITOR, now()), make.draft("member.added")
        )
    assert await store.get_invitation(invitation.id) == invitation
    assert (await store.get_member(board.id, member.user_id)).role is Role.VIEWER  # type: ignore[union-attr]
    assert (await store.get_board(board.id)).seq == seq  # type: ignore[union-attr]


async def test_deleting_a_board_deletes_its_trash_and_invitations(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board)
    await store.trash_task(task.id, None, "deleter", make.draft("task.deleted"))
    invitation = _invitation(board.id)
    await store.create_invitation(invitation, make.draft("invitation.created"))
    assert await store.delete_board(board.id)
    assert await store.get_trashed_task(task.id) is None
    assert await store.get_invitation(invitation.id) is None
    assert await store.list_expired_trash(LATER, 10) == []
