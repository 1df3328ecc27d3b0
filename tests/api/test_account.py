"""An account's lifecycle over the API, on both stores: a new email, the data export, and
deleting the account (boards deleted or handed over, comments kept by "Deleted user",
tokens, sessions and notifications gone), checked by reading every table or collection."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from pymongo import AsyncMongoClient
from quart import Quart

from app.domain.clock import now
from app.domain.models import ExternalIdentity, TwoFactor
from tests.api.test_attachments import upload
from tests.support.apiclient import PASSWORD, Account, Api

NAME = "Zelda Quixote-Marchetti"


async def raw_store_text(database_url: str) -> str:
    """Every row of every table (SQLite) or every document of every collection (MongoDB)."""
    parts: list[str] = []
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                parts.extend(repr(row) for row in conn.execute(f'SELECT * FROM "{table}"'))
        finally:
            conn.close()
    else:
        client: AsyncMongoClient[Any] = AsyncMongoClient(database_url)
        try:
            db = client.get_default_database()
            for name in await db.list_collection_names():
                parts.extend([json.dumps(doc, default=str) async for doc in db[name].find()])
        finally:
            await client.close()
    return "\n".join(parts)


async def test_changing_the_email_needs_the_password_and_a_free_address(api: Api) -> None:
    ada, other = await api.register(), await api.register()
    body = {"email": "new.ada@example.test", "current_password": "wrong" * 3}
    status, reply = await api.call("PUT", "/api/v1/users/me/email", ada, json=body)
    assert status == 403 and reply["error"]["code"] == "invalid_password"
    taken = {"email": other.email.upper(), "current_password": PASSWORD}
    status, reply = await api.call("PUT", "/api/v1/users/me/email", ada, json=taken)
    assert status == 409 and reply["error"]["code"] == "email_taken"
    status, token = await api.call("POST", "/api/v1/tokens", ada, json={"name": "t", "scopes": ["read", "write"]})
    by_token = {"Authorization": f"Bearer {token['token']}"}
    good = {"email": "New.Ada@example.test", "current_password": PASSWORD}
    status, reply = await api.call("PUT", "/api/v1/users/me/email", json=good, headers=by_token)
    assert status == 403 and reply["error"]["code"] == "session_required"

    status, reply = await api.call("PUT", "/api/v1/users/me/email", ada, json=good)
    assert status == 200 and reply["email"] == "new.ada@example.test"
    assert (await api.call("GET", "/api/v1/users/me", ada))[1]["email"] == "new.ada@example.test"
    login = {"email": "new.ada@example.test", "password": PASSWORD}
    assert (await api.call("POST", "/api/v1/auth/login", json=login))[0] == 200
    assert (await api.call("POST", "/api/v1/auth/login", json={"email": ada.email, "password": PASSWORD}))[0] == 401


async def shared_world(api: Api) -> tuple[Account, Account, Account, dict, dict]:
    """Zelda owns Shared with Bob; Carol owns Team with Zelda as editor; they work together."""
    zelda = await api.register(name=NAME, email="zelda@example.test")
    bob, carol = await api.register(name="Bob"), await api.register(name="Carol")
    shared = await api.board(zelda, "Shared")
    await api.add_member(zelda, shared["id"], bob, "editor")
    team = await api.board(carol, "Team")
    await api.add_member(carol, team["id"], zelda, "editor")
    await api.task(zelda, shared["id"], "Zelda's own task")
    task = await api.task(carol, team["id"], "Review", assignees=[zelda.id])
    await api.task(zelda, team["id"], "For Carol", assignees=[carol.id])  # Carol is notified by Zelda
    status, _ = await api.call("POST", f"/api/v1/tasks/{task['id']}/comments", zelda, json={"body": "On it, @Carol"})
    assert status == 201
    status, _ = await api.call("POST", f"/api/v1/tasks/{task['id']}/comments", carol, json={"body": "Thanks!"})
    assert status == 201
    return zelda, bob, carol, shared, team


async def leave_traces_elsewhere(api: Api, zelda: Account, carol: Account, team: dict) -> None:
    """On Carol's Team, Zelda (made admin) sets a task recurring, trashes a task she is
    assigned and commented on, and invites someone; she joined Carol's Backlog by invitation."""
    status, _ = await api.call(
        "PATCH", f"/api/v1/boards/{team['id']}/members/{zelda.id}", carol, json={"role": "admin"}
    )
    assert status == 200
    recurring = await api.task(zelda, team["id"], "Weekly report")
    status, _ = await api.call("PUT", f"/api/v1/tasks/{recurring['id']}/recurrence", zelda, json={"kind": "daily"})
    assert status == 200
    doomed = await api.task(carol, team["id"], "Doomed", assignees=[zelda.id, carol.id])
    body = {"body": "Dropping this, @Carol"}
    assert (await api.call("POST", f"/api/v1/tasks/{doomed['id']}/comments", zelda, json=body))[0] == 201
    assert (await api.call("DELETE", f"/api/v1/tasks/{doomed['id']}", zelda))[0] == 204
    status, _ = await api.call(
        "POST", f"/api/v1/boards/{team['id']}/invitations", zelda, json={"email": "newcomer@example.test"}
    )
    assert status == 201
    backlog = await api.board(carol, "Backlog")
    status, invitation = await api.call(
        "POST", f"/api/v1/boards/{backlog['id']}/invitations", carol, json={"email": "zelda@example.test"}
    )
    token = invitation["link"].split("#", 1)[1]
    assert (await api.call("POST", "/api/v1/invitations/accept", zelda, json={"token": token}))[0] == 200


async def test_the_export_holds_everything_that_is_yours(api: Api) -> None:
    zelda, bob, carol, shared, team = await shared_world(api)
    status, token = await api.call("POST", "/api/v1/tokens", zelda, json={"name": "script", "scopes": ["read"]})
    response = await api.client.get("/api/v1/users/me/export", headers=zelda.headers)
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    export = await response.get_json()
    assert export["user"]["email"] == "zelda@example.test" and export["user"]["name"] == NAME
    boards = {board["name"]: board for board in export["boards"]}
    assert set(boards) == {"My tasks", "Shared", "Team"}
    assert boards["Shared"]["role"] == "owner" and boards["Team"]["role"] == "editor"
    assert {member["user_id"] for member in boards["Team"]["members"]} == {carol.id, zelda.id}
    assert {task["title"] for task in export["tasks"]} == {"Zelda's own task", "Review", "For Carol"}
    assert [comment["body"] for comment in export["comments"]] == ["On it, @Carol"]
    assert export["notifications"] and all(n["type"] for n in export["notifications"])
    assert [token["name"] for token in export["api_tokens"]] == ["script"]
    assert "token" not in export["api_tokens"][0] and token["token"] not in json.dumps(export)


async def test_deleting_asks_about_solely_owned_boards_first_and_changes_nothing_meanwhile(api: Api) -> None:
    zelda, bob, carol, shared, team = await shared_world(api)
    body = {"current_password": PASSWORD}
    status, reply = await api.call("POST", "/api/v1/users/me/delete", zelda, json=body)
    assert status == 409 and reply["error"]["code"] == "sole_owner_boards"
    assert [board["id"] for board in reply["error"]["details"]["boards"]] == [shared["id"]]
    assert [m["user_id"] for m in reply["error"]["details"]["boards"][0]["members"]] == [bob.id]
    status, reply = await api.call(
        "POST", "/api/v1/users/me/delete", zelda, json={**body, "boards": {shared["id"]: carol.id}}
    )
    assert status == 422 and reply["error"]["code"] == "invalid_successor"
    status, reply = await api.call(
        "POST",
        "/api/v1/users/me/delete",
        zelda,
        json={"current_password": "wrong" * 3, "boards": {shared["id"]: "delete"}},
    )
    assert status == 403
    assert (await api.call("GET", "/api/v1/users/me", zelda))[0] == 200
    assert (await api.call("GET", f"/api/v1/boards/{shared['id']}", bob))[0] == 200


async def test_deleting_hands_over_keeps_comments_and_leaves_no_personal_data(
    app: Quart, api: Api, database_url: str
) -> None:
    zelda, bob, carol, shared, team = await shared_world(api)
    status, token = await api.call("POST", "/api/v1/tokens", zelda, json={"name": "bot", "scopes": ["read"]})
    store = app.extensions["taskwire"].store
    await store.put_two_factor(TwoFactor(user_id=zelda.id, secret="A" * 32, created_at=now()))
    await store.link_identity(ExternalIdentity("kc", "zelda-sub", zelda.id, "zelda@example.test", now()))
    team_tasks = (await api.call("GET", f"/api/v1/boards/{team['id']}/tasks", carol))[1]["items"]
    status, attachment = await upload(api, zelda, team_tasks[0]["id"], b"plain notes", "notes.txt", "text/plain")
    assert status == 201, attachment
    await leave_traces_elsewhere(api, zelda, carol, team)
    assert "zelda@example.test" in await raw_store_text(database_url)

    status, _ = await api.call(
        "POST",
        "/api/v1/users/me/delete",
        zelda,
        json={"current_password": PASSWORD, "boards": {shared["id"]: bob.id}},
    )
    assert status == 204

    # Signed out everywhere, and the account is gone.
    assert (await api.call("GET", "/api/v1/users/me", zelda))[0] == 401
    assert (await api.call("GET", "/api/v1/boards", headers={"Authorization": f"Bearer {token['token']}"}))[0] == 401
    assert (await api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": zelda.refresh_token}))[0] == 401
    login = {"email": "zelda@example.test", "password": PASSWORD}
    assert (await api.call("POST", "/api/v1/auth/login", json=login))[0] == 401
    # Bob owns Shared now, with Zelda's task in it; Zelda's personal board is gone.
    status, members = await api.call("GET", f"/api/v1/boards/{shared['id']}/members", bob)
    assert [(m["user_id"], m["role"]) for m in members["items"]] == [(bob.id, "owner")]
    status, tasks = await api.call("GET", f"/api/v1/boards/{shared['id']}/tasks", bob)
    assert [task["title"] for task in tasks["items"]] == ["Zelda's own task"]
    assert tasks["items"][0]["created_by"] == "deleted-user"
    # Carol's board keeps Zelda's comment, by "Deleted user"; her assignment is gone.
    status, board_tasks = await api.call("GET", f"/api/v1/boards/{team['id']}/tasks", carol)
    review = next(task for task in board_tasks["items"] if task["title"] == "Review")
    assert review["assignees"] == []
    status, comments = await api.call("GET", f"/api/v1/tasks/{review['id']}/comments", carol)
    assert [(c["author_id"], c["body"]) for c in comments["items"]] == [
        ("deleted-user", "On it, @Carol"),
        (carol.id, "Thanks!"),
    ]
    status, files = await api.call("GET", f"/api/v1/tasks/{team_tasks[0]['id']}/attachments", carol)
    assert [(f["name"], f["uploaded_by"]) for f in files["items"]] == [("notes.txt", "deleted-user")]
    status, notices = await api.call("GET", "/api/v1/notifications", carol)
    assert notices["items"] and {n["actor"]["name"] for n in notices["items"]} == {"Deleted user"}

    # Her trashed task keeps Carol as its assignee and the comment by "Deleted user"; the
    # invitation she sent is withdrawn.
    status, trash = await api.call("GET", f"/api/v1/boards/{team['id']}/trash", carol)
    [doomed] = trash["items"]
    assert (doomed["deleted_by"], doomed["task"]["assignees"]) == ("deleted-user", [carol.id])
    assert (await api.call("GET", f"/api/v1/boards/{team['id']}/invitations", carol))[1]["items"] == []

    # Nothing of Zelda's is left in the store: not her email, her name or her id.
    text = await raw_store_text(database_url)
    for trace in ("zelda@example.test", NAME, zelda.id, "zelda-sub"):
        assert trace not in text, trace
