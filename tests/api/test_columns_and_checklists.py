"""Columns with free-text names and work-in-progress limits, and tasks' checklists, over
REST: what each write answers, the event it logs, and bad input refused with a stable code
while nothing changes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.apiclient import Account, Api


async def _events(api: Api, account: Account, board_id: str, after: int = 0) -> list[dict[str, Any]]:
    status, body = await api.call("GET", f"/api/v1/boards/{board_id}/events?after={after}", account)
    assert status == 200
    return body["items"]


async def test_free_text_column_names_get_stable_keys(api: Api) -> None:
    owner = await api.register()
    board = await api.board(owner, columns=["To Do", "Code Review 👀", "done"])
    assert board["columns"] == ["to_do", "code_review", "done"]
    assert board["column_names"] == {"to_do": "To Do", "code_review": "Code Review 👀"}
    task = await api.task(owner, board["id"], status="code_review")

    # Renaming keeps the key, so the task stays where it is.
    status, column = await api.call(
        "PATCH", f"/api/v1/boards/{board['id']}/columns/code_review", owner, json={"name": "Review", "wip_limit": 2}
    )
    assert status == 200
    assert column == {"key": "code_review", "name": "Review", "wip_limit": 2, "position": 1}
    status, read = await api.call("GET", f"/api/v1/tasks/{task['id']}", owner)
    assert read["status"] == "code_review"

    # A v1 client's PATCH of columns may name columns by key or display name.
    status, patched = await api.call(
        "PATCH", f"/api/v1/boards/{board['id']}", owner, json={"columns": ["Review", "to_do", "done", "Blocked ⛔"]}
    )
    assert status == 200
    assert patched["columns"] == ["code_review", "to_do", "done", "blocked"]
    assert patched["column_names"] == {"to_do": "To Do", "code_review": "Review", "blocked": "Blocked ⛔"}
    assert patched["wip_limits"] == {"code_review": 2}


async def test_columns_are_added_renamed_moved_and_removed_one_at_a_time(api: Api) -> None:
    owner = await api.register()
    board = await api.board(owner)
    base = f"/api/v1/boards/{board['id']}/columns"

    status, added = await api.call("POST", base, owner, json={"name": "Code Review 👀", "position": 1})
    assert status == 201 and added == {"key": "code_review", "name": "Code Review 👀", "wip_limit": None, "position": 1}
    status, _ = await api.call("PATCH", f"{base}/code_review", owner, json={"position": 3})
    assert status == 200
    status, limited = await api.call("PATCH", f"{base}/code_review", owner, json={"wip_limit": 4})
    assert limited["wip_limit"] == 4
    status, cleared = await api.call("PATCH", f"{base}/code_review", owner, json={"wip_limit": None})
    assert cleared["wip_limit"] is None
    status, read = await api.call("GET", f"/api/v1/boards/{board['id']}", owner)
    assert read["columns"] == ["todo", "in_progress", "done", "code_review"] and read["wip_limits"] == {}
    status, _ = await api.call("DELETE", f"{base}/code_review", owner)
    assert status == 204

    events = await _events(api, owner, board["id"])
    assert [e["type"] for e in events] == [
        "column.created",
        "column.moved",
        "column.updated",
        "column.updated",
        "column.deleted",
    ]
    assert events[1]["data"]["previous"]["position"] == 1 and events[1]["data"]["column"]["position"] == 3
    assert events[2]["data"]["column"]["wip_limit"] == 4
    assert events[-1]["data"]["column"]["key"] == "code_review"
    assert events[-1]["data"]["board"]["columns"] == ["todo", "in_progress", "done"]


async def test_bad_column_changes_are_refused_and_change_nothing(api: Api) -> None:
    owner, editor = await api.register(), await api.register()
    board = await api.board(owner, columns=["todo", "Doing"])
    await api.add_member(owner, board["id"], editor, "editor")
    await api.task(owner, board["id"], status="doing")
    base = f"/api/v1/boards/{board['id']}/columns"
    before = await _events(api, owner, board["id"])

    cases = [
        ("POST", base, owner, {"name": "doing"}, 409, "column_name_taken"),
        ("POST", base, owner, {"name": "TODO"}, 409, "column_name_taken"),
        ("POST", base, owner, {"name": ""}, 422, "validation_error"),
        ("POST", base, owner, {"name": "x" * 61}, 422, "validation_error"),
        ("POST", base, owner, {"name": "tab\there"}, 422, "validation_error"),
        ("POST", base, owner, {"name": "Later", "wip_limit": 0}, 422, "validation_error"),
        ("POST", base, owner, {"name": "Later", "position": 3}, 422, "invalid_position"),
        ("POST", base, owner, {"name": "Later", "colour": "red"}, 422, "validation_error"),
        ("POST", base, editor, {"name": "Later"}, 403, "forbidden"),
        ("PATCH", f"{base}/nope", owner, {"name": "Later"}, 404, "column_not_found"),
        ("PATCH", f"{base}/todo", owner, {"name": "Doing"}, 409, "column_name_taken"),
        ("PATCH", f"{base}/todo", owner, {"position": 2}, 422, "invalid_position"),
        ("PATCH", f"{base}/todo", owner, {"wip_limit": "many"}, 422, "validation_error"),
        ("DELETE", f"{base}/doing", owner, None, 409, "column_not_empty"),
        ("DELETE", f"{base}/nope", owner, None, 404, "column_not_found"),
        ("PATCH", f"/api/v1/boards/{board['id']}", owner, {"columns": ["todo", "Todo"]}, 422, "duplicate_column"),
        (
            "PATCH",
            f"/api/v1/boards/{board['id']}",
            owner,
            {"columns": ["todo", "doing", "Doing"]},
            422,
            "duplicate_column",
        ),
    ]
    for method, path, who, body, status, code in cases:
        got, answer = await api.call(method, path, who, json=body)
        assert (got, answer["error"]["code"]) == (status, code), (method, path, body, answer)

    status, read = await api.call("GET", f"/api/v1/boards/{board['id']}", owner)
    assert read["columns"] == ["todo", "doing"] and read["column_names"] == {"doing": "Doing"}
    assert await _events(api, owner, board["id"]) == before


async def test_a_name_may_not_repeat_how_an_unnamed_column_is_shown(api: Api) -> None:
    owner = await api.register()
    board = await api.board(owner)  # todo, in_progress, done: shown "To do", "In progress", "Done"
    status, answer = await api.call(
        "POST", f"/api/v1/boards/{board['id']}/columns", owner, json={"name": "In Progress"}
    )
    assert (status, answer["error"]["code"], answer["error"]["details"]) == (
        409,
        "column_name_taken",
        {"column": "in_progress"},
    )
    status, answer = await api.call(
        "PATCH", f"/api/v1/boards/{board['id']}", owner, json={"columns": ["todo", "in_progress", "In progress"]}
    )
    assert (status, answer["error"]["code"]) == (422, "duplicate_column")


async def test_the_last_column_stays(api: Api) -> None:
    owner = await api.register()
    board = await api.board(owner, columns=["only"])
    status, answer = await api.call("DELETE", f"/api/v1/boards/{board['id']}/columns/only", owner)
    assert (status, answer["error"]["code"]) == (409, "last_column")


async def test_a_checklist_lives_in_the_task_and_each_change_is_an_event(api: Api) -> None:
    owner = await api.register()
    board = await api.board(owner)
    task = await api.task(owner, board["id"])
    assert task["checklist"] == []
    base = f"/api/v1/tasks/{task['id']}/checklist"

    status, after_add = await api.call("POST", base, owner, json={"text": "Write the tests"})
    assert status == 201 and after_add["version"] == 2
    first = after_add["checklist"][0]
    assert first["text"] == "Write the tests" and first["done"] is False
    status, after_second = await api.call("POST", base, owner, json={"text": "Ship it 🚀", "position": 0})
    second = after_second["checklist"][0]
    assert [i["text"] for i in after_second["checklist"]] == ["Ship it 🚀", "Write the tests"]

    status, ticked = await api.call("PATCH", f"{base}/{first['id']}", owner, json={"done": True, "text": "Tests"})
    assert status == 200 and ticked["checklist"][1] == {"id": first["id"], "text": "Tests", "done": True}
    status, moved = await api.call("PATCH", f"{base}/{first['id']}", owner, json={"position": 0})
    assert [i["id"] for i in moved["checklist"]] == [first["id"], second["id"]]
    status, _ = await api.call("DELETE", f"{base}/{second['id']}", owner)
    assert status == 204

    status, read = await api.call("GET", f"/api/v1/tasks/{task['id']}", owner)
    assert read["checklist"] == [{"id": first["id"], "text": "Tests", "done": True}] and read["version"] == 6
    status, listed = await api.call("GET", f"/api/v1/boards/{board['id']}/tasks", owner)
    assert listed["items"][0]["checklist"] == read["checklist"]

    history = (await api.call("GET", f"/api/v1/boards/{board['id']}/events?task_id={task['id']}", owner))[1]["items"]
    assert [e["type"] for e in history] == [
        "task.created",
        "checklist_item.created",
        "checklist_item.created",
        "checklist_item.updated",
        "checklist_item.moved",
        "checklist_item.deleted",
    ]
    updated = history[3]["data"]
    assert updated["previous"] == {"id": first["id"], "text": "Write the tests", "done": False}
    assert updated["item"]["done"] is True and updated["task"]["version"] == 4 and updated["task_id"] == task["id"]
    assert history[-1]["data"]["item"]["id"] == second["id"]


async def test_a_task_edit_and_a_checklist_tick_do_not_undo_each_other(api: Api) -> None:
    owner = await api.register()
    board = await api.board(owner)
    task = await api.task(owner, board["id"])
    status, after = await api.call("POST", f"/api/v1/tasks/{task['id']}/checklist", owner, json={"text": "a"})
    # An editor who read version 1 is told the task changed, and gets it with the checklist.
    status, answer = await api.call("PATCH", f"/api/v1/tasks/{task['id']}", owner, json={"version": 1, "title": "B"})
    assert status == 409 and answer["current"]["checklist"] == after["checklist"]
    status, edited = await api.call("PATCH", f"/api/v1/tasks/{task['id']}", owner, json={"version": 2, "title": "B"})
    assert status == 200 and edited["checklist"] == after["checklist"]


async def test_bad_checklist_changes_are_refused_and_change_nothing(api: Api) -> None:
    owner, viewer, stranger = await api.register(), await api.register(), await api.register()
    board = await api.board(owner)
    await api.add_member(owner, board["id"], viewer, "viewer")
    task = await api.task(owner, board["id"])
    base = f"/api/v1/tasks/{task['id']}/checklist"
    status, current = await api.call("POST", base, owner, json={"text": "a"})
    item = current["checklist"][0]["id"]

    cases = [
        ("POST", base, owner, {"text": ""}, 422, "validation_error"),
        ("POST", base, owner, {"text": "   "}, 422, "validation_error"),
        ("POST", base, owner, {"text": "x" * 501}, 422, "validation_error"),
        ("POST", base, owner, {"text": "line\nbreak"}, 422, "validation_error"),
        ("POST", base, owner, {"text": "b", "position": 2}, 422, "invalid_position"),
        ("POST", base, owner, {"text": "b", "position": -1}, 422, "validation_error"),
        ("POST", base, owner, {"text": "b", "done": True}, 422, "validation_error"),
        ("POST", base, viewer, {"text": "b"}, 403, "forbidden"),
        ("POST", base, stranger, {"text": "b"}, 404, "task_not_found"),
        ("POST", "/api/v1/tasks/nope/checklist", owner, {"text": "b"}, 404, "task_not_found"),
        ("PATCH", f"{base}/nope", owner, {"done": True}, 404, "checklist_item_not_found"),
        ("PATCH", f"{base}/{item}", owner, {"done": "yes please"}, 422, "validation_error"),
        ("PATCH", f"{base}/{item}", owner, {"position": 1}, 422, "invalid_position"),
        ("PATCH", f"{base}/{item}", viewer, {"done": True}, 403, "forbidden"),
        ("DELETE", f"{base}/nope", owner, None, 404, "checklist_item_not_found"),
        ("DELETE", f"{base}/{item}", stranger, None, 404, "task_not_found"),
    ]
    for method, path, who, body, status, code in cases:
        got, answer = await api.call(method, path, who, json=body)
        assert (got, answer["error"]["code"]) == (status, code), (method, path, body, answer)

    status, read = await api.call("GET", f"/api/v1/tasks/{task['id']}", owner)
    assert read == current

    # A PATCH that changes nothing logs nothing and keeps the version.
    seq = (await api.call("GET", f"/api/v1/boards/{board['id']}", owner))[1]["seq"]
    status, same = await api.call("PATCH", f"{base}/{item}", owner, json={"done": False, "text": "a"})
    assert status == 200 and same == current
    assert (await api.call("GET", f"/api/v1/boards/{board['id']}", owner))[1]["seq"] == seq


# A rule of the service, not of a store: one store is enough for its hundred writes.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_checklist_holds_at_most_a_hundred_items(api: Api) -> None:
    owner = await api.register()
    board = await api.board(owner)
    task = await api.task(owner, board["id"])
    for n in range(100):
        status, _ = await api.call("POST", f"/api/v1/tasks/{task['id']}/checklist", owner, json={"text": f"item {n}"})
        assert status == 201
    status, answer = await api.call("POST", f"/api/v1/tasks/{task['id']}/checklist", owner, json={"text": "one more"})
    assert (status, answer["error"]["code"]) == (409, "checklist_full")


async def test_concurrent_column_and_checklist_changes_are_all_kept(api: Api) -> None:
    owner = await api.register()
    board = await api.board(owner)
    task = await api.task(owner, board["id"])
    names = [f"Lane {n}" for n in range(6)]
    texts = [f"Step {n}" for n in range(6)]
    answers = await asyncio.gather(
        *(api.call("POST", f"/api/v1/boards/{board['id']}/columns", owner, json={"name": name}) for name in names),
        *(api.call("POST", f"/api/v1/tasks/{task['id']}/checklist", owner, json={"text": text}) for text in texts),
    )
    assert [status for status, _ in answers] == [201] * 12, answers
    status, read = await api.call("GET", f"/api/v1/boards/{board['id']}", owner)
    assert sorted(read["column_names"].values()) == names
    status, current = await api.call("GET", f"/api/v1/tasks/{task['id']}", owner)
    assert sorted(item["text"] for item in current["checklist"]) == texts and current["version"] == 7
