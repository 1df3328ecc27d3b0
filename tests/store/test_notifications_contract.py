"""Notifications in the store: written in the same write as the event that causes them (and
never without it), listed newest first per user, marked read only by their owner, scoped to
an API token's boards, gone with their board, and bounded per user."""

from __future__ import annotations

import dataclasses

import pytest

from app.domain.clock import now
from app.domain.ids import new_id
from app.domain.models import (
    NOTIFICATIONS_KEPT_PER_USER,
    Board,
    Comment,
    EventDraft,
    Member,
    NotificationDraft,
    NotificationScope,
    NotificationType,
    Role,
    User,
)
from app.store.base import NotFound, Store, VersionConflict
from tests.store.conftest import Make


def notice(
    user: User, type: NotificationType = NotificationType.TASK_ASSIGNED, notice_id: str | None = None, **fields: object
) -> NotificationDraft:
    draft = NotificationDraft(
        id=notice_id or new_id(),
        user_id=user.id,
        type=type,
        board_name="Launch",
        actor_name="Ada",
        data={"task_title": "Ship it"},
    )
    return dataclasses.replace(draft, **fields)  # type: ignore[arg-type]


def ordered_ids(count: int) -> list[str]:
    """Ids made within one millisecond are not ordered among themselves; sorting them is."""
    return sorted(new_id() for _ in range(count))


async def notify(make: Make, board: Board, *notices: NotificationDraft) -> None:
    """One event (a task creation) that notifies ``notices``."""
    draft = make.draft("task.created", actor="actor")
    draft.notify = list(notices)
    await make.store.create_task(make.task_record(board), draft)


async def test_a_notification_is_stored_with_its_event_and_returned_with_it(store: Store, make: Make) -> None:
    board, bob = await make.board(), await make.user()
    task = make.task_record(board)
    draft = make.draft("task.created", actor="ada-id")
    draft.notify = [notice(bob, task_id=task.id)]

    event = await store.create_task(task, draft)

    [made] = event.notifications
    assert (made.user_id, made.type, made.board_id, made.board_name, made.actor, made.actor_name) == (
        bob.id,
        NotificationType.TASK_ASSIGNED,
        board.id,
        "Launch",
        "ada-id",
        "Ada",
    )
    assert (made.at, made.seq, made.task_id, made.comment_id, made.read_at) == (
        event.at,
        event.seq,
        task.id,
        None,
        None,
    )
    assert made.data == {"task_title": "Ship it"}
    assert await store.list_notifications(NotificationScope(bob.id), False, None, 10) == [made]
    assert await store.count_unread_notifications(NotificationScope(bob.id)) == 1
    # The log holds the event alone; notifications are not part of it.
    assert (await store.list_events(board.id, event.seq - 1, 1))[0].notifications == []


async def test_a_refused_write_stores_no_notification(store: Store, make: Make) -> None:
    board, bob = await make.board(), await make.user()
    task = await make.task(board)
    gone = make.task_record(board, board_id=new_id())

    with pytest.raises(NotFound):
        await store.create_task(gone, EventDraft("task.created", "a", now(), {}, notify=[notice(bob)]))
    with pytest.raises(VersionConflict):
        await store.update_task(
            dataclasses.replace(task, version=3), 2, EventDraft("task.updated", "a", now(), {}, notify=[notice(bob)])
        )

    assert await store.list_notifications(NotificationScope(bob.id), False, None, 10) == []


async def test_every_event_writing_use_case_stores_its_notifications(store: Store, make: Make) -> None:
    board, bob = await make.board(), await make.user()
    task = await make.task(board)
    comment = Comment(
        id=new_id(),
        board_id=board.id,
        task_id=task.id,
        author_id="a",
        body="@Bob",
        mentions=[bob.id],
        created_at=now(),
        updated_at=now(),
    )
    await store.add_member(
        Member(board.id, bob.id, Role.EDITOR, now()),
        EventDraft("member.added", "a", now(), {}, notify=[notice(bob, NotificationType.MEMBER_ADDED)]),
    )
    await store.update_task(
        dataclasses.replace(task, version=2), 1, EventDraft("task.updated", "a", now(), {}, notify=[notice(bob)])
    )
    await store.create_comment(
        comment, EventDraft("comment.created", "a", now(), {}, notify=[notice(bob, NotificationType.COMMENT_MENTIONED)])
    )
    await store.update_comment(
        comment, EventDraft("comment.updated", "a", now(), {}, notify=[notice(bob, NotificationType.COMMENT_MENTIONED)])
    )

    listed = await store.list_notifications(NotificationScope(bob.id), False, None, 10)
    assert sorted(n.seq for n in listed) == [2, 3, 4, 5]
    assert {n.type for n in listed} == {
        NotificationType.MEMBER_ADDED,
        NotificationType.TASK_ASSIGNED,
        NotificationType.COMMENT_MENTIONED,
    }


async def test_notifications_list_newest_first_in_pages_and_unread_alone(store: Store, make: Make) -> None:
    board, bob = await make.board(), await make.user()
    ids = ordered_ids(5)
    await notify(make, board, *(notice(bob, notice_id=notice_id) for notice_id in ids))
    scope = NotificationScope(bob.id)
    await store.mark_notifications_read(scope, [ids[1], ids[3]], None, now())

    first = await store.list_notifications(scope, False, None, 2)
    rest = await store.list_notifications(scope, False, first[-1].id, 10)
    unread = await store.list_notifications(scope, True, None, 10)

    assert [n.id for n in first + rest] == ids[::-1]
    assert [n.id for n in unread] == [ids[4], ids[2], ids[0]]
    assert [n.id for n in await store.list_notifications(scope, True, ids[2], 10)] == [ids[0]]
    assert await store.count_unread_notifications(scope) == 3


async def test_marking_read_by_ids_or_all_up_to_one_changes_only_unread_ones(store: Store, make: Make) -> None:
    board, bob = await make.board(), await make.user()
    ids = ordered_ids(4)
    await notify(make, board, *(notice(bob, notice_id=notice_id) for notice_id in ids))
    scope = NotificationScope(bob.id)
    first_read = now()

    assert await store.mark_notifications_read(scope, [ids[0], new_id()], None, first_read) == 1
    assert await store.mark_notifications_read(scope, [ids[0]], None, now()) == 0  # already read
    assert await store.mark_notifications_read(scope, None, ids[2], now()) == 2  # ids[1] and ids[2]
    assert await store.count_unread_notifications(scope) == 1
    assert await store.mark_notifications_read(scope, None, None, now()) == 1

    listed = {n.id: n.read_at for n in await store.list_notifications(scope, False, None, 10)}
    assert listed[ids[0]] == first_read and all(listed.values())


async def test_one_notification_is_marked_read_and_unread_keeping_when_it_was_first_read(
    store: Store, make: Make
) -> None:
    board, bob = await make.board(), await make.user()
    [notice_id] = ordered_ids(1)
    await notify(make, board, notice(bob, notice_id=notice_id))
    scope, first, later = NotificationScope(bob.id), now(), "2999-01-01T00:00:00.000000Z"

    assert (await store.set_notification_read(scope, notice_id, first)).read_at == first  # type: ignore[union-attr]
    assert (await store.set_notification_read(scope, notice_id, later)).read_at == first  # type: ignore[union-attr]
    unread = await store.set_notification_read(scope, notice_id, None)
    assert unread is not None and unread.read_at is None
    assert await store.count_unread_notifications(scope) == 1
    assert await store.set_notification_read(scope, new_id(), first) is None


async def test_another_users_notifications_can_be_neither_seen_nor_marked(store: Store, make: Make) -> None:
    board, bob, eve = await make.board(), await make.user(), await make.user()
    [notice_id] = ordered_ids(1)
    await notify(make, board, notice(bob, notice_id=notice_id))
    eve_scope = NotificationScope(eve.id)

    assert await store.list_notifications(eve_scope, False, None, 10) == []
    assert await store.count_unread_notifications(eve_scope) == 0
    assert await store.mark_notifications_read(eve_scope, [notice_id], None, now()) == 0
    assert await store.mark_notifications_read(eve_scope, None, None, now()) == 0
    assert await store.set_notification_read(eve_scope, notice_id, now()) is None
    assert await store.count_unread_notifications(NotificationScope(bob.id)) == 1


async def test_a_board_limited_scope_sees_and_marks_only_those_boards(store: Store, make: Make) -> None:
    allowed, other, bob = await make.board(), await make.board(), await make.user()
    await notify(make, allowed, notice(bob))
    await notify(make, other, notice(bob))
    scope = NotificationScope(bob.id, frozenset({allowed.id}))

    assert [n.board_id for n in await store.list_notifications(scope, False, None, 10)] == [allowed.id]
    assert await store.count_unread_notifications(scope) == 1
    [outside] = await store.list_notifications(NotificationScope(bob.id, frozenset({other.id})), False, None, 10)
    assert await store.set_notification_read(scope, outside.id, now()) is None
    assert await store.mark_notifications_read(scope, None, None, now()) == 1
    assert await store.count_unread_notifications(NotificationScope(bob.id)) == 1


async def test_deleting_a_board_deletes_its_notifications(store: Store, make: Make) -> None:
    doomed, kept, bob = await make.board(), await make.board(), await make.user()
    await notify(make, doomed, notice(bob))
    await notify(make, kept, notice(bob))

    await store.delete_board(doomed.id)

    assert [n.board_id for n in await store.list_notifications(NotificationScope(bob.id), False, None, 10)] == [kept.id]


async def test_each_user_keeps_only_the_newest_notifications(store: Store, make: Make) -> None:
    board, bob, carol = await make.board(), await make.user(), await make.user()
    ids = ordered_ids(NOTIFICATIONS_KEPT_PER_USER + 3)
    await notify(make, board, notice(carol))
    await notify(make, board, *(notice(bob, notice_id=notice_id) for notice_id in ids[:10]))
    await notify(make, board, *(notice(bob, notice_id=notice_id) for notice_id in ids[10:]))

    kept = await store.list_notifications(NotificationScope(bob.id), False, None, NOTIFICATIONS_KEPT_PER_USER + 10)

    assert [n.id for n in kept] == ids[3:][::-1]
    assert await store.count_unread_notifications(NotificationScope(carol.id)) == 1
