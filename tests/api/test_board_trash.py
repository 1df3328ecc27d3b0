"""Deleting a board over REST, on both stores: DELETE keeps its v1 answer (204, owners only;
then 404 for everyone and absent from every list) but the board goes to its owners' trash,
from where it comes back whole, with its members and a ``board.restored`` event, or is deleted
for good; the purge of expired trash deletes boards too."""

from __future__ import annotations

from quart import Quart

from app.domain.models import EventDraft
from app.runtime import Runtime
from tests.api.test_account import raw_store_text
from tests.api.test_api_tokens import as_token, mint
from tests.api.test_archive_trash import LONG_AGO, event_types
from tests.api.test_attachments import upload
from tests.support.apiclient import PASSWORD, Account, Api


async def board_names(api: Api, account: Account, query: str = "") -> list[str]:
    status, body = await api.call("GET", f"/api/v1/boards{query}", account)
    assert status == 200, body
    return [item["name"] for item in body["items"]]


async def trash_of(api: Api, account: Account) -> list[dict]:
    status, body = await api.call("GET", "/api/v1/boards/trash", account)
    assert status == 200, body
    return list(body["items"])


async def test_a_deleted_board_is_gone_for_everyone_and_its_owner_restores_it_whole(api: Api) -> None:
    owner, editor = await api.register(), await api.register()
    board = (await api.board(owner, name="Launch"))["id"]
    await api.add_member(owner, board, editor, "editor")
    task = await api.task(editor, board, "Write the copy")
    status, _ = await api.call("POST", f"/api/v1/tasks/{task['id']}/comments", editor, json={"body": "draft"})
    assert status == 201
    seq = int((await api.call("GET", f"/api/v1/boards/{board}", owner))[1]["seq"])

    assert (await api.call("DELETE", f"/api/v1/boards/{board}", editor))[0] == 403  # owners only, as before
    assert (await api.call("DELETE", f"/api/v1/boards/{board}", owner))[0] == 204

    for account in (owner, editor):
        status, body = await api.call("GET", f"/api/v1/boards/{board}", account)
        assert (status, body["error"]["code"]) == (404, "board_not_found")
        assert (await api.call("GET", f"/api/v1/tasks/{task['id']}", account))[0] == 404
        assert (await api.call("GET", f"/api/v1/boards/{board}/events", account))[0] == 404
        assert "Launch" not in await board_names(api, account)
        assert "Launch" not in await board_names(api, account, "?archived=true")
    assert (await api.call("DELETE", f"/api/v1/boards/{board}", owner))[0] == 404  # in the trash already
    assert await trash_of(api, editor) == []  # only owners see (and restore) a deleted board
    status, body = await api.call("POST", f"/api/v1/boards/trash/{board}/restore", editor)
    assert (status, body["error"]["code"]) == (403, "forbidden")  # a member, not an owner
    [entry] = await trash_of(api, owner)
    assert (entry["id"], entry["name"], entry["deleted_by"]) == (board, "Launch", owner.id)
    assert entry["purge_at"] > entry["deleted_at"]

    status, restored = await api.call("POST", f"/api/v1/boards/trash/{board}/restore", owner)

    assert status == 200, restored
    assert (restored["id"], restored["name"], restored["role"]) == (board, "Launch", "owner")
    assert "Launch" in await board_names(api, editor)
    assert (await api.call("GET", f"/api/v1/tasks/{task['id']}", editor))[1]["title"] == "Write the copy"
    comments = (await api.call("GET", f"/api/v1/tasks/{task['id']}/comments", editor))[1]["items"]
    assert [comment["body"] for comment in comments] == ["draft"]
    assert await event_types(api, editor, board, seq) == ["board.deleted", "board.restored"]
    status, body = await api.call("GET", f"/api/v1/boards/{board}/events?after={seq + 1}", owner)
    assert body["items"][0]["data"]["name"] == "Launch"
    assert await trash_of(api, owner) == []
    status, body = await api.call("POST", f"/api/v1/boards/trash/{board}/restore", owner)
    assert (status, body["error"]["code"]) == (404, "board_not_in_trash")


async def test_delete_for_good_purges_the_board_with_its_files(app: Quart, api: Api) -> None:
    store = app.extensions["taskwire"].store
    owner, admin = await api.register(), await api.register()
    board = (await api.board(owner, name="Junk"))["id"]
    await api.add_member(owner, board, admin, "admin")
    task = await api.task(owner, board)
    status, attachment = await upload(api, owner, task["id"], b"some notes", "notes.txt", "text/plain")
    assert status == 201, attachment
    assert (await api.call("DELETE", f"/api/v1/boards/trash/{board}", owner))[0] == 404  # not in the trash
    assert (await api.call("DELETE", f"/api/v1/boards/{board}", owner))[0] == 204
    assert (await api.call("GET", f"/api/v1/attachments/{attachment['id']}", owner))[0] == 404
    assert await store.open_attachment(attachment["id"]) is not None  # kept in the trash

    status, body = await api.call("DELETE", f"/api/v1/boards/trash/{board}", admin)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert (await api.call("DELETE", f"/api/v1/boards/trash/{board}", owner))[0] == 204

    assert await trash_of(api, owner) == []
    assert (await api.call("POST", f"/api/v1/boards/trash/{board}/restore", owner))[0] == 404
    assert (await api.call("GET", f"/api/v1/boards/{board}", owner))[0] == 404
    assert await store.open_attachment(attachment["id"]) is None


async def test_expired_boards_are_purged_with_the_trash(app: Quart, api: Api) -> None:
    owner = await api.register()
    old, recent = (await api.board(owner, name="Old"))["id"], (await api.board(owner, name="Recent"))["id"]
    runtime: Runtime = app.extensions["taskwire"]
    # Deleted long ago: a trashed board's deleted_at is its event's time.
    await runtime.store.trash_board(old, owner.id, EventDraft("board.deleted", owner.id, LONG_AGO, {}))
    assert (await api.call("DELETE", f"/api/v1/boards/{recent}", owner))[0] == 204

    assert await runtime.services.trash.purge_expired("instance-0", 60) == 1

    assert [entry["name"] for entry in await trash_of(api, owner)] == ["Recent"]
    assert await runtime.store.get_trashed_board(old) is None


async def test_a_token_held_to_other_boards_neither_sees_nor_restores_a_deleted_board(api: Api) -> None:
    owner = await api.register()
    board, other = (await api.board(owner, name="Secret"))["id"], (await api.board(owner, name="Open"))["id"]
    token = (await mint(api, owner, ["read", "write"], boards=[other]))["token"]
    assert (await api.call("DELETE", f"/api/v1/boards/{board}", owner))[0] == 204

    status, body = await as_token(api, "GET", "/api/v1/boards/trash", token)
    assert (status, body["items"]) == (200, [])
    assert (await as_token(api, "POST", f"/api/v1/boards/trash/{board}/restore", token))[0] == 404
    assert [entry["name"] for entry in await trash_of(api, owner)] == ["Secret"]


async def test_deleting_an_account_empties_its_trash(app: Quart, api: Api) -> None:
    zelda, bob = await api.register(), await api.register()
    board = (await api.board(zelda, name="Shared once"))["id"]
    await api.add_member(zelda, board, bob, "editor")
    assert (await api.call("DELETE", f"/api/v1/boards/{board}", zelda))[0] == 204

    status, reply = await api.call("POST", "/api/v1/users/me/delete", zelda, json={"current_password": PASSWORD})

    assert status == 204, reply
    store = app.extensions["taskwire"].store
    assert await store.get_trashed_board(board) is None
    assert await store.get_trashed_member(board, bob.id) is None


async def test_deleting_an_account_keeps_a_trashed_board_another_owner_can_restore(
    app: Quart, api: Api, database_url: str
) -> None:
    zelda, olga = await api.register(), await api.register()
    shared = (await api.board(zelda, name="Co-owned"))["id"]
    own = (await api.board(zelda, name="Zelda's alone"))["id"]
    await api.add_member(zelda, shared, olga, "owner")
    # Zelda's traces in the board's task trash go too: a task she made, was assigned and commented on.
    task = (await api.task(zelda, shared, title="Zelda's draft", assignees=[zelda.id]))["id"]
    assert (await api.call("POST", f"/api/v1/tasks/{task}/comments", zelda, json={"body": "mine"}))[0] == 201
    assert (await api.call("DELETE", f"/api/v1/tasks/{task}", zelda))[0] == 204
    for board in (shared, own):
        assert (await api.call("DELETE", f"/api/v1/boards/{board}", zelda))[0] == 204

    status, reply = await api.call("POST", "/api/v1/users/me/delete", zelda, json={"current_password": PASSWORD})

    assert status == 204, reply
    store = app.extensions["taskwire"].store
    assert await store.get_trashed_board(own) is None  # Zelda alone owned it: purged with her account
    assert [entry["id"] for entry in await trash_of(api, olga)] == [shared]
    status, restored = await api.call("POST", f"/api/v1/boards/trash/{shared}/restore", olga)
    assert status == 200, restored
    status, members = await api.call("GET", f"/api/v1/boards/{shared}/members", olga)
    assert [(m["user_id"], m["role"]) for m in members["items"]] == [(olga.id, "owner")]
    # The board kept in the trash is scrubbed of Zelda like every board she leaves behind.
    text = await raw_store_text(database_url)
    for trace in (zelda.email, zelda.id):
        assert trace not in text, trace
    status, trash = await api.call("GET", f"/api/v1/boards/{shared}/trash", olga)
    assert [(item["title"], item["deleted_by"]) for item in trash["items"]] == [("Zelda's draft", "deleted-user")]
