"""Comments in the store: each write appends its event in the same write, pages run in id
order, and a comment goes away with its task or its board."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from app.domain.clock import now
from app.domain.ids import new_id
from app.domain.models import Board, Comment, EventDraft, Task
from app.store.base import NotFound, Store
from tests.store.conftest import Make


def comment_record(task: Task, **fields: object) -> Comment:
    at = now()
    comment = Comment(
        id=new_id(),
        board_id=task.board_id,
        task_id=task.id,
        author_id="author",
        body="Looks good",
        mentions=[],
        created_at=at,
        updated_at=at,
    )
    return dataclasses.replace(comment, **fields)  # type: ignore[arg-type]


async def board_with_task(make: Make) -> tuple[Board, Task]:
    board = await make.board()
    return board, await make.task(board)


async def test_a_created_comment_reads_back_and_its_event_takes_the_next_seq(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    comment = comment_record(task, body="Ping @Ada", mentions=["u1"])

    event = await store.create_comment(comment, make.draft("comment.created", id=comment.id))

    assert (event.board_id, event.seq, event.type, event.data) == (board.id, 2, "comment.created", {"id": comment.id})
    assert await store.get_comment(comment.id) == comment
    assert (await store.get_board(board.id)).seq == 2  # type: ignore[union-attr]
    assert await store.list_events(board.id, 1, 10) == [event]


async def test_a_missing_comment_reads_as_none(store: Store) -> None:
    assert await store.get_comment(new_id()) is None


async def test_commenting_on_a_deleted_task_raises_not_found_and_logs_nothing(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    await store.delete_task(task.id, None, make.draft("task.deleted"))
    comment = comment_record(task)

    with pytest.raises(NotFound):
        await store.create_comment(comment, make.draft("comment.created"))

    assert await store.get_comment(comment.id) is None
    assert (await store.get_board(board.id)).seq == 2  # type: ignore[union-attr]


async def test_commenting_with_a_board_that_is_not_the_tasks_raises_not_found(store: Store, make: Make) -> None:
    _, task = await board_with_task(make)
    other = await make.board()

    with pytest.raises(NotFound):
        await store.create_comment(comment_record(task, board_id=other.id), make.draft("comment.created"))

    assert (await store.get_board(other.id)).seq == 0  # type: ignore[union-attr]


async def test_comments_page_oldest_first_per_task(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    other_task = await make.task(board)
    comments = []
    for number in range(5):
        comment = comment_record(task, body=f"c{number}")
        await store.create_comment(comment, make.draft("comment.created"))
        comments.append(comment)
    await store.create_comment(comment_record(other_task), make.draft("comment.created"))

    first = await store.list_comments(task.id, None, 2)
    rest = await store.list_comments(task.id, first[-1].id, 10)

    assert first + rest == sorted(comments, key=lambda comment: comment.id)
    assert len(first) == 2 and len(rest) == 3
    assert await store.list_comments(task.id, rest[-1].id, 10) == []
    assert await store.list_comments(new_id(), None, 10) == []


async def test_an_update_replaces_body_mentions_and_time_and_logs_an_event(store: Store, make: Make) -> None:
    _, task = await board_with_task(make)
    comment = comment_record(task)
    await store.create_comment(comment, make.draft("comment.created"))
    edited = dataclasses.replace(
        comment,
        body="Edited @Grace",
        mentions=["u2"],
        updated_at=now(),
        author_id="someone else",
        created_at="2000-01-01T00:00:00.000000Z",
    )

    event = await store.update_comment(edited, make.draft("comment.updated", id=comment.id))

    assert (event.seq, event.type) == (3, "comment.updated")
    # Only body, mentions and updated_at change; authorship and creation stay.
    assert await store.get_comment(comment.id) == dataclasses.replace(
        comment, body="Edited @Grace", mentions=["u2"], updated_at=edited.updated_at
    )


async def test_updating_or_deleting_a_missing_comment_raises_not_found(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    ghost = comment_record(task)

    with pytest.raises(NotFound):
        await store.update_comment(ghost, make.draft("comment.updated"))
    with pytest.raises(NotFound):
        await store.delete_comment(ghost.id, make.draft("comment.deleted"))

    assert (await store.get_board(board.id)).seq == 1  # type: ignore[union-attr]


async def test_a_deleted_comment_is_gone_and_its_event_is_logged(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    comment = comment_record(task)
    await store.create_comment(comment, make.draft("comment.created"))

    event = await store.delete_comment(comment.id, make.draft("comment.deleted", id=comment.id))

    assert (event.board_id, event.seq, event.type) == (board.id, 3, "comment.deleted")
    assert await store.get_comment(comment.id) is None
    assert await store.list_comments(task.id, None, 10) == []


async def test_deleting_a_task_deletes_its_comments_only(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    kept_task = await make.task(board)
    doomed, kept = comment_record(task), comment_record(kept_task)
    await store.create_comment(doomed, make.draft("comment.created"))
    await store.create_comment(kept, make.draft("comment.created"))

    await store.delete_task(task.id, None, make.draft("task.deleted"))

    assert await store.get_comment(doomed.id) is None
    assert await store.list_comments(task.id, None, 10) == []
    assert await store.get_comment(kept.id) == kept


async def test_deleting_a_board_deletes_its_comments(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    comment = comment_record(task)
    await store.create_comment(comment, make.draft("comment.created"))

    assert await store.delete_board(board.id) is True

    assert await store.get_comment(comment.id) is None


async def test_returned_mentions_are_copies(store: Store, make: Make) -> None:
    _, task = await board_with_task(make)
    comment = comment_record(task, mentions=["u1"])
    await store.create_comment(comment, make.draft("comment.created"))

    read = await store.get_comment(comment.id)
    assert read is not None
    read.mentions.append("u2")

    assert await store.get_comment(comment.id) == comment


async def test_concurrent_comments_get_seqs_one_apart_with_no_gap(store: Store, make: Make) -> None:
    _, task = await board_with_task(make)
    drafts = [comment_record(task, body=f"c{number}") for number in range(10)]

    events = await asyncio.gather(*(store.create_comment(c, make.draft("comment.created")) for c in drafts))

    assert sorted(event.seq for event in events) == list(range(2, 12))
    assert len(await store.list_comments(task.id, None, 100)) == 10


async def test_an_events_client_mutation_id_is_kept_in_the_log(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    draft = EventDraft("comment.created", "actor", now(), {"id": "c"}, client_mutation_id="m-42")

    event = await store.create_comment(comment_record(task), draft)

    assert event.client_mutation_id == "m-42"
    logged = await store.list_events(board.id, 0, 10)
    assert [entry.client_mutation_id for entry in logged] == [None, "m-42"]
    assert logged[-1] == event


async def test_the_api_token_an_event_was_made_with_is_kept_in_the_log(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    via = {"token_id": "t1", "token_name": "Claude"}
    draft = EventDraft("comment.created", "actor", now(), {"id": "c"}, via=via)

    event = await store.create_comment(comment_record(task), draft)

    assert event.via == via
    assert [entry.via for entry in await store.list_events(board.id, 0, 10)] == [None, via]


async def test_comments_are_counted_per_task(store: Store, make: Make) -> None:
    board, task = await board_with_task(make)
    quiet = await make.task(board)
    other = await make.task(board)
    for _ in range(3):
        await store.create_comment(comment_record(task), make.draft("comment.created"))
    gone = comment_record(other)
    await store.create_comment(gone, make.draft("comment.created"))
    await store.delete_comment(gone.id, make.draft("comment.deleted"))

    assert await store.count_comments([task.id, quiet.id, other.id]) == {task.id: 3}
    assert await store.count_comments([]) == {}
