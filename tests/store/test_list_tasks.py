"""list_tasks: every sort and filter, keyset paging, totals and full-text search."""

from __future__ import annotations

import dataclasses

import pytest

from app.domain.models import (
    Board,
    Priority,
    Task,
    TaskFilter,
    TaskPage,
    TaskPageRequest,
    TaskSort,
    sort_is_descending,
    task_sort_key,
)
from app.store.base import Store
from tests.store.conftest import Make

PRIORITIES = list(Priority)


def at(second: int) -> str:
    return f"2030-01-01T00:00:{second:02d}.000000Z"


def expected_order(tasks: list[Task], sort: TaskSort) -> list[str]:
    ordered = sorted(tasks, key=lambda t: (task_sort_key(t, sort), t.id), reverse=sort_is_descending(sort))
    return [t.id for t in ordered]


async def page(
    store: Store,
    board: Board,
    sort: TaskSort = TaskSort.POSITION,
    limit: int = 50,
    after: Task | None = None,
    total: bool = False,
    **wanted: str,
) -> TaskPage:
    keyset = None if after is None else (task_sort_key(after, sort), after.id)
    return await store.list_tasks(TaskPageRequest(board.id, TaskFilter(**wanted), sort, limit, keyset, total))


async def ids(store: Store, board: Board, sort: TaskSort = TaskSort.POSITION, **wanted: str) -> list[str]:
    return [t.id for t in (await page(store, board, sort, 200, **wanted)).items]


async def walk(store: Store, board: Board, sort: TaskSort, limit: int) -> list[list[Task]]:
    """Every page of one listing, checking has_more on the way."""
    pages: list[list[Task]] = []
    after = None
    while True:
        result = await page(store, board, sort, limit, after)
        pages.append(result.items)
        if not result.has_more:
            return pages
        assert len(result.items) == limit
        after = result.items[-1]


async def seed_with_ties(make: Make, board: Board) -> list[Task]:
    """13 tasks whose every sort key repeats, and a third of which have no due date."""
    return [
        await make.task(
            board,
            position="abc"[i % 3],
            created_at=at(i % 4),
            updated_at=at((i * 3) % 5),
            due_at=None if i % 3 == 0 else at(10 + i % 2),
            priority=PRIORITIES[i % 4],
        )
        for i in range(13)
    ]


@pytest.mark.parametrize("sort", list(TaskSort))
async def test_each_sort_pages_through_every_task_in_order_with_ties_broken_by_id(
    store: Store, make: Make, sort: TaskSort
) -> None:
    board = await make.board()
    tasks = await seed_with_ties(make, board)

    pages = await walk(store, board, sort, 4)

    assert [len(p) for p in pages] == [4, 4, 4, 1]
    assert [t.id for p in pages for t in p] == expected_order(tasks, sort)


async def test_has_more_is_false_when_the_last_page_is_exactly_full(store: Store, make: Make) -> None:
    board = await make.board()
    tasks = [await make.task(board) for _ in range(6)]

    pages = await walk(store, board, TaskSort.POSITION, 3)

    assert [[t.id for t in p] for p in pages] == [[t.id for t in tasks[:3]], [t.id for t in tasks[3:]]]
    assert (await page(store, board, limit=3, after=tasks[-1])).items == []


async def test_due_date_sort_puts_undated_tasks_last(store: Store, make: Make) -> None:
    board = await make.board()
    undated = await make.task(board)
    late = await make.task(board, due_at="2031-06-01T00:00:00.000000Z")
    early = await make.task(board, due_at="2030-06-01T00:00:00.000000Z")

    assert await ids(store, board, TaskSort.DUE_AT) == [early.id, late.id, undated.id]


async def test_priority_sort_puts_the_most_urgent_first(store: Store, make: Make) -> None:
    board = await make.board()
    made = {
        p: await make.task(board, priority=p) for p in (Priority.LOW, Priority.URGENT, Priority.MEDIUM, Priority.HIGH)
    }

    assert await ids(store, board, TaskSort.PRIORITY) == [made[p].id for p in PRIORITIES]


@pytest.mark.parametrize("sort, field", [(TaskSort.CREATED_DESC, "created_at"), (TaskSort.UPDATED_DESC, "updated_at")])
async def test_time_sorts_put_the_newest_first(store: Store, make: Make, sort: TaskSort, field: str) -> None:
    board = await make.board()
    made = [await make.task(board, **{field: at(second)}) for second in (5, 9, 1)]

    assert await ids(store, board, sort) == [made[1].id, made[0].id, made[2].id]


async def test_position_sort_follows_the_order_key_not_creation(store: Store, make: Make) -> None:
    board = await make.board()
    made = [await make.task(board, position=key) for key in ("m", "a", "z", "b")]

    assert await ids(store, board) == [made[1].id, made[3].id, made[0].id, made[2].id]


async def test_paging_while_tasks_are_inserted_neither_repeats_nor_skips(store: Store, make: Make) -> None:
    board = await make.board()
    originals = [await make.task(board, position=f"m{i:02d}") for i in range(10)]
    inserted_after: list[Task] = []
    seen: list[str] = []
    after = None
    for round_number in range(20):
        result = await page(store, board, limit=3, after=after)
        seen += [t.id for t in result.items]
        if not result.has_more:
            break
        after = result.items[-1]
        await make.task(board, position=f"a{round_number:02d}")  # lands before the cursor
        inserted_after.append(await make.task(board, position=f"z{round_number:02d}"))

    assert len(seen) == len(set(seen))
    assert seen == expected_order(originals + inserted_after, TaskSort.POSITION)


async def test_newest_first_paging_is_not_disturbed_by_new_tasks(store: Store, make: Make) -> None:
    board = await make.board()
    originals = [await make.task(board, created_at=at(i % 3)) for i in range(8)]
    seen: list[str] = []
    after = None
    while True:
        result = await page(store, board, TaskSort.CREATED_DESC, 3, after)
        seen += [t.id for t in result.items]
        if not result.has_more:
            break
        after = result.items[-1]
        await make.task(board, created_at="2031-01-01T00:00:00.000000Z")

    assert seen == expected_order(originals, TaskSort.CREATED_DESC)


async def test_status_filter_lists_one_column(store: Store, make: Make) -> None:
    board = await make.board()
    done = [await make.task(board, status="done") for _ in range(2)]
    await make.task(board, status="todo")

    assert await ids(store, board, status="done") == [t.id for t in done]
    assert await ids(store, board, status="in_progress") == []


async def test_assignee_filter_matches_one_element_of_the_list(store: Store, make: Make) -> None:
    board = await make.board()
    await make.task(board, assignees=["u1"])
    both = await make.task(board, assignees=["u1", "u2"])
    only = await make.task(board, assignees=["u2"])
    await make.task(board, assignees=[])

    assert await ids(store, board, assignee="u2") == [both.id, only.id]
    assert await ids(store, board, assignee="u") == []


async def test_label_filter_matches_one_element_of_the_list(store: Store, make: Make) -> None:
    board = await make.board()
    bug = await make.task(board, labels=["bug", "ui"])
    await make.task(board, labels=["ui"])

    assert await ids(store, board, label="bug") == [bug.id]


async def test_filters_follow_updates_of_assignees_and_labels(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board, assignees=["u1"], labels=["bug"])

    await store.update_task(dataclasses.replace(task, assignees=["u2"], labels=["feature"], version=2), 1, make.draft())

    assert await ids(store, board, assignee="u1") == []
    assert await ids(store, board, label="bug") == []
    assert await ids(store, board, assignee="u2") == [task.id]
    assert await ids(store, board, label="feature") == [task.id]


async def test_filters_combine_and_never_reach_other_boards(store: Store, make: Make) -> None:
    board, other = await make.board(), await make.board()
    fields = {"status": "todo", "assignees": ["u1"], "labels": ["bug"], "title": "crash on login"}
    wanted = await make.task(board, **fields)
    await make.task(other, **fields)
    for change in ({"status": "done"}, {"assignees": ["u2"]}, {"labels": ["ui"]}, {"title": "crash on logout"}):
        await make.task(board, **{**fields, **change})

    assert await ids(store, board, status="todo", assignee="u1", label="bug", text="login") == [wanted.id]
    assert len(await ids(store, other)) == 1


async def test_total_counts_every_match_whatever_the_page(store: Store, make: Make) -> None:
    board = await make.board()
    done = [await make.task(board, status="done") for _ in range(5)]
    await make.task(board, status="todo")

    first = await page(store, board, limit=2, total=True, status="done")
    later = await page(store, board, limit=2, after=done[3], total=True, status="done")

    assert (len(first.items), first.total, first.has_more) == (2, 5, True)
    assert ([t.id for t in later.items], later.total, later.has_more) == ([done[4].id], 5, False)
    assert (await page(store, board, limit=2)).total is None


async def test_text_search_requires_every_word_in_title_or_description(store: Store, make: Make) -> None:
    board = await make.board()
    both = await make.task(board, title="Alpha release", description="ship the beta build")
    await make.task(board, title="alpha only")
    await make.task(board, title="beta only")

    assert await ids(store, board, text="alpha beta") == [both.id]
    assert await ids(store, board, text="BETA Alpha") == [both.id]


async def test_text_search_matches_the_start_of_the_last_word(store: Store, make: Make) -> None:
    board = await make.board()
    design = await make.task(board, title="Design review")
    await make.task(board, title="Deploy")

    assert await ids(store, board, text="desi") == [design.id]
    assert await ids(store, board, text="review desi") == [design.id]


async def test_text_search_follows_title_changes_and_deletes(store: Store, make: Make) -> None:
    board = await make.board()
    task = await make.task(board, title="old wording")
    gone = await make.task(board, title="wording to delete")

    await store.update_task(dataclasses.replace(task, title="fresh phrasing", version=2), 1, make.draft())
    await store.delete_task(gone.id, None, make.draft())

    assert await ids(store, board, text="old") == []
    assert await ids(store, board, text="wording") == []
    assert await ids(store, board, text="fresh phrasing") == [task.id]


@pytest.mark.parametrize("text", ["!!!", "...", "  ", "\"'*()-+:^", "&&||"])
async def test_search_without_words_matches_nothing_and_does_not_fail(store: Store, make: Make, text: str) -> None:
    board = await make.board()
    await make.task(board, title="anything at all")

    result = await page(store, board, total=True, text=text)

    assert (result.items, result.total, result.has_more) == ([], 0, False)


@pytest.mark.parametrize(
    "text",
    [
        '{"$gt": ""}',
        '{"$ne": null}',
        "alpha OR zzz",
        "title:zzz alpha",
        "NEAR(alpha zzz)",
        '"alpha zzz',
        "alpha*zzz",
        "-alpha zzz",
        "^alpha zzz",
        "alpha AND NOT zzz OR",
        ".* zzz",
        "'; DROP TABLE tasks; --",
    ],
)
async def test_search_text_that_looks_like_an_operator_is_plain_words(store: Store, make: Make, text: str) -> None:
    board = await make.board()
    await make.task(board, title="alpha")
    operator = await make.task(board, title="compare gt and ne values with null")

    found = await ids(store, board, text=text)

    # Read as plain words, only the task holding every word can match; read as
    # syntax, most of these would return the "alpha" task or raise.
    assert set(found) <= {operator.id}
    assert len(await ids(store, board)) == 2


async def test_mongo_operator_as_text_finds_the_words_it_contains(store: Store, make: Make) -> None:
    board = await make.board()
    await make.task(board, title="alpha")
    operator = await make.task(board, title="values gt zero")

    assert await ids(store, board, text='{"$gt": ""}') == [operator.id]
