"""export-board then import-board into a fresh deployment gives back everything a user sees
of the board through the REST API: tasks, comments (in order, with authors, mentions and
edits), members and roles, webhooks' configuration, who watches what, recurring tasks'
rules and links, pending invitations. Only secrets stay behind: the imported webhooks are
switched off, and each pending invitation has a new link. On both stores, through the real
commands."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.factory import create_app
from app.settings import Settings, load_settings
from tests.ops.test_cli import run_app
from tests.support.apiclient import PASSWORD, Account, Api
from tests.support.app_fixtures import SECRET, mongo_database_url

PEOPLE = (("Ada", "owner"), ("Bob", "admin"), ("Cy", "editor"), ("Dee", "viewer"))


def settings_for(database_url: str, data_dir: Path) -> Settings:
    return load_settings().model_copy(
        update=dict(
            data_dir=data_dir,
            database_url=database_url,
            redis_url="",
            secret_key=SECRET,
            webhook_allow_hosts=("127.0.0.1",),
        )
    )


@contextlib.asynccontextmanager
async def serving(database_url: str, data_dir: Path) -> AsyncIterator[Api]:
    application = create_app(settings_for(database_url, data_dir))
    async with application.test_app():
        yield Api(application.test_client())


async def ok(api: Api, method: str, path: str, account: Account, body: Any = None) -> Any:
    status, answer = await api.call(method, path, account, json=body)
    assert status in (200, 201, 204), (method, path, status, answer)
    return answer


async def register_people(api: Api) -> dict[str, Account]:
    return {name: await api.register(name, f"{name.lower()}@example.com") for name, _ in PEOPLE}


async def build_board(api: Api, people: dict[str, Account]) -> str:
    ada, bob, cy = people["Ada"], people["Bob"], people["Cy"]
    board = (await api.board(ada, "Launch", description="the spring launch", columns=["todo", "doing", "done"]))["id"]
    for name, role in PEOPLE[1:]:
        await api.add_member(ada, board, people[name], role)
    post = await api.task(
        ada,
        board,
        "Write the post",
        labels=["blog", "urgent-ish"],
        assignees=[bob.id, cy.id],
        priority="high",
        due_at="2030-01-02T03:04:05.000000Z",
        description="**draft** first",
    )
    demo = await api.task(bob, board, "Record the demo", status="doing", assignees=[bob.id])
    room = await api.task(cy, board, "Book the room", status="done", labels=["office"])
    await ok(api, "POST", f"/api/v1/tasks/{room['id']}/archive", cy, {})  # archived tasks travel too
    await ok(
        api, "PATCH", f"/api/v1/tasks/{demo['id']}", bob, {"title": "Record the demo (v2)", "version": demo["version"]}
    )

    # A recurring task done once (while "done" is the last column): its next occurrence
    # is linked to it both ways.
    plants = await api.task(cy, board, "Water the plants", assignees=[cy.id], due_at="2030-01-07T09:00:00.000000Z")
    rule = {"kind": "weekly", "interval": 2, "weekdays": ["thu", "mon"]}
    await ok(api, "PUT", f"/api/v1/tasks/{plants['id']}/recurrence", cy, rule)
    await ok(api, "PATCH", f"/api/v1/tasks/{plants['id']}", cy, {"status": "done", "version": plants["version"]})

    comments = f"/api/v1/tasks/{post['id']}/comments"
    await ok(api, "POST", comments, ada, {"body": "Thanks @Bob, and @cy@example.com please review"})
    edited = await ok(api, "POST", comments, bob, {"body": "On it"})
    await ok(api, "PATCH", f"/api/v1/comments/{edited['id']}", bob, {"body": "Done, @Ada: see the draft"})
    deleted = await ok(api, "POST", comments, cy, {"body": "a typo"})
    await ok(api, "DELETE", f"/api/v1/comments/{deleted['id']}", cy)
    await ok(api, "POST", comments, cy, {"body": "Looks good 🚀"})
    await ok(api, "POST", f"/api/v1/tasks/{demo['id']}/comments", ada, {"body": "Ship it"})
    await ok(api, "POST", f"/api/v1/boards/{board}/columns", ada, {"name": "Code Review 👀", "wip_limit": 2})
    for text in ("Outline", "Screenshots"):
        item = (await ok(api, "POST", f"/api/v1/tasks/{post['id']}/checklist", bob, {"text": text}))["checklist"][-1]
    await ok(api, "PATCH", f"/api/v1/tasks/{post['id']}/checklist/{item['id']}", cy, {"done": True})

    await ok(api, "PUT", f"/api/v1/boards/{board}/watch", people["Dee"], {"watching": True})
    await ok(api, "PUT", f"/api/v1/tasks/{demo['id']}/watch", cy, {"watching": True})
    await ok(api, "PUT", f"/api/v1/tasks/{post['id']}/watch", bob, {"watching": False})  # an assignee opting out

    invitations = f"/api/v1/boards/{board}/invitations"
    await ok(api, "POST", invitations, ada, {"email": "Eve@Example.com", "role": "commenter"})
    await ok(api, "POST", invitations, bob, {"email": "fay@example.com", "role": "viewer"})
    revoked = await ok(api, "POST", invitations, ada, {"email": "gus@example.com"})
    await ok(api, "DELETE", f"{invitations}/{revoked['id']}", ada)  # not pending: not carried

    hooks = f"/api/v1/boards/{board}/webhooks"
    await ok(api, "POST", hooks, ada, {"url": "http://127.0.0.1:9/every", "secret": "s" * 32})
    await ok(api, "POST", hooks, bob, {"url": "http://127.0.0.1:9/comments", "events": ["comment.*", "task.created"]})
    await ok(api, "POST", f"/api/v1/boards/{board}/archive", ada, {})  # and so does the board's archived state
    return board


async def seen_by_users(api: Api, owner: Account, board_id: str) -> dict[str, Any]:
    """The board as its owner sees it through REST, with user ids replaced by emails and
    the ids of this deployment left out."""
    members = (await ok(api, "GET", f"/api/v1/boards/{board_id}/members", owner))["items"]
    email = {member["user_id"]: member["email"] for member in members}
    board = await ok(api, "GET", f"/api/v1/boards/{board_id}", owner)
    tasks = [
        task
        for archived in ("false", "true")
        for task in (await ok(api, "GET", f"/api/v1/boards/{board_id}/tasks?limit=100&archived={archived}", owner))[
            "items"
        ]
    ]
    seen_tasks = []
    # Tasks of different columns may share a position; ids differ between deployments.
    for task in sorted(tasks, key=lambda task: (task["status"], task["position"], task["title"])):
        comments = (await ok(api, "GET", f"/api/v1/tasks/{task['id']}/comments?limit=100", owner))["items"]
        seen_tasks.append(
            {
                **{key: value for key, value in task.items() if key not in ("id", "board_id", "version")},
                "assignees": [email[user] for user in task["assignees"]],
                "created_by": email[task["created_by"]],
                "comments": [
                    {
                        "author": email[comment["author_id"]],
                        "body": comment["body"],
                        "mentions": [email[user] for user in comment["mentions"]],
                        "created_at": comment["created_at"],
                        "updated_at": comment["updated_at"],
                    }
                    for comment in comments
                ],
            }
        )
    webhooks = (await ok(api, "GET", f"/api/v1/boards/{board_id}/webhooks", owner))["items"]
    return {
        "board": {
            key: board.get(key)
            for key in ("name", "description", "columns", "column_names", "wip_limits", "role", "archived_at")
        },
        "archived_boards": [
            item["name"] for item in (await ok(api, "GET", "/api/v1/boards?archived=true", owner))["items"]
        ],
        "members": [{key: member[key] for key in ("email", "name", "role", "added_at")} for member in members],
        "tasks": seen_tasks,
        "webhooks": [
            {
                "url": hook["url"],
                "events": hook["events"],
                "created_by": email[hook["created_by"]],
                "created_at": hook["created_at"],
                "active": hook["active"],
                "disabled_reason": hook["disabled_reason"],
            }
            for hook in webhooks
        ],
    }


async def seen_choices(api: Api, people: dict[str, Account], board_id: str) -> dict[str, Any]:
    """Who watches what, the recurring tasks' rules and the pending invitations, as members
    see them through REST, with tasks named by title and column and users by email."""
    owner = people["Ada"]
    members = (await ok(api, "GET", f"/api/v1/boards/{board_id}/members", owner))["items"]
    email = {member["user_id"]: member["email"] for member in members}
    tasks = [
        task
        for archived in ("false", "true")
        for task in (await ok(api, "GET", f"/api/v1/boards/{board_id}/tasks?limit=100&archived={archived}", owner))[
            "items"
        ]
    ]
    label = {task["id"]: f"{task['title']} ({task['status']})" for task in tasks}
    watching: dict[str, dict[str, Any]] = {}
    for name, account in people.items():
        watched = [
            label[task["id"]]
            for task in tasks
            if (await ok(api, "GET", f"/api/v1/tasks/{task['id']}/watch", account))["watching"]
        ]
        board_watch = (await ok(api, "GET", f"/api/v1/boards/{board_id}/watch", account))["watching"]
        watching[name] = {"board": board_watch, "tasks": sorted(watched)}
    recurrences = {}
    for task in tasks:
        rule = (await ok(api, "GET", f"/api/v1/tasks/{task['id']}/recurrence", owner))["rule"]
        if rule is not None:
            recurrences[label[task["id"]]] = {
                **{key: rule[key] for key in ("kind", "interval", "weekdays", "day_of_month", "updated_at")},
                "created_by": email[rule["created_by"]],
                **{
                    link: label.get(rule[link], rule[link])
                    for link in ("series_id", "previous_task_id", "next_task_id")
                },
            }
    invitations = (await ok(api, "GET", f"/api/v1/boards/{board_id}/invitations", owner))["items"]
    return {
        "watching": watching,
        "recurrences": recurrences,
        "invitations": [
            {
                **{key: item[key] for key in ("email", "role", "created_at", "expires_at", "status")},
                "created_by": email[item["created_by"]],
            }
            for item in invitations
        ],
    }


async def log_in(api: Api, email: str) -> Account:
    status, body = await api.call("POST", "/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert status == 200, body
    return Account(body["user"]["id"], email, body["user"]["name"], body["access_token"], body["refresh_token"])


async def unread_notifications(api: Api, account: Account) -> int:
    return len((await ok(api, "GET", "/api/v1/notifications", account))["items"])


@pytest.mark.parametrize("store", ["sqlite", "mongo"])
async def test_an_export_imported_into_a_fresh_deployment_shows_users_the_same_board(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    source_dir, target_dir = tmp_path / "source", tmp_path / "target"
    if store == "sqlite":
        source_url, target_url = (f"sqlite:///{folder / 'taskwire.db'}" for folder in (source_dir, target_dir))
    else:
        wire = request.getfixturevalue("mongo_wire").url
        source_url, target_url = mongo_database_url(wire), mongo_database_url(wire)

    async with serving(source_url, source_dir) as api:
        people = await register_people(api)
        board_id = await build_board(api, people)
        before = await seen_by_users(api, people["Ada"], board_id)
        choices_before = await seen_choices(api, {name: people[name] for name, _ in PEOPLE}, board_id)
        assert await unread_notifications(api, people["Bob"]) > 0  # the mention and the assignment

    export_file = tmp_path / "launch.json"
    exported = run_app(
        "export-board", board_id, "--output", str(export_file), data_dir=source_dir, database_url=source_url
    )
    assert exported.returncode == 0, exported.stderr
    assert "webhook secrets are not exported" in exported.stdout
    text = export_file.read_text()
    document = json.loads(text)
    assert document["format_version"] == 2
    # What the file leaves out is declared, each with why; what it carries is not.
    assert {"webhooks.secret", "events", "trash", "invitations.link"} <= set(document["omitted"])
    assert not {"watches", "recurrences", "invitations"} & set(document["omitted"])
    assert "s" * 32 not in text and all("secret" not in hook for hook in document["webhooks"])
    assert all("token" not in key for invitation in document["invitations"] for key in invitation)

    async with serving(target_url, target_dir) as api:
        await register_people(api)
    imported = run_app("import-board", str(export_file), data_dir=target_dir, database_url=target_url)
    assert imported.returncode == 0, imported.stderr
    assert "2 webhooks, switched off" in imported.stdout and "4 comments" in imported.stdout
    assert "2 pending invitations, each with a new link" in imported.stdout
    new_board_id = imported.stdout.split("import-board: done: board ")[1].split(";")[0]
    eve_link = imported.stdout.split("invitation of eve@example.com as commenter has a new link: ")[1].split()[0]

    async with serving(target_url, target_dir) as api:
        people = {name: await log_in(api, f"{name.lower()}@example.com") for name, _ in PEOPLE}
        after = await seen_by_users(api, people["Ada"], new_board_id)
        choices_after = await seen_choices(api, people, new_board_id)
        # An import tells nobody anything: the notifications stayed in the source's inboxes.
        assert [await unread_notifications(api, account) for account in people.values()] == [0, 0, 0, 0]
        webhooks = (await ok(api, "GET", f"/api/v1/boards/{new_board_id}/webhooks", people["Ada"]))["items"]
        board_seq = (await ok(api, "GET", f"/api/v1/boards/{new_board_id}", people["Ada"]))["seq"]
        # Switched back on, they deliver what happens from then on, not the import itself.
        assert {hook["last_delivered_seq"] for hook in webhooks} == {board_seq}
        # The new link is the one that works here.
        eve = await api.register("Eve", "eve@example.com")
        token = eve_link.split("/invite#")[1]
        accepted = await ok(api, "POST", "/api/v1/invitations/accept", eve, {"token": token})
        assert (accepted["board"]["id"], accepted["member"]["role"]) == (new_board_id, "commenter")

    assert [hook["active"] for hook in before["webhooks"]] == [True, True]
    assert after["webhooks"] == [
        {**hook, "active": False, "disabled_reason": "imported_without_secret"} for hook in before["webhooks"]
    ]
    (post,) = (task for task in after["tasks"] if task["title"] == "Write the post")
    assert [comment["body"] for comment in post["comments"]] == [
        "Thanks @Bob, and @cy@example.com please review",
        "Done, @Ada: see the draft",
        "Looks good 🚀",
    ]
    assert [comment["author"] for comment in post["comments"]] == [
        "ada@example.com",
        "bob@example.com",
        "cy@example.com",
    ]
    assert post["comments"][0]["mentions"] == ["bob@example.com", "cy@example.com"]
    edited = post["comments"][1]
    assert edited["updated_at"] > edited["created_at"]
    assert choices_after == choices_before
    assert (
        choices_before["watching"]["Dee"]["board"]
        and "Record the demo (v2) (doing)" in (choices_before["watching"]["Cy"]["tasks"])
    )
    assert "Write the post (todo)" not in choices_before["watching"]["Bob"]["tasks"]
    assert choices_before["recurrences"]["Water the plants (done)"]["next_task_id"] == "Water the plants (todo)"
    assert choices_before["recurrences"]["Water the plants (todo)"]["series_id"] == "Water the plants (done)"
    assert [item["email"] for item in choices_before["invitations"]] == ["eve@example.com", "fay@example.com"]
    assert before["board"]["archived_at"] is not None and before["archived_boards"] == ["Launch"]
    assert {key: after[key] for key in ("board", "archived_boards", "members", "tasks")} == {
        key: before[key] for key in ("board", "archived_boards", "members", "tasks")
    }


async def test_an_export_of_format_version_1_still_imports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'taskwire.db'}"
    async with serving(url, tmp_path) as api:
        people = await register_people(api)
        board_id = await build_board(api, people)
    export_file = tmp_path / "launch.json"
    assert (
        run_app("export-board", board_id, "--output", str(export_file), data_dir=tmp_path, database_url=url).returncode
        == 0
    )
    # What export-board wrote before comments and webhooks were in the file.
    document = json.loads(export_file.read_text())
    for key in ("omitted", "webhooks", "comments", "attachments", "invitations", "watches", "recurrences"):
        del document[key]
    document["format_version"] = 1
    export_file.write_text(json.dumps(document))

    imported = run_app("import-board", str(export_file), data_dir=tmp_path, database_url=url)
    assert imported.returncode == 0, imported.stderr
    new_board_id = imported.stdout.split("import-board: done: board ")[1].split(";")[0]
    async with serving(url, tmp_path) as api:
        ada = await log_in(api, "ada@example.com")
        before = await seen_by_users(api, ada, board_id)
        after = await seen_by_users(api, ada, new_board_id)
    assert [task["title"] for task in after["tasks"]] == [task["title"] for task in before["tasks"]]
    assert after["members"] == before["members"]
    assert all(task["comments"] == [] for task in after["tasks"]) and after["webhooks"] == []


async def test_comments_of_people_without_an_account_here_are_skipped_not_reattributed(tmp_path: Path) -> None:
    source_url = f"sqlite:///{tmp_path / 'source.db'}"
    target_url = f"sqlite:///{tmp_path / 'target.db'}"
    async with serving(source_url, tmp_path) as api:
        board_id = await build_board(api, await register_people(api))
    export_file = tmp_path / "launch.json"
    assert (
        run_app(
            "export-board", board_id, "--output", str(export_file), data_dir=tmp_path, database_url=source_url
        ).returncode
        == 0
    )
    async with serving(target_url, tmp_path) as api:
        ada = await api.register("Ada", "ada@example.com")
        await api.register("Bob", "bob@example.com")

    imported = run_app("import-board", str(export_file), data_dir=tmp_path, database_url=target_url)
    assert imported.returncode == 0, imported.stderr
    assert "skipped 1 comments whose authors have no account here" in imported.stdout
    new_board_id = imported.stdout.split("import-board: done: board ")[1].split(";")[0]
    async with serving(target_url, tmp_path) as api:
        ada = await log_in(api, "ada@example.com")
        after = await seen_by_users(api, ada, new_board_id)
    (post,) = (task for task in after["tasks"] if task["title"] == "Write the post")
    assert [(comment["author"], comment["mentions"]) for comment in post["comments"]] == [
        ("ada@example.com", ["bob@example.com"]),
        ("bob@example.com", ["ada@example.com"]),
    ]
    assert post["comments"][0]["body"] == "Thanks @Bob, and @cy@example.com please review"
