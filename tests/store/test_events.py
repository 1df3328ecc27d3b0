"""The event log: gapless per-board seqs, also under concurrent writers, and catch-up reads."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3

import pytest

from app.domain.clock import now
from app.domain.ids import new_id
from app.domain.models import Comment, Role
from app.store import sqlite_events
from app.store.base import AlreadyMember, NotFound, Store, VersionConflict
from app.store.sqlite_schema import apply_migrations
from tests.store.conftest import Make


async def test_every_kind_of_board_write_takes_the_next_seq(store: Store, make: Make) -> None:
    board = await make.board()
    member = await make.member(board)
    task = await make.task(board)
    await store.update_task(dataclasses.replace(task, version=2), 1, make.draft("task.updated"))
    await store.update_member_role(board.id, member.user_id, Role.ADMIN, make.draft("member.updated"))
    await store.update_board(board, make.draft("board.updated"))
    await store.delete_task(task.id, 2, make.draft("task.deleted"))
    await store.remove_member(board.id, member.user_id, make.draft("member.removed"))

    events = await store.list_events(board.id, 0, 100)

    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6, 7]
    assert [e.type for e in events] == [
        "member.added",
        "task.created",
        "task.updated",
        "member.updated",
        "board.updated",
        "task.deleted",
        "member.removed",
    ]
    assert (await store.get_board(board.id)).seq == 7  # type: ignore[union-attr]


async def test_stored_event_is_the_draft_with_its_board_and_seq(store: Store, make: Make) -> None:
    board = await make.board()
    task = make.task_record(board)
    draft = make.draft("task.created", actor="u1", task={"id": task.id, "labels": ["a"], "due_at": None}, n=3)

    returned = await store.create_task(task, draft)

    [stored] = await store.list_events(board.id, 0, 10)
    assert stored == returned
    assert (stored.board_id, stored.seq, stored.type, stored.actor, stored.at, stored.data) == (
        board.id,
        1,
        draft.type,
        draft.actor,
        draft.at,
        draft.data,
    )


async def test_events_after_a_seq_are_listed_in_order_up_to_the_limit(store: Store, make: Make) -> None:
    board = await make.board()
    for _ in range(10):
        await make.task(board)

    assert [e.seq for e in await store.list_events(board.id, 0, 3)] == [1, 2, 3]
    assert [e.seq for e in await store.list_events(board.id, 4, 3)] == [5, 6, 7]
    assert [e.seq for e in await store.list_events(board.id, 8, 100)] == [9, 10]
    assert await store.list_events(board.id, 10, 100) == []


async def test_each_board_numbers_its_own_events(store: Store, make: Make) -> None:
    first, second = await make.board(), await make.board()
    for board in (first, second, first, first, second):
        await make.task(board)

    assert [e.seq for e in await store.list_events(first.id, 0, 10)] == [1, 2, 3]
    assert [e.seq for e in await store.list_events(second.id, 0, 10)] == [1, 2]


async def test_failed_writes_use_up_no_seq(store: Store, make: Make) -> None:
    board = await make.board()
    member = await make.member(board)
    task = await make.task(board)
    await store.update_task(dataclasses.replace(task, version=2), 1, make.draft("task.updated"))

    with pytest.raises(VersionConflict):
        await store.update_task(dataclasses.replace(task, version=2), 1, make.draft("task.updated"))
    with pytest.raises(AlreadyMember):
        await store.add_member(member, make.draft("member.added"))
    with pytest.raises(NotFound):
        await store.delete_task("missing", None, make.draft("task.deleted"))
    await make.task(board)

    assert [e.seq for e in await store.list_events(board.id, 0, 100)] == [1, 2, 3, 4]


async def test_fifty_concurrent_updates_of_one_version_let_exactly_one_win(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board)

    async def update(n: int) -> str:
        try:
            await store.update_task(
                dataclasses.replace(task, title=f"edit {n}", version=2), 1, make.draft("task.updated")
            )
        except VersionConflict as conflict:
            assert conflict.current.version == 2
            return "conflict"
        return f"edit {n}"

    outcomes = await asyncio.gather(*(update(n) for n in range(50)))

    winners = [outcome for outcome in outcomes if outcome != "conflict"]
    assert len(winners) == 1 and outcomes.count("conflict") == 49
    stored = await store.get_task(task.id)
    assert stored is not None and (stored.title, stored.version) == (winners[0], 2)
    assert [e.seq for e in await store.list_events(board.id, 0, 100)] == [1, 2]


async def test_concurrent_writes_on_one_board_get_seqs_one_to_n(store: Store, make: Make) -> None:
    board = await make.board()
    tasks = [make.task_record(board) for _ in range(60)]

    events = await asyncio.gather(*(store.create_task(t, make.draft("task.created", id=t.id)) for t in tasks))

    assert sorted(e.seq for e in events) == list(range(1, 61))
    logged = await store.list_events(board.id, 0, 100)
    assert [e.seq for e in logged] == list(range(1, 61))
    assert {e.data["id"] for e in logged} == {t.id for t in tasks}
    assert (await store.get_board(board.id)).seq == 60  # type: ignore[union-attr]


async def test_a_tasks_events_are_its_own_task_and_comment_events_in_seq_order(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board)
    other = await make.task(board)
    await store.update_task(dataclasses.replace(task, version=2), 1, make.draft("task.updated", id=task.id))
    await store.update_task(dataclasses.replace(other, version=2), 1, make.draft("task.updated", id=other.id))
    comment = Comment(
        id=new_id(),
        board_id=board.id,
        task_id=task.id,
        author_id="author",
        body="Hi",
        mentions=[],
        created_at=now(),
        updated_at=now(),
    )
    await store.create_comment(comment, make.draft("comment.created", id=comment.id, task_id=task.id))
    await store.update_board(board, make.draft("board.updated", id=board.id))
    await store.delete_task(task.id, 2, make.draft("task.deleted", id=task.id))

    history = await store.list_events(board.id, 0, 100, task_id=task.id)

    assert [(e.seq, e.type) for e in history] == [
        (1, "task.created"),
        (3, "task.updated"),
        (5, "comment.created"),
        (7, "task.deleted"),
    ]
    assert [e.seq for e in await store.list_events(board.id, 3, 2, task_id=task.id)] == [5, 7]
    assert [e.type for e in await store.list_events(board.id, 0, 100, task_id=other.id)] == [
        "task.created",
        "task.updated",
    ]
    assert await store.list_events(board.id, 0, 100, task_id=new_id()) == []


async def test_a_tasks_events_stay_on_their_board(store: Store, make: Make) -> None:
    board = await make.board()
    elsewhere = await make.board()
    task = await make.task(board)

    assert await store.list_events(elsewhere.id, 0, 100, task_id=task.id) == []


def test_sqlite_reads_a_tasks_history_through_its_index_not_the_whole_log() -> None:
    conn = sqlite3.connect(":memory:")
    apply_migrations(conn)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    sqlite_events.list_events(conn, "board", 0, 10, task_id="task")
    [query] = [s for s in statements if s.startswith("SELECT")]
    plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + query))
    assert "USING INDEX events_task" in plan, plan
