"""Watching: a task's author and assignees watch it by default, anyone on the board may
watch a task or the whole board or stop; watchers hear of comments, of moves and of new
due dates, never of their own, in the bell and (if they chose) by email."""

from __future__ import annotations

import asyncio

from tests.mail.conftest import store_of
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


async def test_board_watchers_hear_of_moves_and_those_who_stopped_do_not(api: Api) -> None:
    ada, bob, carol, board, task = await _team(api)
    await _put(api, carol, f"/api/v1/boards/{board['id']}/watch", True)
    await _put(api, bob, f"/api/v1/tasks/{task['id']}/watch", False)
    status, body = await api.call("GET", f"/api/v1/boards/{board['id']}/watch", carol)
    assert body == {"watching": True}
    status, _ = await api.call("POST", f"/api/v1/tasks/{task['id']}/move", ada, json={"status": "done"})
    assert status == 200
    assert await _watched(api, carol) == ["task.watched by Ada"]
    assert await _watched(api, bob) == []  # he stopped watching
    assert await _watched(api, ada) == []  # her own move


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
    status, _ = await api.call("PATCH", "/api/v1/preferences", carol, json={"channels": {"watched": ["email"]}})
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
    assert await _watched(api, carol) == []  # email only, as she chose
    await asyncio.sleep(0.2)
    held = [m.kind for m in await store_of(api).list_mail(bob.id, 10) if m.status == "held"]
    assert held.count("watched") == 1  # Bob's default: the bell and a digest line
