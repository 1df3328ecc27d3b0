"""The permission matrix: every board endpoint x every role, plus a non-member and no token.

A non-member always gets 404 (a board's existence is not revealed); a member without the
needed role gets 403; no token gets 401. A commenter reads and comments, and is refused
every task write like a viewer.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support.apiclient import Account, Api

ROLES = ["owner", "admin", "editor", "commenter", "viewer", "stranger", "anonymous"]


@dataclass
class World:
    board: str
    task: dict
    trashed: dict
    accounts: dict[str, Account | None]
    extra_member: Account
    newcomer: Account


async def make_world(api: Api) -> World:
    owner = await api.register("owner")
    board = (await api.board(owner))["id"]
    accounts: dict[str, Account | None] = {"owner": owner, "anonymous": None}
    for role in ("admin", "editor", "commenter", "viewer"):
        accounts[role] = await api.register(role)
        await api.add_member(owner, board, accounts[role], role)
    accounts["stranger"] = await api.register("stranger")
    extra = await api.register("extra")
    await api.add_member(owner, board, extra, "editor")
    task = await api.task(owner, board)
    trashed = await api.task(owner, board, "Deleted")
    status, _ = await api.call("DELETE", f"/api/v1/tasks/{trashed['id']}", owner)
    assert status == 204
    return World(board, task, trashed, accounts, extra, await api.register("newcomer"))


def _request(world: World, endpoint: str) -> tuple[str, str, dict | None]:
    board, task = world.board, world.task
    return {
        "get_board": ("GET", f"/api/v1/boards/{board}", None),
        "patch_board": ("PATCH", f"/api/v1/boards/{board}", {"name": "Renamed"}),
        "delete_board": ("DELETE", f"/api/v1/boards/{board}", None),
        "list_members": ("GET", f"/api/v1/boards/{board}/members", None),
        "add_member": ("POST", f"/api/v1/boards/{board}/members", {"email": world.newcomer.email, "role": "editor"}),
        "change_role": ("PATCH", f"/api/v1/boards/{board}/members/{world.extra_member.id}", {"role": "viewer"}),
        "remove_member": ("DELETE", f"/api/v1/boards/{board}/members/{world.extra_member.id}", None),
        "list_tasks": ("GET", f"/api/v1/boards/{board}/tasks", None),
        "create_task": ("POST", f"/api/v1/boards/{board}/tasks", {"title": "New"}),
        "get_task": ("GET", f"/api/v1/tasks/{task['id']}", None),
        "patch_task": ("PATCH", f"/api/v1/tasks/{task['id']}", {"title": "Edited", "version": task["version"]}),
        "move_task": ("POST", f"/api/v1/tasks/{task['id']}/move", {"status": "done"}),
        "delete_task": ("DELETE", f"/api/v1/tasks/{task['id']}", None),
        "list_events": ("GET", f"/api/v1/boards/{board}/events", None),
        "archive_task": ("POST", f"/api/v1/tasks/{task['id']}/archive", {}),
        "unarchive_task": ("POST", f"/api/v1/tasks/{task['id']}/unarchive", {}),
        "list_comments": ("GET", f"/api/v1/tasks/{task['id']}/comments", None),
        "create_comment": ("POST", f"/api/v1/tasks/{task['id']}/comments", {"body": "Looks right"}),
        "list_trash": ("GET", f"/api/v1/boards/{board}/trash", None),
        "restore_task": ("POST", f"/api/v1/boards/{board}/trash/{world.trashed['id']}/restore", None),
        "delete_forever": ("DELETE", f"/api/v1/boards/{board}/trash/{world.trashed['id']}", None),
        "archive_board": ("POST", f"/api/v1/boards/{board}/archive", None),
        "unarchive_board": ("POST", f"/api/v1/boards/{board}/unarchive", None),
        "create_invitation": ("POST", f"/api/v1/boards/{board}/invitations", {"email": "new@example.test"}),
        "list_invitations": ("GET", f"/api/v1/boards/{board}/invitations", None),
    }[endpoint]


READ = {"owner": 200, "admin": 200, "editor": 200, "commenter": 200, "viewer": 200, "stranger": 404, "anonymous": 401}
ADMINS = {"owner": 200, "admin": 200, "editor": 403, "commenter": 403, "viewer": 403, "stranger": 404, "anonymous": 401}
EDITORS = {**ADMINS, "editor": 200}
MATRIX = {
    "get_board": READ,
    "patch_board": ADMINS,
    "delete_board": {**ADMINS, "owner": 204, "admin": 403},
    "list_members": READ,
    "add_member": {**ADMINS, "owner": 201, "admin": 201},
    "change_role": ADMINS,
    "remove_member": {**ADMINS, "owner": 204, "admin": 204},
    "list_tasks": READ,
    "create_task": {**EDITORS, "owner": 201, "admin": 201, "editor": 201},
    "get_task": READ,
    "patch_task": EDITORS,
    "move_task": EDITORS,
    "delete_task": {**EDITORS, "owner": 204, "admin": 204, "editor": 204},
    "list_events": READ,
    "archive_task": EDITORS,
    "unarchive_task": EDITORS,
    "list_comments": READ,
    "create_comment": {**READ, "owner": 201, "admin": 201, "editor": 201, "commenter": 201, "viewer": 403},
    "list_trash": READ,
    "restore_task": EDITORS,
    "delete_forever": {**ADMINS, "owner": 204, "admin": 204},
    "archive_board": ADMINS,
    "unarchive_board": ADMINS,
    "create_invitation": {**ADMINS, "owner": 201, "admin": 201},
    "list_invitations": ADMINS,
}


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
async def test_every_endpoint_answers_each_role_as_the_matrix_says(api: Api, endpoint: str) -> None:
    world = await make_world(api)
    seen = {}
    for role in ROLES:
        method, path, body = _request(world, endpoint)
        status, _ = await api.call(method, path, world.accounts[role], json=body)
        seen[role] = status
        if status in (200, 201, 204) and method != "GET":
            world = await make_world(api)  # a successful write changes the world; start afresh
    assert seen == MATRIX[endpoint]


async def test_a_stranger_learns_nothing_about_a_board(api: Api) -> None:
    world = await make_world(api)
    stranger = world.accounts["stranger"]
    missing = await api.call("GET", "/api/v1/boards/01NOSUCHBOARD0000000000000", stranger)
    existing = await api.call("GET", f"/api/v1/boards/{world.board}", stranger)
    assert missing == existing
