"""The permission matrix: every board endpoint x every role, plus a non-member and no token.

A non-member always gets 404 (a board's existence is not revealed); a member without the
needed role gets 403; no token gets 401.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support.apiclient import Account, Api

ROLES = ["owner", "admin", "editor", "viewer", "stranger", "anonymous"]


@dataclass
class World:
    board: str
    task: dict
    accounts: dict[str, Account | None]
    extra_member: Account
    newcomer: Account


async def make_world(api: Api) -> World:
    owner = await api.register("owner")
    board = (await api.board(owner))["id"]
    accounts: dict[str, Account | None] = {"owner": owner, "anonymous": None}
    for role in ("admin", "editor", "viewer"):
        accounts[role] = await api.register(role)
        await api.add_member(owner, board, accounts[role], role)
    accounts["stranger"] = await api.register("stranger")
    extra = await api.register("extra")
    await api.add_member(owner, board, extra, "editor")
    task = await api.task(owner, board)
    return World(board, task, accounts, extra, await api.register("newcomer"))


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
    }[endpoint]


READ = {"owner": 200, "admin": 200, "editor": 200, "viewer": 200, "stranger": 404, "anonymous": 401}
MATRIX = {
    "get_board": READ,
    "patch_board": {"owner": 200, "admin": 200, "editor": 403, "viewer": 403, "stranger": 404, "anonymous": 401},
    "delete_board": {"owner": 204, "admin": 403, "editor": 403, "viewer": 403, "stranger": 404, "anonymous": 401},
    "list_members": READ,
    "add_member": {"owner": 201, "admin": 201, "editor": 403, "viewer": 403, "stranger": 404, "anonymous": 401},
    "change_role": {"owner": 200, "admin": 200, "editor": 403, "viewer": 403, "stranger": 404, "anonymous": 401},
    "remove_member": {"owner": 204, "admin": 204, "editor": 403, "viewer": 403, "stranger": 404, "anonymous": 401},
    "list_tasks": READ,
    "create_task": {"owner": 201, "admin": 201, "editor": 201, "viewer": 403, "stranger": 404, "anonymous": 401},
    "get_task": {**READ, "stranger": 404},
    "patch_task": {"owner": 200, "admin": 200, "editor": 200, "viewer": 403, "stranger": 404, "anonymous": 401},
    "move_task": {"owner": 200, "admin": 200, "editor": 200, "viewer": 403, "stranger": 404, "anonymous": 401},
    "delete_task": {"owner": 204, "admin": 204, "editor": 204, "viewer": 403, "stranger": 404, "anonymous": 401},
    "list_events": READ,
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
