"""Imports over REST, on both stores: a Trello export with every field kind and a CSV file
with odd quoting and UTF-8 become boards; the report says what was skipped and why; the
same file again duplicates nothing; bad files, mappings, parts and callers are refused."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from quart import Quart

from tests.imports.exports import planka_export, rich_export
from tests.support.apiclient import Account, Api


async def start(api: Api, account: Account, source: str, data: bytes, parts: int = 1, **options: Any) -> dict:
    status, job = await api.call(
        "POST",
        "/api/v1/imports",
        account,
        json={"source": source, "file_name": f"export.{source}", "size": len(data), "options": options},
    )
    assert status == 201, job
    assert job["state"] == "uploading"
    step = -(-len(data) // parts)
    for offset in range(0, len(data), step):
        status, job = await upload(api, account, job["id"], offset, data[offset : offset + step])
        assert status == 200, job
    return job


async def upload(api: Api, account: Account, job_id: str, offset: int, part: bytes) -> tuple[int, Any]:
    response = await api.client.put(
        f"/api/v1/imports/{job_id}/content?offset={offset}",
        data=part,
        headers={**account.headers, "Content-Type": "application/octet-stream"},
    )
    return response.status_code, json.loads(await response.get_data(as_text=True))


async def finished(api: Api, account: Account, job_id: str) -> dict:
    for _ in range(400):
        status, job = await api.call("GET", f"/api/v1/imports/{job_id}", account)
        assert status == 200, job
        if job["state"] in ("done", "failed"):
            return job
        await asyncio.sleep(0.025)
    raise AssertionError(f"the import did not finish: {job}")


async def board_tasks(api: Api, account: Account, board_id: str) -> dict[str, dict]:
    tasks = (await api.call("GET", f"/api/v1/boards/{board_id}/tasks?limit=200", account))[1]["items"]
    return {task["title"]: task for task in tasks}


async def test_a_trello_export_becomes_a_board_and_the_report_says_what_was_skipped(api: Api) -> None:
    alice, bob, carol = await api.register("alice"), await api.register("bob"), await api.register("carol")
    data = json.dumps(rich_export(bob.email)).encode()
    job = await start(api, alice, "trello", data, parts=3, members={"carol": carol.email})
    job = await finished(api, alice, job["id"])
    assert job["state"] == "done" and job["progress"] == 100 and job["error"] is None, job
    board_id = job["board_id"]

    status, board = await api.call("GET", f"/api/v1/boards/{board_id}", alice)
    assert (board["name"], board["columns"], board["role"]) == ("Product launch", ["to-do", "doing", "done"], "owner")
    tasks = await board_tasks(api, alice, board_id)
    assert set(tasks) == {"Plain card", "Everything card", "Finished"}
    everything = tasks["Everything card"]
    assert everything["status"] == "doing" and everything["labels"] == ["bug", "green"]
    assert everything["due_at"] == "2027-01-15T12:00:00.000000Z"
    assert everything["description"] == (
        "Some **markdown**\nwith lines\n\nAttachments:\n- [Spec](https://example.test/spec.pdf)"
    )
    assert sorted(everything["assignees"]) == sorted([bob.id, carol.id])  # Dave has no account here
    members = (await api.call("GET", f"/api/v1/boards/{board_id}/members", alice))[1]["items"]
    assert {(m["user_id"], m["role"]) for m in members} == {
        (alice.id, "owner"),
        (bob.id, "editor"),
        (carol.id, "editor"),
    }

    comments = (await api.call("GET", f"/api/v1/tasks/{everything['id']}/comments", alice))[1]["items"]
    assert [(c["author_id"], c["body"]) for c in comments] == [
        (bob.id, "Looks good to me"),
        (alice.id, "Dave Unknown wrote:\n\nWho am I?"),
    ]
    assert comments[0]["created_at"] == "2020-09-14T10:00:00.000000Z"

    # Two checklists flatten into one, in the card's order, each item after its checklist's
    # name; a one-checklist card's items as they are, cut at the 100 a checklist holds.
    assert [(item["text"], item["done"]) for item in everything["checklist"]] == [
        ("Steps: one", True),
        ("Steps: two", False),
        ("Review: Read it through", True),
    ]
    long = tasks["Finished"]["checklist"]
    assert [item["text"] for item in long] == [f"step {n}" for n in range(100)]
    assert [item["done"] for item in long[:4]] == [True, False, True, False]

    # The archived card arrives archived: off the board, in its archive, with its comment and checklist.
    status, listed = await api.call("GET", f"/api/v1/boards/{board_id}/tasks?archived=true", alice)
    assert status == 200 and [task["title"] for task in listed["items"]] == ["Archived card"]
    archived = listed["items"][0]
    assert archived["status"] == "to-do" and archived["archived_at"] is not None
    assert [item["text"] for item in archived["checklist"]] == ["lost"]
    comments = (await api.call("GET", f"/api/v1/tasks/{archived['id']}/comments", alice))[1]["items"]
    assert [c["body"] for c in comments] == ["On an archived card"]

    assert job["result"]["imported"] == {"board": 1, "member": 2, "card": 4, "comment": 3, "checklist item": 104}
    assert job["result"]["skipped"] == {
        "card: in a list that is archived or beyond the 20 columns": 1,
        "card: no title": 1,
        "assignee: a member with no account here (add an email mapping)": 1,
        "checklist item: no text": 1,
        "checklist item: beyond the 100 items of a checklist": 2,
    }
    log = (await api.call("GET", f"/api/v1/boards/{board_id}/events?limit=100", alice))[1]["items"]
    assert [event["type"] for event in log] == (
        ["member.added"] * 2 + ["task.created"] * 4 + ["comment.created"] * 3 + ["task.updated"] * 4
    )
    created = {event["data"]["title"]: event["data"] for event in log if event["type"] == "task.created"}
    assert created["Archived card"]["archived_at"] == archived["archived_at"]  # live clients learn it is archived
    assert "archived_at" not in created["Plain card"]
    assert log[-1]["data"]["checklist"] == long  # live clients get the task with its checklist

    # The same file again: the same board, nothing twice.
    again = await finished(api, alice, (await start(api, alice, "trello", data, members={"carol": carol.email}))["id"])
    assert again["board_id"] == board_id and again["state"] == "done"
    assert again["result"]["imported"] == {
        "card (already there)": 4,
        "comment (already there)": 3,
        "checklist item (already there)": 104,
    }
    assert (await board_tasks(api, alice, board_id))["Everything card"]["checklist"] == everything["checklist"]
    assert (await api.call("GET", f"/api/v1/boards/{board_id}", alice))[1]["seq"] == log[-1]["seq"]


CSV = (
    "\ufeffKey,Summary,Notes,Stage,Tags,Due,Owner\r\n"
    'A-1,"Café déjà vu, ☕","He said ""hi""\nthen left",Backlog,"ux; résumé",2027-02-01,{bob}\r\n'
    "A-2,Plain,,In review,,not a date,\r\n"
    "A-3,,No title here,Backlog,,,\r\n"
    'A-4,"Multi\r\nline title",,,"a,b",2027-03-04T10:30:00+02:00,nobody@example.test\r\n'
)


async def test_a_csv_file_with_odd_quoting_and_utf8_imports_by_its_column_mapping(api: Api) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    columns = {"id": "Key", "title": "Summary", "description": "Notes", "status": "Stage", "labels": "Tags"}
    columns |= {"due_at": "Due", "assignee": "Owner"}
    data = CSV.format(bob=bob.email).encode()
    job = await start(api, alice, "csv", data, parts=2, columns=columns, board_name="Roadmap")
    job = await finished(api, alice, job["id"])
    assert job["state"] == "done", job
    board = (await api.call("GET", f"/api/v1/boards/{job['board_id']}", alice))[1]
    assert (board["name"], board["columns"]) == ("Roadmap", ["backlog", "in-review"])
    tasks = await board_tasks(api, alice, job["board_id"])
    assert set(tasks) == {"Café déjà vu, ☕", "Plain", "Multi\r\nline title"}
    cafe = tasks["Café déjà vu, ☕"]
    assert (cafe["description"], cafe["status"], cafe["labels"], cafe["assignees"]) == (
        'He said "hi"\nthen left',
        "backlog",
        ["ux", "résumé"],
        [bob.id],
    )
    assert cafe["due_at"] == "2027-02-01T00:00:00.000000Z"
    assert tasks["Plain"]["due_at"] is None and tasks["Plain"]["status"] == "in-review"
    assert tasks["Multi\r\nline title"]["status"] == "backlog"  # no stage: the first column
    assert tasks["Multi\r\nline title"]["due_at"] == "2027-03-04T08:30:00.000000Z"
    assert job["result"]["skipped"] == {
        "due_at: not a date: 'not a date' (imported without one)": 1,
        "row: no title": 1,
        "assignee: a member with no account here (add an email mapping)": 1,
    }
    again = await finished(
        api, alice, (await start(api, alice, "csv", data, columns=columns, board_name="Roadmap"))["id"]
    )
    assert again["board_id"] == job["board_id"] and len(await board_tasks(api, alice, job["board_id"])) == 3


async def test_bad_files_parts_mappings_and_callers_are_refused(api: Api, app: Quart) -> None:
    alice, eve = await api.register("alice"), await api.register("eve")
    for body, code in (
        ({"source": "csv", "file_name": "x.csv", "size": 10}, "invalid_mapping"),
        ({"source": "asana", "file_name": "x", "size": 10}, "validation_error"),
        ({"source": "trello", "file_name": "x", "size": 10**12}, "import_too_large"),
    ):
        status, refused = await api.call("POST", "/api/v1/imports", alice, json=body)
        assert (status, refused["error"]["code"]) == (422, code), refused

    status, job = await api.call(
        "POST", "/api/v1/imports", alice, json={"source": "trello", "file_name": "x", "size": 8}
    )
    assert (await upload(api, alice, job["id"], 4, b"1234"))[1]["error"]["details"] == {"received": 0}
    assert (await upload(api, eve, job["id"], 0, b"1234"))[1]["error"]["code"] == "import_not_found"
    assert (await api.call("GET", f"/api/v1/imports/{job['id']}", eve))[1]["error"]["code"] == "import_not_found"
    assert (await upload(api, alice, job["id"], 0, b"123456789"))[1]["error"]["code"] == "import_too_large"
    status, job = await upload(api, alice, job["id"], 0, b"not json")
    assert status == 200 and job["state"] == "queued"
    failed = await finished(api, alice, job["id"])
    assert failed["state"] == "failed" and failed["error"].startswith("the file is not valid JSON")
    assert (await upload(api, alice, job["id"], 8, b"x"))[1]["error"]["code"] == "import_not_uploading"

    status, token = await api.call("POST", "/api/v1/tokens", alice, json={"name": "ro", "scopes": ["read"]})
    reader = {"Authorization": f"Bearer {token['token']}"}
    body = {"source": "trello", "file_name": "x", "size": 8}
    assert (await api.call("POST", "/api/v1/imports", headers=reader, json=body))[0] == 403
    status, token = await api.call(
        "POST",
        "/api/v1/tokens",
        alice,
        json={"name": "b", "scopes": ["read", "write"], "boards": [alice.personal_board]},
    )
    limited = {"Authorization": f"Bearer {token['token']}"}
    status, refused = await api.call("POST", "/api/v1/imports", headers=limited, json=body)
    assert (status, refused["error"]["code"]) == (403, "token_board_limited")


@pytest.mark.parametrize("garbage", [b'{"name": "no id"}', b"[1, 2, 3]"])
async def test_a_file_that_is_not_a_trello_export_fails_the_job_with_a_reason(api: Api, garbage: bytes) -> None:
    alice = await api.register("alice")
    job = await finished(api, alice, (await start(api, alice, "trello", garbage))["id"])
    assert job["state"] == "failed" and "not a Trello board export" in job["error"]


async def test_a_planka_export_becomes_a_board(api: Api) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    data = json.dumps(planka_export(bob.email)).encode()
    job = await finished(api, alice, (await start(api, alice, "planka", data, parts=2))["id"])
    assert job["state"] == "done", job
    board = (await api.call("GET", f"/api/v1/boards/{job['board_id']}", alice))[1]
    assert (board["name"], board["columns"]) == ("Planka board", ["backlog", "doing"])
    tasks = await board_tasks(api, alice, job["board_id"])
    assert set(tasks) == {"Write docs", "Ship"}
    docs = tasks["Write docs"]
    assert (docs["status"], docs["labels"], docs["assignees"], docs["due_at"]) == (
        "backlog",
        ["urgent"],
        [bob.id],
        "2027-05-01T09:00:00.000000Z",
    )
    assert tasks["Ship"]["description"] == "\n\nAttachments:\n- [Build](https://example.test/build.zip)"
    # Planka 1's tasks name their card; Planka 2's their task list, the card's lists by position.
    assert [(item["text"], item["done"]) for item in docs["checklist"]] == [("Outline", True), ("Draft", False)]
    assert [(item["text"], item["done"]) for item in tasks["Ship"]["checklist"]] == [
        ("Before: Build", True),
        ("Before: Test", False),
        ("After: Announce", False),
    ]
    comments = (await api.call("GET", f"/api/v1/tasks/{docs['id']}/comments", alice))[1]["items"]
    assert [(c["author_id"], c["body"]) for c in comments] == [(bob.id, "Started")]
    assert job["result"]["skipped"] == {
        "card: in a list that is archived or beyond the 20 columns": 1,
        "assignee: a member with no account here (add an email mapping)": 1,
        "checklist: its card was not imported": 1,
    }
    assert job["result"]["imported"]["checklist item"] == 6
    # Planka 2 archives a card into the archive list: it arrives archived, in the list it left.
    status, listed = await api.call("GET", f"/api/v1/boards/{job['board_id']}/tasks?archived=true", alice)
    assert [(task["title"], task["status"]) for task in listed["items"]] == [("Old", "doing")]
    assert [item["text"] for item in listed["items"][0]["checklist"]] == ["On an archived card"]
    again = await finished(api, alice, (await start(api, alice, "planka", data))["id"])
    assert again["board_id"] == job["board_id"] and again["result"]["imported"]["checklist item (already there)"] == 6
    assert await board_tasks(api, alice, job["board_id"]) == tasks
