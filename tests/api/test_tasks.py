"""Tasks over REST: fields, validation, optimistic concurrency, moves, lists and the log."""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Doc, Text

from app.runtime import Runtime
from tests.support.apiclient import Api


async def test_a_created_task_has_every_contract_field_and_version_1(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(
        owner,
        board,
        "Write docs",
        description="all of them",
        priority="high",
        labels=["docs"],
        assignees=[owner.id],
        due_at="2026-12-24T18:00:00+01:00",
    )
    assert set(task) == {
        "id",
        "board_id",
        "title",
        "description",
        "status",
        "priority",
        "assignees",
        "labels",
        "due_at",
        "position",
        "created_by",
        "created_at",
        "updated_at",
        "version",
        "checklist",  # an addition to v1 (docs/columns-and-checklists.md)
    }
    assert task["checklist"] == []
    assert task["version"] == 1 and task["status"] == "todo" and task["board_id"] == board
    assert task["due_at"] == "2026-12-24T17:00:00.000000Z"
    assert (await api.call("GET", f"/api/v1/tasks/{task['id']}", owner))[1] == task


async def test_invalid_task_fields_are_refused_and_change_nothing(api: Api) -> None:
    owner = await api.register()
    stranger = await api.register()
    board = (await api.board(owner))["id"]
    bad_bodies = [
        {"title": ""},
        {"title": "x" * 301},
        {"title": "ok", "status": "nope"},
        {"title": "ok", "priority": "meh"},
        {"title": "ok", "labels": [f"l{i}" for i in range(21)]},
        {"title": "ok", "due_at": "tomorrow"},
        {"title": "ok", "assignees": [stranger.id]},
        {"title": {"$gt": ""}},
        {"title": "ok", "labels": ["a", "a"]},
        {"title": "ok", "status": {"$ne": None}},
    ]
    for body in bad_bodies:
        status, response = await api.call("POST", f"/api/v1/boards/{board}/tasks", owner, json=body)
        assert status == 422, (body, response)
    status, page = await api.call("GET", f"/api/v1/boards/{board}/tasks?include_total=true", owner)
    assert page["total"] == 0
    assert (await api.call("GET", f"/api/v1/boards/{board}/events", owner))[1]["latest_seq"] == 0


async def test_a_stale_version_gets_409_with_the_current_task(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(owner, board)
    path = f"/api/v1/tasks/{task['id']}"
    status, v2 = await api.call("PATCH", path, owner, json={"title": "First", "version": 1})
    assert status == 200 and v2["version"] == 2
    status, body = await api.call("PATCH", path, owner, json={"title": "Second", "version": 1})
    assert status == 409 and body["error"]["code"] == "version_conflict" and body["current"] == v2
    status, body = await api.call("PATCH", path, owner, json={"title": "Third"}, headers={"If-Match": '"1"'})
    assert status == 409
    status, v3 = await api.call("PATCH", path, owner, json={"title": "Third"}, headers={"If-Match": '"2"'})
    assert status == 200 and v3["version"] == 3 and v3["title"] == "Third"
    status, body = await api.call("PATCH", path, owner, json={"title": "No version"})
    assert status == 428 and body["error"]["code"] == "version_required"


async def test_fifty_concurrent_writers_on_one_version_have_exactly_one_winner(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(owner, board)
    results = await asyncio.gather(
        *(
            api.call("PATCH", f"/api/v1/tasks/{task['id']}", owner, json={"title": f"writer {n}", "version": 1})
            for n in range(50)
        )
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * 49
    events = (await api.call("GET", f"/api/v1/boards/{board}/events", owner))[1]["items"]
    assert [event["type"] for event in events] == ["task.created", "task.updated"]


def _document_text(updates: list[tuple[str, bytes]]) -> str:
    doc: Doc = Doc()
    text = doc.get("description", type=Text)
    for _, update in updates:
        doc.apply_update(update)
    return str(text)


async def test_a_description_patch_that_loses_its_version_leaves_the_live_document_alone(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime: Runtime = api.client.app.extensions["taskwire"]
    documents, store = runtime.services.documents, runtime.store
    owner = await api.register()
    task = await api.task(owner, (await api.board(owner))["id"], description="Hello world")
    user = await store.get_user(owner.id)
    assert user is not None
    opened = await documents.open(user, task["id"], None)
    editor: Doc = Doc()
    typed = editor.get("description", type=Text)
    editor.apply_update(opened.missing)

    load = store.load_task_document
    raced = False

    async def load_while_a_burst_settles(task_id: str) -> list[tuple[str, bytes]]:
        """The PATCH reads the document; right then a live editor types "!" and the burst
        settles, which moves the task's version on."""
        nonlocal raced
        updates = await load(task_id)
        if not raced:
            raced = True
            state = editor.get_state()
            typed.insert(len(str(typed)), "!")
            await documents.apply(user, task_id, editor.get_update(state), "test")
            await documents.settle(task_id, owner.id)
        return updates

    monkeypatch.setattr(store, "load_task_document", load_while_a_burst_settles)
    path = f"/api/v1/tasks/{task['id']}"
    status, body = await api.call("PATCH", path, owner, json={"description": "Hello brave world", "version": 1})
    assert raced and status == 409 and body["current"]["description"] == "Hello world!"
    assert _document_text(await load(task["id"])) == "Hello world!"
    # The client's retry on the current version makes the edit once.
    version = body["current"]["version"]
    status, body = await api.call("PATCH", path, owner, json={"description": "Hello brave world!", "version": version})
    assert status == 200 and body["description"] == "Hello brave world!"
    assert _document_text(await load(task["id"])) == "Hello brave world!"


async def test_move_places_a_task_between_its_neighbours_and_rewrites_only_it(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    a, b, c = [await api.task(owner, board, title) for title in ("A", "B", "C")]
    status, moved = await api.call(
        "POST", f"/api/v1/tasks/{c['id']}/move", owner, json={"status": "todo", "before": a["id"], "after": b["id"]}
    )
    assert status == 200 and moved["version"] == 2
    titles = [
        t["title"] for t in (await api.call("GET", f"/api/v1/boards/{board}/tasks?status=todo", owner))[1]["items"]
    ]
    assert titles == ["A", "C", "B"]
    status, done = await api.call("POST", f"/api/v1/tasks/{a['id']}/move", owner, json={"status": "done"})
    assert status == 200 and done["status"] == "done"
    for untouched in (b,):
        assert (await api.call("GET", f"/api/v1/tasks/{untouched['id']}", owner))[1]["version"] == 1
    events = (await api.call("GET", f"/api/v1/boards/{board}/events?after=3", owner))[1]["items"]
    assert [e["type"] for e in events] == ["task.moved", "task.moved"]
    status, body = await api.call(
        "POST", f"/api/v1/tasks/{b['id']}/move", owner, json={"status": "todo", "before": a["id"]}
    )  # a is in done now
    assert status == 422 and body["error"]["code"] == "invalid_neighbour"


async def test_filters_search_and_sorts(api: Api) -> None:
    owner = await api.register()
    mate = await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, mate, "editor")
    await api.task(owner, board, "Fix login bug", labels=["bug"], assignees=[owner.id], priority="urgent")
    await api.task(
        owner,
        board,
        "Write release notes",
        description="mention the login fix",
        priority="low",
        due_at="2026-12-01T00:00:00Z",
    )
    await api.task(
        mate, board, "Plan offsite", status="in_progress", assignees=[mate.id], due_at="2026-11-30T00:00:00Z"
    )

    async def titles(query: str, who=owner) -> list[str]:
        status, body = await api.call("GET", f"/api/v1/boards/{board}/tasks?{query}", who)
        assert status == 200, body
        return [t["title"] for t in body["items"]]

    assert await titles("status=in_progress") == ["Plan offsite"]
    assert await titles("label=bug") == ["Fix login bug"]
    assert await titles("assignee=me") == ["Fix login bug"]
    assert await titles("assignee=me", who=mate) == ["Plan offsite"]
    assert sorted(await titles("q=login")) == ["Fix login bug", "Write release notes"]
    assert await titles("q=releas") == ["Write release notes"]
    assert await titles("q=%7B%22%24gt%22%3A%22%22%7D") == []  # {"$gt":""} is just text
    assert await titles("sort=priority") == ["Fix login bug", "Plan offsite", "Write release notes"]
    assert await titles("sort=due_at") == ["Plan offsite", "Write release notes", "Fix login bug"]
    assert (await titles("sort=-created_at"))[0] == "Plan offsite"
    for bad in ("sort=title", "limit=0", "limit=201", "cursor=garbage", "include_total=maybe"):
        status, body = await api.call("GET", f"/api/v1/boards/{board}/tasks?{bad}", owner)
        assert status in (400, 422), bad


async def test_cursor_pages_never_repeat_or_skip_while_tasks_are_inserted(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    for n in range(25):
        await api.task(owner, board, f"task {n}")
    for sort in ("position", "-created_at", "priority", "due_at"):
        seen: list[str] = []
        cursor = None
        inserted = []
        while True:
            query = f"sort={sort}&limit=7" + (f"&cursor={cursor}" if cursor else "")
            status, page = await api.call("GET", f"/api/v1/boards/{board}/tasks?{query}", owner)
            assert status == 200
            seen += [t["id"] for t in page["items"]]
            inserted.append((await api.task(owner, board, f"inserted during {sort}"))["id"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)), sort
        first_page_ids = set(seen)
        status, everything = await api.call("GET", f"/api/v1/boards/{board}/tasks?sort={sort}&limit=200", owner)
        before_paging = [t["id"] for t in everything["items"] if t["id"] not in inserted]
        assert set(before_paging) <= first_page_ids | set(inserted), sort


async def test_event_log_is_gapless_and_serves_after_and_limit(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(owner, board)
    await api.call("PATCH", f"/api/v1/tasks/{task['id']}", owner, json={"title": "x", "version": 1})
    await api.call("POST", f"/api/v1/tasks/{task['id']}/move", owner, json={"status": "done"})
    await api.call("DELETE", f"/api/v1/tasks/{task['id']}", owner)
    status, log = await api.call("GET", f"/api/v1/boards/{board}/events", owner)
    assert [e["seq"] for e in log["items"]] == [1, 2, 3, 4] and log["latest_seq"] == 4
    assert [e["type"] for e in log["items"]] == ["task.created", "task.updated", "task.moved", "task.deleted"]
    assert log["items"][1]["data"]["title"] == "x" and log["items"][0]["actor"] == owner.id
    status, tail = await api.call("GET", f"/api/v1/boards/{board}/events?after=2&limit=1", owner)
    assert [e["seq"] for e in tail["items"]] == [3]
    assert (await api.call("GET", f"/api/v1/tasks/{task['id']}", owner))[0] == 404
