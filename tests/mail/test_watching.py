"""Watching: a task's author and assignees watch it by default, anyone on the board may
watch a task or the whole board or stop; watchers hear of comments and of every change
(one task.changed per change event, naming what changed) and of tasks added to a watched
board, never of their own, once per event, in the bell and (if they chose) by email."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pycrdt import Doc, Text

from app.runtime import Runtime
from app.settings import Settings
from tests.api.test_attachments import upload
from tests.mail.conftest import mail_settings, store_of
from tests.support.apiclient import Account, Api
from tests.support.smtp import SmtpSink


async def _team(api: Api) -> tuple[Account, Account, Account, dict, dict]:
    ada, bob, carol = await api.register("Ada"), await api.register("Bob"), await api.register("Carol")
    board = await api.board(ada, "Launch")
    for member in (bob, carol):
        await api.add_member(ada, board["id"], member, "editor")
    task = await api.task(ada, board["id"], "Ship it", assignees=[bob.id])
    return ada, bob, carol, board, task


async def _watched(api: Api, account: Account) -> list[str]:
    status, body = await api.call("GET", "/api/v1/notifications", account)
    assert status == 200
    return sorted(f"{n['type']} by {n['actor']['name']}" for n in body["items"] if n["type"].endswith(".watched"))


async def _put(api: Api, account: Account, path: str, watching: bool) -> None:
    status, body = await api.call("PUT", path, account, json={"watching": watching})
    assert status == 200 and body == {"watching": watching}, body


async def test_the_author_and_assignees_hear_of_comments_but_not_their_own(api: Api) -> None:
    ada, bob, carol, _, task = await _team(api)
    for account, watching in ((ada, True), (bob, True), (carol, False)):
        status, body = await api.call("GET", f"/api/v1/tasks/{task['id']}/watch", account)
        assert (status, body) == (200, {"watching": watching})
    status, _ = await api.call("POST", f"/api/v1/tasks/{task['id']}/comments", carol, json={"body": "Looks good"})
    assert status == 201
    assert await _watched(api, ada) == ["comment.watched by Carol"]
    assert await _watched(api, bob) == ["comment.watched by Carol"]
    assert await _watched(api, carol) == []


@pytest.fixture
def settings(database_url: str, tmp_path: Path, sink: SmtpSink) -> Settings:
    return mail_settings(database_url, tmp_path, sink.url(), document_settle_seconds=0.1)


async def _changes(api: Api, account: Account) -> list[tuple[str, ...]]:
    """What each of the account's task.changed notices says changed, oldest first."""
    status, body = await api.call("GET", "/api/v1/notifications", account)
    assert status == 200
    return [tuple(n["data"]["changes"]) for n in reversed(body["items"]) if n["type"] == "task.changed"]


async def _version(api: Api, account: Account, task_id: str) -> int:
    status, current = await api.call("GET", f"/api/v1/tasks/{task_id}", account)
    assert status == 200
    version: int = current["version"]
    return version


async def _ok(api: Api, account: Account, method: str, path: str, json: object = None) -> dict:
    status, body = await api.call(method, path, account, json=json)
    assert status in (200, 201, 204), (method, path, status, body)
    return body or {}


async def test_every_change_tells_the_watchers_once_and_never_the_actor(api: Api) -> None:
    ada, bob, carol, board, task = await _team(api)
    await _put(api, carol, f"/api/v1/boards/{board['id']}/watch", True)
    path = f"/api/v1/tasks/{task['id']}"
    await _ok(api, ada, "PATCH", path, {"title": "Ship it now", "priority": "high", "version": task["version"]})
    await _ok(api, ada, "PATCH", path, {"description": "Notes", "version": await _version(api, ada, task["id"])})
    await _ok(api, ada, "PATCH", path, {"labels": ["release"], "version": await _version(api, ada, task["id"])})
    await _ok(
        api, ada, "PATCH", path, {"due_at": "2030-01-15T09:00:00Z", "version": await _version(api, ada, task["id"])}
    )
    await _ok(api, ada, "POST", f"{path}/move", {"status": "in_progress"})
    item = await _ok(api, ada, "POST", f"{path}/checklist", {"text": "Tag it"})
    item_id = item["checklist"][0]["id"]
    await _ok(api, ada, "PATCH", f"{path}/checklist/{item_id}", {"done": True})
    await _ok(api, ada, "DELETE", f"{path}/checklist/{item_id}")
    status, attachment = await upload(api, ada, task["id"], b"release notes", "notes.txt", "text/plain")
    assert status == 201, attachment
    await _ok(api, ada, "DELETE", f"/api/v1/attachments/{attachment['id']}")
    await _ok(api, ada, "PUT", f"{path}/recurrence", {"kind": "daily", "interval": 1})
    await _ok(api, ada, "DELETE", f"{path}/recurrence")
    await _ok(api, ada, "POST", f"{path}/archive", {})
    await _ok(api, ada, "POST", f"{path}/unarchive", {})
    await _ok(api, ada, "DELETE", path)
    await _ok(api, ada, "POST", f"/api/v1/boards/{board['id']}/trash/{task['id']}/restore")
    expected = [
        ("title", "priority"),
        ("description",),
        ("labels",),
        ("due_date",),
        ("column",),
        ("checklist",),
        ("checklist",),
        ("checklist",),
        ("attachment_added",),
        ("attachment_removed",),
        ("recurrence",),
        ("recurrence",),
        ("archived",),
        ("unarchived",),
        ("trashed",),
        ("restored",),
    ]
    assert await _changes(api, carol) == expected  # a board watcher
    assert await _changes(api, bob) == expected  # the assignee, by default
    assert await _changes(api, ada) == []  # all her own

    status, body = await api.call("GET", "/api/v1/notifications", carol)
    by_change = {tuple(n["data"]["changes"]): n["data"] for n in body["items"] if n["type"] == "task.changed"}
    assert by_change[("column",)]["column"] == "in_progress"
    assert by_change[("due_date",)]["due_at"].startswith("2030-01-15T09:00:00")
    assert by_change[("attachment_added",)]["attachment"] == "notes.txt"
    assert by_change[("title", "priority")]["task_title"] == "Ship it now"


async def test_a_new_assignee_is_told_once_and_board_watchers_hear_of_new_tasks(api: Api) -> None:
    ada, bob, carol, board, task = await _team(api)
    dan = await api.register("Dan")
    await api.add_member(ada, board["id"], dan, "editor")
    await _put(api, carol, f"/api/v1/boards/{board['id']}/watch", True)
    await _put(api, dan, f"/api/v1/boards/{board['id']}/watch", True)
    # Dan watches the board and is newly assigned: the assignment says it, not a change too.
    version = task["version"]
    await _ok(api, ada, "PATCH", f"/api/v1/tasks/{task['id']}", {"assignees": [bob.id, dan.id], "version": version})
    status, body = await api.call("GET", "/api/v1/notifications", dan)
    assert [n["type"] for n in body["items"] if n["task_id"] == task["id"]] == ["task.assigned"]
    assert await _changes(api, carol) == [("assignees",)]
    # A PATCH that changes nothing tells nobody.
    version = await _version(api, ada, task["id"])
    await _ok(api, ada, "PATCH", f"/api/v1/tasks/{task['id']}", {"title": "Ship it", "version": version})
    assert await _changes(api, carol) == [("assignees",)]

    added = await api.task(bob, board["id"], "Write the notes", assignees=[dan.id])
    status, body = await api.call("GET", "/api/v1/notifications", carol)
    [created] = [n for n in body["items"] if n["type"] == "task.created"]
    assert (created["task_id"], created["actor"]["name"], created["data"]["task_title"]) == (
        added["id"],
        "Bob",
        "Write the notes",
    )
    status, body = await api.call("GET", "/api/v1/notifications", dan)
    assert [n["type"] for n in body["items"] if n["task_id"] == added["id"]] == ["task.assigned"]
    status, body = await api.call("GET", "/api/v1/notifications", bob)
    assert [n for n in body["items"] if n["task_id"] == added["id"]] == []  # his own


async def test_a_co_edited_description_tells_the_watchers_once_when_it_settles(api: Api) -> None:
    ada, bob, carol, _, task = await _team(api)
    runtime: Runtime = api.client.app.extensions["taskwire"]
    documents = runtime.services.documents
    user = await runtime.store.get_user(ada.id)
    assert user is not None
    opened = await documents.open(user, task["id"], None)
    doc: Doc = Doc()
    text = doc.get("description", type=Text)
    doc.apply_update(opened.missing)
    for char in "Ready to ship":  # one update per keystroke
        state = doc.get_state()
        text += char
        await documents.apply(user, task["id"], doc.get_update(state), "test")
    deadline = asyncio.get_running_loop().time() + 5
    while not await _changes(api, bob) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # time for a second settle, were there one
    assert await _changes(api, bob) == [("description",)]
    assert (await api.call("GET", f"/api/v1/tasks/{task['id']}", carol))[1]["description"] == "Ready to ship"
    assert await _changes(api, ada) == []


async def test_board_watchers_hear_of_moves_and_those_who_stopped_do_not(api: Api) -> None:
    ada, bob, carol, board, task = await _team(api)
    await _put(api, carol, f"/api/v1/boards/{board['id']}/watch", True)
    await _put(api, bob, f"/api/v1/tasks/{task['id']}/watch", False)
    status, body = await api.call("GET", f"/api/v1/boards/{board['id']}/watch", carol)
    assert body == {"watching": True}
    status, _ = await api.call("POST", f"/api/v1/tasks/{task['id']}/move", ada, json={"status": "done"})
    assert status == 200
    assert await _changes(api, carol) == [("column",)]
    assert await _changes(api, bob) == []  # he stopped watching
    assert await _changes(api, ada) == []  # her own move


async def test_a_mention_is_not_told_twice(api: Api) -> None:
    ada, bob, carol, _, task = await _team(api)
    status, _ = await api.call("POST", f"/api/v1/tasks/{task['id']}/comments", carol, json={"body": "@Bob see this"})
    assert status == 201
    status, body = await api.call("GET", "/api/v1/notifications", bob)
    types = [n["type"] for n in body["items"] if n.get("comment_id")]
    assert types == ["comment.mentioned"]


async def test_watching_needs_sight_of_the_board(api: Api) -> None:
    ada, _, _, board, task = await _team(api)
    stranger = await api.register("Eve")
    for path in (f"/api/v1/tasks/{task['id']}/watch", f"/api/v1/boards/{board['id']}/watch"):
        status, body = await api.call("PUT", path, stranger, json={"watching": True})
        assert status == 404, body
        status, body = await api.call("PUT", path, ada, json={"watching": "yes"})
        assert status == 422, body


async def test_a_watcher_who_chose_email_gets_one(api: Api, sink: SmtpSink) -> None:
    ada, bob, carol, board, task = await _team(api)
    status, _ = await api.call("PATCH", "/api/v1/preferences", carol, json={"channels": {"changed": ["email"]}})
    assert status == 200
    await _put(api, carol, f"/api/v1/tasks/{task['id']}/watch", True)
    due = "2030-01-15T09:00:00Z"
    status, current = await api.call("GET", f"/api/v1/tasks/{task['id']}", ada)
    status, _ = await api.call(
        "PATCH", f"/api/v1/tasks/{task['id']}", ada, json={"due_at": due, "version": current["version"]}
    )
    assert status == 200
    await sink.wait_for(lambda: len(sink.to(carol.email)) == 1)
    assert sink.to(carol.email)[0].message["Subject"] == "Ada changed the due date of “Ship it”"
    assert await _changes(api, carol) == []  # email only, as she chose
    await asyncio.sleep(0.2)
    held = [m.kind for m in await store_of(api).list_mail(bob.id, 10) if m.status == "held"]
    assert held.count("changed") == 1  # Bob's default: the bell and a digest line
    assert await _changes(api, bob) == [("due_date",)]
