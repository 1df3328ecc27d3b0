"""Boards and members: columns, paging, role rules, the last-owner rule."""

from __future__ import annotations

from tests.support.apiclient import Api


async def test_boards_list_pages_with_a_cursor(api: Api) -> None:
    owner = await api.register()
    created = [(await api.board(owner, f"Board {n}"))["id"] for n in range(5)]
    seen, cursor = [], None
    while True:
        status, page = await api.call("GET", "/api/v1/boards?limit=2" + (f"&cursor={cursor}" if cursor else ""), owner)
        assert status == 200
        seen += [board["id"] for board in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert sorted(seen) == sorted([*created, owner.personal_board])


async def test_columns_are_configurable_and_statuses_must_be_one_of_them(api: Api) -> None:
    owner = await api.register()
    board = await api.board(owner, columns=["backlog", "doing", "shipped"])
    assert board["columns"] == ["backlog", "doing", "shipped"]
    task = await api.task(owner, board["id"])
    assert task["status"] == "backlog"
    status, body = await api.call(
        "POST", f"/api/v1/boards/{board['id']}/tasks", owner, json={"title": "x", "status": "todo"}
    )
    assert status == 422 and body["error"]["code"] == "invalid_status"
    status, body = await api.call("PATCH", f"/api/v1/boards/{board['id']}", owner, json={"columns": ["doing"]})
    assert status == 409 and body["error"]["code"] == "column_not_empty"
    status, body = await api.call(
        "PATCH", f"/api/v1/boards/{board['id']}", owner, json={"columns": ["backlog", "done"], "name": "Renamed"}
    )
    assert status == 200 and body["columns"] == ["backlog", "done"] and body["name"] == "Renamed"
    events = (await api.call("GET", f"/api/v1/boards/{board['id']}/events", owner))[1]["items"]
    assert events[-1]["type"] == "board.updated" and events[-1]["data"]["name"] == "Renamed"


async def test_admins_manage_members_but_never_owners(api: Api) -> None:
    owner, admin, other = await api.register(), await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, admin, "admin")
    status, body = await api.call(
        "POST", f"/api/v1/boards/{board}/members", admin, json={"email": other.email, "role": "owner"}
    )
    assert status == 403
    status, body = await api.call("PATCH", f"/api/v1/boards/{board}/members/{owner.id}", admin, json={"role": "viewer"})
    assert status == 403
    status, body = await api.call("DELETE", f"/api/v1/boards/{board}/members/{owner.id}", admin)
    assert status == 403
    await api.add_member(admin, board, other, "viewer")
    status, members = await api.call("GET", f"/api/v1/boards/{board}/members", other)
    assert {(m["email"], m["role"]) for m in members["items"]} == {
        (owner.email, "owner"),
        (admin.email, "admin"),
        (other.email, "viewer"),
    }
    status, body = await api.call(
        "POST", f"/api/v1/boards/{board}/members", owner, json={"email": other.email, "role": "editor"}
    )
    assert status == 409 and body["error"]["code"] == "already_member"
    status, body = await api.call(
        "POST", f"/api/v1/boards/{board}/members", owner, json={"email": "nobody@example.test", "role": "editor"}
    )
    assert status == 404 and body["error"]["code"] == "user_not_found"


async def test_a_board_always_keeps_an_owner(api: Api) -> None:
    owner, second = await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    status, body = await api.call("PATCH", f"/api/v1/boards/{board}/members/{owner.id}", owner, json={"role": "admin"})
    assert status == 409 and body["error"]["code"] == "last_owner"
    status, body = await api.call("DELETE", f"/api/v1/boards/{board}/members/{owner.id}", owner)
    assert status == 409
    await api.add_member(owner, board, second, "owner")
    assert (await api.call("DELETE", f"/api/v1/boards/{board}/members/{owner.id}", owner))[0] == 204
    assert (await api.call("GET", f"/api/v1/boards/{board}", owner))[0] == 404
    events = (await api.call("GET", f"/api/v1/boards/{board}/events", second))[1]["items"]
    assert [e["type"] for e in events] == ["member.added", "member.removed"]


async def test_deleting_a_board_removes_it_for_everyone(api: Api) -> None:
    owner, member = await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, member, "editor")
    task = await api.task(member, board)
    assert (await api.call("DELETE", f"/api/v1/boards/{board}", owner))[0] == 204
    assert (await api.call("GET", f"/api/v1/boards/{board}", member))[0] == 404
    assert (await api.call("GET", f"/api/v1/tasks/{task['id']}", member))[0] == 404
