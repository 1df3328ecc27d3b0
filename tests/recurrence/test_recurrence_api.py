"""Recurring tasks over REST, on both stores: setting, reading and clearing a rule (who may,
what is refused), and the next occurrence created once when the task is done, linked both
ways in the history."""

from __future__ import annotations

from typing import Any

from tests.support.apiclient import Account, Api

WEEKLY = {"kind": "weekly", "interval": 1, "weekdays": ["thu", "mon"]}


async def events(api: Api, account: Account, board: str, **query: Any) -> list[dict]:
    params = "&".join(f"{key}={value}" for key, value in {"after": 0, **query}.items())
    status, body = await api.call("GET", f"/api/v1/boards/{board}/events?{params}", account)
    assert status == 200, body
    return body["items"]


async def tasks(api: Api, account: Account, board: str) -> list[dict]:
    return (await api.call("GET", f"/api/v1/boards/{board}/tasks", account))[1]["items"]


async def test_a_rule_is_set_read_changed_and_cleared_with_an_event_each(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(owner, board, "Standup notes")
    path = f"/api/v1/tasks/{task['id']}/recurrence"

    assert (await api.call("GET", path, owner)) == (200, {"rule": None})
    status, body = await api.call("PUT", path, owner, json=WEEKLY)
    assert status == 200, body
    rule = body["rule"]
    assert rule["weekdays"] == ["mon", "thu"] and rule["series_id"] == task["id"]
    assert rule["previous_task_id"] is None and rule["next_task_id"] is None
    assert (await api.call("GET", path, owner)) == (200, {"rule": rule})
    status, body = await api.call("PUT", path, owner, json={"kind": "monthly", "day_of_month": 31})
    assert status == 200 and body["rule"]["kind"] == "monthly" and body["rule"]["weekdays"] == []
    assert (await api.call("DELETE", path, owner))[0] == 204
    assert (await api.call("GET", path, owner)) == (200, {"rule": None})
    assert (await api.call("DELETE", path, owner))[1]["error"]["code"] == "recurrence_not_found"

    logged = [event["type"] for event in await events(api, owner, board, task_id=task["id"])]
    assert logged == ["task.created", "task.recurrence_set", "task.recurrence_set", "task.recurrence_cleared"]


async def test_bad_rules_and_callers_are_refused_and_change_nothing(api: Api) -> None:
    owner, viewer, stranger = await api.register(), await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, viewer, "viewer")
    task = await api.task(owner, board)
    path = f"/api/v1/tasks/{task['id']}/recurrence"
    seq = (await api.call("GET", f"/api/v1/boards/{board}", owner))[1]["seq"]

    for body, code in (
        ({"kind": "weekly"}, "invalid_recurrence"),
        ({"kind": "daily", "weekdays": ["mon"]}, "invalid_recurrence"),
        ({"kind": "monthly"}, "invalid_recurrence"),
        ({"kind": "daily", "day_of_month": 3}, "invalid_recurrence"),
        ({"kind": "daily", "interval": 0}, "validation_error"),
        ({"kind": "yearly"}, "validation_error"),
        ({"kind": "weekly", "weekdays": ["mon", "mon"]}, "validation_error"),
        ({"kind": "monthly", "day_of_month": 32}, "validation_error"),
    ):
        status, refused = await api.call("PUT", path, owner, json=body)
        assert (status, refused["error"]["code"]) == (422, code), (body, refused)
    assert (await api.call("PUT", path, viewer, json=WEEKLY))[1]["error"]["code"] == "forbidden"
    assert (await api.call("PUT", path, stranger, json=WEEKLY))[1]["error"]["code"] == "task_not_found"
    assert (await api.call("GET", path, stranger))[1]["error"]["code"] == "task_not_found"
    status, token = await api.call("POST", "/api/v1/tokens", owner, json={"name": "ro", "scopes": ["read"]})
    reader = {"Authorization": f"Bearer {token['token']}"}
    assert (await api.call("PUT", path, headers=reader, json=WEEKLY))[1]["error"]["code"] == "insufficient_scope"

    assert (await api.call("GET", f"/api/v1/boards/{board}", owner))[1]["seq"] == seq
    assert (await api.call("GET", path, owner)) == (200, {"rule": None})


async def test_done_creates_the_next_occurrence_once_linked_both_ways(api: Api) -> None:
    owner, helper = await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, helper, "editor")
    task = await api.task(
        owner,
        board,
        "Water the plants",
        description="Both balconies",
        priority="high",
        labels=["home"],
        assignees=[helper.id],
        due_at="2099-03-02T09:00:00Z",  # a Monday, in the future whatever day the test runs
    )
    await api.call("PUT", f"/api/v1/tasks/{task['id']}/recurrence", owner, json=WEEKLY)
    for text in ("North balcony", "South balcony"):
        status, _ = await api.call("POST", f"/api/v1/tasks/{task['id']}/checklist", owner, json={"text": text})
        assert status == 201
    ticked = (await api.call("GET", f"/api/v1/tasks/{task['id']}", owner))[1]
    first = ticked["checklist"][0]["id"]
    status, ticked = await api.call(
        "PATCH", f"/api/v1/tasks/{task['id']}/checklist/{first}", owner, json={"done": True}
    )
    assert status == 200, ticked
    seq = (await api.call("GET", f"/api/v1/boards/{board}", owner))[1]["seq"]

    status, done = await api.call(
        "PATCH", f"/api/v1/tasks/{task['id']}", helper, json={"version": ticked["version"], "status": "done"}
    )
    assert status == 200 and done["status"] == "done"

    [following] = [item for item in await tasks(api, owner, board) if item["id"] != task["id"]]
    assert following["status"] == "todo" and following["due_at"] == "2099-03-05T09:00:00.000000Z"  # Thursday
    assert (following["title"], following["description"], following["priority"], following["labels"]) == (
        "Water the plants",
        "Both balconies",
        "high",
        ["home"],
    )
    assert following["assignees"] == [helper.id] and following["created_by"] == helper.id
    # The checklist comes along, every item to do again (and its own, not the done task's).
    assert [(item["text"], item["done"]) for item in following["checklist"]] == [
        ("North balcony", False),
        ("South balcony", False),
    ]
    assert not {item["id"] for item in following["checklist"]} & {item["id"] for item in done["checklist"]}
    assert [item["done"] for item in done["checklist"]] == [True, False]
    logged = await events(api, owner, board, after=seq)
    assert [(event["type"], event["actor"]) for event in logged] == [
        ("task.updated", helper.id),
        ("task.created", helper.id),
        ("task.recurred", helper.id),
    ]
    assert logged[2]["data"] == {
        "task_id": task["id"],
        "next_task_id": following["id"],
        "title": "Water the plants",
        "due_at": following["due_at"],
    }
    # The done task's history ends with its successor; the successor's rule names it.
    history = await events(api, owner, board, task_id=task["id"])
    assert history[-1]["type"] == "task.recurred"
    previous_rule = (await api.call("GET", f"/api/v1/tasks/{task['id']}/recurrence", owner))[1]["rule"]
    next_rule = (await api.call("GET", f"/api/v1/tasks/{following['id']}/recurrence", owner))[1]["rule"]
    assert previous_rule["next_task_id"] == following["id"]
    assert (next_rule["previous_task_id"], next_rule["series_id"], next_rule["kind"]) == (
        task["id"],
        task["id"],
        "weekly",
    )

    # Reopened and done again (by a move this time): still one successor.
    await api.call("POST", f"/api/v1/tasks/{task['id']}/move", owner, json={"status": "todo"})
    status, _ = await api.call("POST", f"/api/v1/tasks/{task['id']}/move", owner, json={"status": "done"})
    assert status == 200
    assert len(await tasks(api, owner, board)) == 2

    # The successor, moved to done, has a successor of its own, due the next Monday.
    await api.call("POST", f"/api/v1/tasks/{following['id']}/move", owner, json={"status": "done"})
    third = [item for item in await tasks(api, owner, board) if item["id"] not in (task["id"], following["id"])]
    assert [item["due_at"] for item in third] == ["2099-03-09T09:00:00.000000Z"]


async def test_a_cleared_rule_or_a_deleted_task_recurs_no_more(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(owner, board, "Once")
    path = f"/api/v1/tasks/{task['id']}/recurrence"
    await api.call("PUT", path, owner, json={"kind": "after_done", "interval": 2})
    await api.call("DELETE", path, owner)
    await api.call("PATCH", f"/api/v1/tasks/{task['id']}", owner, json={"version": 1, "status": "done"})
    assert [item["id"] for item in await tasks(api, owner, board)] == [task["id"]]

    other = await api.task(owner, board, "Gone")
    await api.call("PUT", f"/api/v1/tasks/{other['id']}/recurrence", owner, json={"kind": "daily"})
    assert (await api.call("DELETE", f"/api/v1/tasks/{other['id']}", owner))[0] == 204
    assert (await api.call("GET", f"/api/v1/tasks/{other['id']}/recurrence", owner))[1]["error"]["code"] == (
        "task_not_found"
    )
