"""Archive and trash over REST, on both stores: a deleted task still looks gone to a v1
client (204, then 404 and absent from lists) yet can be restored from the trash with its
comments; archived tasks and boards leave the lists unless asked for; the purge of expired
trash runs once however many instances try; every change is an event in the board's log."""

from __future__ import annotations

import asyncio

from quart import Quart

from app.domain.models import EventDraft
from app.runtime import Runtime
from tests.api.test_account import raw_store_text
from tests.api.test_attachments import download, upload
from tests.store.test_attachments_contract import content_of
from tests.support.apiclient import Account, Api

LONG_AGO = "2001-01-01T00:00:00.000000Z"


async def event_types(api: Api, account: Account, board_id: str, after: int) -> list[str]:
    status, body = await api.call("GET", f"/api/v1/boards/{board_id}/events?after={after}", account)
    assert status == 200
    return [event["type"] for event in body["items"]]


async def seq_of(api: Api, account: Account, board_id: str) -> int:
    return int((await api.call("GET", f"/api/v1/boards/{board_id}", account))[1]["seq"])


async def listed(api: Api, account: Account, board_id: str, query: str = "") -> list[str]:
    status, body = await api.call("GET", f"/api/v1/boards/{board_id}/tasks{query}", account)
    assert status == 200, body
    return [task["title"] for task in body["items"]]


async def test_a_deleted_task_is_gone_for_v1_clients_and_restores_from_the_trash_with_its_comments(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(owner, board, "Draft the plan", labels=["plan"])
    await api.task(owner, board, "Other")
    status, _ = await api.call("POST", f"/api/v1/tasks/{task['id']}/comments", owner, json={"body": "see v2"})
    assert status == 201
    seq = await seq_of(api, owner, board)

    assert (await api.call("DELETE", f"/api/v1/tasks/{task['id']}", owner))[0] == 204
    status, body = await api.call("GET", f"/api/v1/tasks/{task['id']}", owner)
    assert (status, body["error"]["code"]) == (404, "task_not_found")
    assert await listed(api, owner, board) == ["Other"]
    assert await listed(api, owner, board, "?label=plan") == []
    assert (await api.call("GET", f"/api/v1/tasks/{task['id']}/comments", owner))[0] == 404

    status, trash = await api.call("GET", f"/api/v1/boards/{board}/trash", owner)
    assert status == 200 and trash["retention_days"] == 30
    [entry] = trash["items"]
    assert (entry["id"], entry["title"], entry["deleted_by"]) == (task["id"], "Draft the plan", owner.id)
    assert entry["task"]["labels"] == ["plan"] and entry["purge_at"] > entry["deleted_at"]

    status, restored = await api.call("POST", f"/api/v1/boards/{board}/trash/{task['id']}/restore", owner)
    assert status == 200, restored
    assert (restored["title"], restored["status"], restored["version"]) == ("Draft the plan", "todo", 2)
    assert (await api.call("GET", f"/api/v1/tasks/{task['id']}", owner))[1] == restored
    assert sorted(await listed(api, owner, board)) == ["Draft the plan", "Other"]
    comments = (await api.call("GET", f"/api/v1/tasks/{task['id']}/comments", owner))[1]["items"]
    assert [comment["body"] for comment in comments] == ["see v2"]
    assert (await api.call("GET", f"/api/v1/boards/{board}/trash", owner))[1]["items"] == []
    assert await event_types(api, owner, board, seq) == ["task.deleted", "task.restored"]

    # Restoring twice, or a task that was never deleted: the trash has no such task.
    status, body = await api.call("POST", f"/api/v1/boards/{board}/trash/{task['id']}/restore", owner)
    assert (status, body["error"]["code"]) == (404, "task_not_in_trash")


async def test_a_stale_delete_still_conflicts_and_a_restored_task_rejects_the_old_version(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(owner, board)
    status, body = await api.call("DELETE", f"/api/v1/tasks/{task['id']}", owner, headers={"If-Match": '"9"'})
    assert (status, body["error"]["code"], body["current"]["id"]) == (409, "version_conflict", task["id"])
    assert (await api.call("DELETE", f"/api/v1/tasks/{task['id']}", owner, headers={"If-Match": '"1"'}))[0] == 204
    await api.call("POST", f"/api/v1/boards/{board}/trash/{task['id']}/restore", owner)
    status, body = await api.call("PATCH", f"/api/v1/tasks/{task['id']}", owner, json={"title": "x", "version": 1})
    assert (status, body["error"]["code"], body["current"]["version"]) == (409, "version_conflict", 2)


async def test_a_task_restored_after_its_column_went_lands_in_the_first_column(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner, columns=["todo", "review", "done"]))["id"]
    task = await api.task(owner, board, status="review")
    await api.call("DELETE", f"/api/v1/tasks/{task['id']}", owner)
    status, _ = await api.call("PATCH", f"/api/v1/boards/{board}", owner, json={"columns": ["todo", "done"]})
    assert status == 200
    status, restored = await api.call("POST", f"/api/v1/boards/{board}/trash/{task['id']}/restore", owner)
    assert (status, restored["status"]) == (200, "todo")


async def test_a_task_unarchived_after_its_column_went_lands_in_the_first_column(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner, columns=["todo", "review"]))["id"]
    task = await api.task(owner, board, status="review")
    await api.call("POST", f"/api/v1/tasks/{task['id']}/archive", owner, json={})
    assert (await api.call("PATCH", f"/api/v1/boards/{board}", owner, json={"columns": ["todo"]}))[0] == 200
    status, back = await api.call("POST", f"/api/v1/tasks/{task['id']}/unarchive", owner, json={})
    assert (status, back["status"]) == (200, "todo")


async def test_delete_forever_is_for_admins_and_leaves_a_purge_event(api: Api) -> None:
    owner, editor = await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, editor, "editor")
    task = await api.task(owner, board, "Junk")
    await api.call("DELETE", f"/api/v1/tasks/{task['id']}", editor)
    status, body = await api.call("DELETE", f"/api/v1/boards/{board}/trash/{task['id']}", editor)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    seq = await seq_of(api, owner, board)
    assert (await api.call("DELETE", f"/api/v1/boards/{board}/trash/{task['id']}", owner))[0] == 204
    assert (await api.call("GET", f"/api/v1/boards/{board}/trash", owner))[1]["items"] == []
    status, body = await api.call("GET", f"/api/v1/boards/{board}/events?after={seq}", owner)
    [purged] = body["items"]
    assert (purged["type"], purged["data"]) == ("task.purged", {"id": task["id"], "board_id": board, "title": "Junk"})


async def test_expired_trash_is_purged_once_by_whichever_instance_holds_the_lease(app: Quart, api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    runtime: Runtime = app.extensions["taskwire"]
    old = [await api.task(owner, board, f"Old {n}") for n in range(3)]
    recent = await api.task(owner, board, "Recent")
    for task in old:
        # Deleted long ago: a trashed task's deleted_at is its event's time.
        await runtime.store.trash_task(task["id"], None, owner.id, EventDraft("task.deleted", owner.id, LONG_AGO, {}))
    await api.call("DELETE", f"/api/v1/tasks/{recent['id']}", owner)
    seq = await seq_of(api, owner, board)

    trash = runtime.services.trash
    results = await asyncio.gather(*(trash.purge_expired(f"instance-{n}", 60) for n in range(4)))

    # Those that found the lease taken did nothing (None); the others purged each task once.
    assert sum(result or 0 for result in results) == 3 and None in results
    assert await event_types(api, owner, board, seq) == ["task.purged"] * 3
    remaining = (await api.call("GET", f"/api/v1/boards/{board}/trash", owner))[1]["items"]
    assert [entry["title"] for entry in remaining] == ["Recent"]
    assert await trash.purge_expired("instance-0", 60) == 0  # the lease was released


async def test_an_archived_task_leaves_the_board_until_unarchived(api: Api) -> None:
    owner, viewer = await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, viewer, "viewer")
    task = await api.task(owner, board, "Old idea")
    await api.task(owner, board, "Current")
    seq = await seq_of(api, owner, board)

    status, body = await api.call("POST", f"/api/v1/tasks/{task['id']}/archive", owner, json={"version": 5})
    assert (status, body["error"]["code"], body["current"]["version"]) == (409, "version_conflict", 1)
    status, archived = await api.call("POST", f"/api/v1/tasks/{task['id']}/archive", owner, json={"version": 1})
    assert status == 200 and archived["version"] == 2 and archived["archived_at"]
    assert await listed(api, viewer, board) == ["Current"]
    assert await listed(api, viewer, board, "?archived=true") == ["Old idea"]
    assert (await api.call("GET", f"/api/v1/tasks/{task['id']}", viewer))[1] == archived
    # Archiving again changes nothing (no new version, no event).
    assert (await api.call("POST", f"/api/v1/tasks/{task['id']}/archive", owner, json={}))[1] == archived

    status, back = await api.call(
        "POST", f"/api/v1/tasks/{task['id']}/unarchive", owner, headers={"If-Match": '"2"'}, json={}
    )
    assert status == 200 and back["version"] == 3 and "archived_at" not in back
    assert sorted(await listed(api, viewer, board)) == ["Current", "Old idea"]
    assert await event_types(api, owner, board, seq) == ["task.archived", "task.unarchived"]
    status, body = await api.call("GET", f"/api/v1/boards/{board}/tasks?archived=maybe", owner)
    assert (status, body["error"]["code"]) == (422, "validation_error")


async def test_an_archived_board_leaves_the_boards_list_until_unarchived(api: Api) -> None:
    owner, editor = await api.register(), await api.register()
    board = (await api.board(owner, name="Old project"))["id"]
    await api.add_member(owner, board, editor, "editor")
    seq = await seq_of(api, owner, board)
    assert (await api.call("POST", f"/api/v1/boards/{board}/archive", editor))[0] == 403

    status, archived = await api.call("POST", f"/api/v1/boards/{board}/archive", owner)
    assert status == 200 and archived["archived_at"] and archived["role"] == "owner"
    for account in (owner, editor):
        names = [item["name"] for item in (await api.call("GET", "/api/v1/boards", account))[1]["items"]]
        assert "Old project" not in names
        archived_names = [
            item["name"] for item in (await api.call("GET", "/api/v1/boards?archived=true", account))[1]["items"]
        ]
        assert archived_names == ["Old project"]
    # Still there by link: readable and usable.
    assert (await api.call("GET", f"/api/v1/boards/{board}", editor))[0] == 200

    status, back = await api.call("POST", f"/api/v1/boards/{board}/unarchive", owner)
    assert status == 200 and "archived_at" not in back
    assert "Old project" in [item["name"] for item in (await api.call("GET", "/api/v1/boards", editor))[1]["items"]]
    assert await event_types(api, owner, board, seq) == ["board.archived", "board.unarchived"]


async def test_a_commenter_is_refused_task_writes_with_403_and_may_comment(api: Api) -> None:
    owner, commenter = await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, commenter, "commenter")
    task = await api.task(owner, board)
    task_path = f"/api/v1/tasks/{task['id']}"
    refused = [
        ("POST", f"/api/v1/boards/{board}/tasks", {"title": "Mine"}),
        ("PATCH", task_path, {"title": "Mine", "version": 1}),
        ("POST", f"{task_path}/move", {"status": "done"}),
        ("POST", f"{task_path}/archive", {}),
        ("DELETE", task_path, None),
    ]
    for method, path, body in refused:
        status, answer = await api.call(method, path, commenter, json=body)
        assert (status, answer["error"]["code"], answer["error"]["details"]) == (
            403,
            "forbidden",
            {"role": "commenter", "needed": "editor"},
        ), path
    assert (await api.call("GET", task_path, owner))[1] == task  # unchanged

    status, comment = await api.call("POST", f"{task_path}/comments", commenter, json={"body": "Why this?"})
    assert status == 201
    status, edited = await api.call("PATCH", f"/api/v1/comments/{comment['id']}", commenter, json={"body": "Why?"})
    assert (status, edited["body"]) == (200, "Why?")
    assert (await api.call("DELETE", f"/api/v1/comments/{comment['id']}", commenter))[0] == 204
    members = (await api.call("GET", f"/api/v1/boards/{board}/members", commenter))[1]["items"]
    assert {member["user_id"]: member["role"] for member in members}[commenter.id] == "commenter"


async def test_a_trashed_task_keeps_its_files_hidden_until_restored_and_its_purge_deletes_their_bytes(
    app: Quart, api: Api, database_url: str
) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(owner, board, "With a file")
    status, _ = await api.call("POST", f"/api/v1/tasks/{task['id']}/checklist", owner, json={"text": "Step one"})
    assert status == 201
    content = b"%PDF-1.4 trashed-file-marker"
    status, attachment = await upload(api, owner, task["id"], content, "notes.pdf", "application/pdf")
    assert status == 201, attachment
    file = f"/api/v1/attachments/{attachment['id']}"
    store = app.extensions["taskwire"].store

    assert (await api.call("DELETE", f"/api/v1/tasks/{task['id']}", owner))[0] == 204
    # Hidden with its task, but kept in the store for a restore.
    assert (await api.call("GET", file, owner))[0] == 404
    assert (await download(api, owner, f"{file}/content")).status_code == 404
    assert await content_of(store, attachment["id"]) == content

    status, restored = await api.call("POST", f"/api/v1/boards/{board}/trash/{task['id']}/restore", owner)
    assert status == 200
    assert [item["text"] for item in restored["checklist"]] == ["Step one"]
    files = (await api.call("GET", f"/api/v1/tasks/{task['id']}/attachments", owner))[1]["items"]
    assert [item["name"] for item in files] == ["notes.pdf"]
    response = await download(api, owner, f"{file}/content")
    assert response.status_code == 200 and await response.get_data() == content

    # Deleted again and then for good: the files go, bytes and all, from either store.
    assert (await api.call("DELETE", f"/api/v1/tasks/{task['id']}", owner))[0] == 204
    assert "trashed-file-marker" in await raw_store_text(database_url)
    assert (await api.call("DELETE", f"/api/v1/boards/{board}/trash/{task['id']}", owner))[0] == 204
    assert await store.get_attachment(attachment["id"]) is None
    assert await store.open_attachment(attachment["id"]) is None
    assert "trashed-file-marker" not in await raw_store_text(database_url)
