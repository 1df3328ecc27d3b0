"""Personal API tokens over REST and WebSocket, on both stores: shown once, scoped, limited
to boards (404 elsewhere, as for a non-member), revoked at once, managed only from a session."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from quart import Quart

from app.domain.clock import format_time
from app.domain.ids import new_id
from app.domain.models import ApiToken
from app.services.tokens import hash_api_token
from tests.support.apiclient import PASSWORD, Account, Api


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def mint(api: Api, account: Account, scopes: list[str] | None = None, **fields: object) -> dict:
    status, body = await api.call(
        "POST", "/api/v1/tokens", account, json={"name": "CI", "scopes": scopes or ["read"], **fields}
    )
    assert status == 201, body
    return body


async def as_token(api: Api, method: str, path: str, token: str, json: object = None) -> tuple[int, dict]:
    return await api.call(method, path, headers=bearer(token), json=json)


async def test_a_new_token_is_shown_once_and_listed_without_its_secret(api: Api) -> None:
    owner = await api.register()
    created = await mint(api, owner, ["read", "write"], expires_at="2999-01-01T00:00:00Z")

    assert created["token"].startswith("twp_") and len(created["token"]) > 40
    assert created["prefix"] == created["token"][:12]
    assert created["scopes"] == ["read", "write"] and created["boards"] is None
    assert created["expires_at"] == "2999-01-01T00:00:00.000000Z" and created["last_used_at"] is None
    status, listed = await api.call("GET", "/api/v1/tokens", owner)
    assert status == 200
    assert listed["items"] == [{key: value for key, value in created.items() if key != "token"}]
    assert created["token"] not in json.dumps(listed)


async def test_only_the_hash_of_a_token_is_stored(app: Quart, api: Api) -> None:
    owner = await api.register()
    created = await mint(api, owner)
    store = app.extensions["taskwire"].store

    stored = await store.get_api_token_by_hash(hash_api_token(created["token"]))

    assert stored is not None and stored.id == created["id"]
    assert created["token"] not in repr(stored)


async def test_a_token_works_wherever_an_access_token_does(api: Api) -> None:
    owner = await api.register()
    token = (await mint(api, owner))["token"]

    status, me = await as_token(api, "GET", "/api/v1/users/me", token)
    assert status == 200 and me["id"] == owner.id
    status, boards = await as_token(api, "GET", "/api/v1/boards", token)
    assert status == 200 and [board["id"] for board in boards["items"]] == [owner.personal_board]


async def test_a_read_token_may_only_read(api: Api) -> None:
    owner = await api.register()
    task = await api.task(owner, owner.personal_board)
    token = (await mint(api, owner, ["read"]))["token"]

    assert (await as_token(api, "GET", f"/api/v1/tasks/{task['id']}", token))[0] == 200
    for method, path, body in [
        ("POST", f"/api/v1/boards/{owner.personal_board}/tasks", {"title": "No"}),
        ("PATCH", f"/api/v1/tasks/{task['id']}", {"title": "No", "version": 1}),
        ("DELETE", f"/api/v1/tasks/{task['id']}", None),
        ("POST", "/api/v1/boards", {"name": "No"}),
        ("PATCH", "/api/v1/users/me", {"name": "No"}),
    ]:
        status, refused = await as_token(api, method, path, token, body)
        assert (status, refused["error"]["code"]) == (403, "insufficient_scope"), (method, path)
    assert (await api.call("GET", f"/api/v1/tasks/{task['id']}", owner))[1] == task


async def test_a_write_token_may_write(api: Api) -> None:
    owner = await api.register()
    token = (await mint(api, owner, ["write"]))["token"]

    status, task = await as_token(api, "POST", f"/api/v1/boards/{owner.personal_board}/tasks", token, {"title": "Yes"})

    assert status == 201 and task["created_by"] == owner.id
    assert (await api.call("GET", "/api/v1/tokens", owner))[1]["items"][0]["scopes"] == ["read", "write"]


async def test_a_board_limited_token_sees_other_boards_as_a_stranger_would(api: Api) -> None:
    owner, stranger = await api.register(), await api.register()
    allowed, other = (await api.board(owner, "Allowed"))["id"], (await api.board(owner, "Other"))["id"]
    other_task = await api.task(owner, other)
    token = (await mint(api, owner, ["read", "write"], boards=[allowed]))["token"]

    status, boards = await as_token(api, "GET", "/api/v1/boards", token)
    assert status == 200 and [board["id"] for board in boards["items"]] == [allowed]
    assert (await as_token(api, "GET", f"/api/v1/boards/{allowed}", token))[0] == 200
    assert (await as_token(api, "POST", f"/api/v1/boards/{allowed}/tasks", token, {"title": "ok"}))[0] == 201
    for method, path, body in [
        ("GET", f"/api/v1/boards/{other}", None),
        ("GET", f"/api/v1/boards/{other}/tasks", None),
        ("GET", f"/api/v1/boards/{other}/events", None),
        ("GET", f"/api/v1/boards/{other}/members", None),
        ("POST", f"/api/v1/boards/{other}/tasks", {"title": "no"}),
        ("GET", f"/api/v1/tasks/{other_task['id']}", None),
        ("GET", f"/api/v1/tasks/{other_task['id']}/comments", None),
    ]:
        limited = await as_token(api, method, path, token, body)
        as_stranger = await api.call(method, path, stranger, json=body)
        assert limited[0] == 404 and limited == as_stranger, (method, path)


async def test_a_board_limited_token_pages_through_its_boards_only(api: Api) -> None:
    owner = await api.register()
    boards = sorted([(await api.board(owner, f"B{n}"))["id"] for n in range(3)])
    token = (await mint(api, owner, boards=[boards[0], boards[2], owner.personal_board]))["token"]
    wanted = sorted([boards[0], boards[2], owner.personal_board])

    seen, cursor = [], None
    while True:
        query = "?limit=1" + (f"&cursor={cursor}" if cursor else "")
        status, page = await as_token(api, "GET", f"/api/v1/boards{query}", token)
        assert status == 200
        seen += [board["id"] for board in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == wanted


async def test_a_token_for_a_board_the_user_left_no_longer_reaches_it(api: Api) -> None:
    owner, member = await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, member, "editor")
    token = (await mint(api, member, boards=[board]))["token"]
    assert (await as_token(api, "GET", f"/api/v1/boards/{board}", token))[0] == 200

    assert (await api.call("DELETE", f"/api/v1/boards/{board}/members/{member.id}", owner))[0] == 204

    assert (await as_token(api, "GET", f"/api/v1/boards/{board}", token))[0] == 404


async def test_a_deleted_token_stops_working_at_once(api: Api) -> None:
    owner = await api.register()
    created = await mint(api, owner)
    assert (await as_token(api, "GET", "/api/v1/users/me", created["token"]))[0] == 200

    assert (await api.call("DELETE", f"/api/v1/tokens/{created['id']}", owner))[0] == 204

    status, body = await as_token(api, "GET", "/api/v1/users/me", created["token"])
    assert (status, body["error"]["code"]) == (401, "invalid_token")
    assert (await api.call("GET", "/api/v1/tokens", owner))[1]["items"] == []
    assert (await api.call("DELETE", f"/api/v1/tokens/{created['id']}", owner))[0] == 404


async def test_nobody_else_can_see_or_delete_your_token(api: Api) -> None:
    owner, other = await api.register(), await api.register()
    created = await mint(api, owner)

    assert (await api.call("GET", "/api/v1/tokens", other))[1]["items"] == []
    status, body = await api.call("DELETE", f"/api/v1/tokens/{created['id']}", other)
    assert (status, body["error"]["code"]) == (404, "token_not_found")
    assert (await as_token(api, "GET", "/api/v1/users/me", created["token"]))[0] == 200


async def test_an_expired_token_is_refused(app: Quart, api: Api) -> None:
    owner = await api.register()
    secret = "twp_" + new_id()
    past = format_time(datetime.now(UTC) - timedelta(seconds=1))
    await app.extensions["taskwire"].store.create_api_token(
        ApiToken(
            id=new_id(),
            user_id=owner.id,
            name="old",
            token_hash=hash_api_token(secret),
            prefix=secret[:12],
            scopes=["read"],
            board_ids=None,
            created_at=past,
            expires_at=past,
        )
    )

    status, body = await as_token(api, "GET", "/api/v1/users/me", secret)

    assert (status, body["error"]["code"]) == (401, "token_expired")


@pytest.mark.parametrize("token", ["twp_", "twp_not-a-real-token", "twp_" + "x" * 500])
async def test_an_unknown_token_is_refused(api: Api, token: str) -> None:
    status, body = await as_token(api, "GET", "/api/v1/boards", token)
    assert (status, body["error"]["code"]) == (401, "invalid_token")


async def test_tokens_are_managed_only_from_a_session(api: Api) -> None:
    owner = await api.register()
    created = await mint(api, owner, ["read", "write"])
    token = created["token"]

    for method, path, body in [
        ("POST", "/api/v1/tokens", {"name": "child", "scopes": ["read", "write"]}),
        ("GET", "/api/v1/tokens", None),
        ("DELETE", f"/api/v1/tokens/{created['id']}", None),
    ]:
        status, refused = await as_token(api, method, path, token, body)
        assert (status, refused["error"]["code"]) == (403, "session_required"), (method, path)
    assert len((await api.call("GET", "/api/v1/tokens", owner))[1]["items"]) == 1


async def test_token_endpoints_need_authentication(api: Api) -> None:
    for method, path in [
        ("POST", "/api/v1/tokens"),
        ("GET", "/api/v1/tokens"),
        ("DELETE", f"/api/v1/tokens/{new_id()}"),
    ]:
        status, body = await api.call(method, path, json={"name": "x", "scopes": ["read"]})
        assert (status, body["error"]["code"]) == (401, "unauthorized")


async def test_invalid_token_requests_are_refused_with_stable_codes(api: Api) -> None:
    owner, other = await api.register(), await api.register()
    foreign_board = (await api.board(other))["id"]
    cases = [
        ({"name": "x", "scopes": ["admin"]}, "validation_error"),
        ({"name": "x", "scopes": []}, "validation_error"),
        ({"name": "x", "scopes": ["read", "read"]}, "validation_error"),
        ({"name": "", "scopes": ["read"]}, "validation_error"),
        ({"name": "x" * 101, "scopes": ["read"]}, "validation_error"),
        ({"scopes": ["read"]}, "validation_error"),
        ({"name": "x", "scopes": ["read"], "boards": []}, "validation_error"),
        ({"name": "x", "scopes": ["read"], "boards": [{"$ne": ""}]}, "validation_error"),
        ({"name": "x", "scopes": ["read"], "expires_at": "soon"}, "validation_error"),
        ({"name": "x", "scopes": ["read"], "secret": "mine"}, "validation_error"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, "invalid_expires_at"),
        ({"name": "x", "scopes": ["read"], "boards": [foreign_board]}, "invalid_boards"),
        ({"name": "x", "scopes": ["read"], "boards": [new_id()]}, "invalid_boards"),
    ]
    for body, code in cases:
        status, refused = await api.call("POST", "/api/v1/tokens", owner, json=body)
        assert (status, refused["error"]["code"]) == (422, code), body
    assert (await api.call("GET", "/api/v1/tokens", owner))[1]["items"] == []


async def test_an_account_has_a_bounded_number_of_tokens(api: Api) -> None:
    from app.services.tokens import MAX_TOKENS_PER_USER

    owner = await api.register()
    for _ in range(MAX_TOKENS_PER_USER):
        await mint(api, owner)
    status, body = await api.call("POST", "/api/v1/tokens", owner, json={"name": "one more", "scopes": ["read"]})
    assert (status, body["error"]["code"]) == (422, "too_many_tokens")


async def test_last_use_is_recorded_at_most_once_a_minute(api: Api) -> None:
    owner = await api.register()
    token = (await mint(api, owner))["token"]

    await as_token(api, "GET", "/api/v1/users/me", token)
    first = (await api.call("GET", "/api/v1/tokens", owner))[1]["items"][0]["last_used_at"]
    await as_token(api, "GET", "/api/v1/users/me", token)
    second = (await api.call("GET", "/api/v1/tokens", owner))[1]["items"][0]["last_used_at"]

    assert first is not None and second == first


async def test_logging_out_with_a_token_ends_no_session(api: Api) -> None:
    owner = await api.register()
    token = (await mint(api, owner))["token"]

    assert (await as_token(api, "POST", "/api/v1/auth/logout", token, {}))[0] == 204

    assert (await as_token(api, "GET", "/api/v1/users/me", token))[0] == 200
    assert (await api.call("GET", "/api/v1/users/me", owner))[0] == 200


async def _next_message(socket: object, kind: str) -> dict:
    """Read frames (several messages may share one, newline-separated) until ``kind``."""
    while True:
        frame = await socket.receive()  # type: ignore[attr-defined]
        for line in frame.split("\n"):
            message = json.loads(line)
            if message["type"] in (kind, "error"):
                return message


async def test_a_token_authenticates_a_websocket_and_its_board_limit_holds_there(app: Quart, api: Api) -> None:
    owner = await api.register()
    allowed, other = (await api.board(owner, "Allowed"))["id"], (await api.board(owner, "Other"))["id"]
    token = (await mint(api, owner, boards=[allowed]))["token"]

    async with app.test_client().websocket("/api/v1/ws") as socket:
        await socket.send(json.dumps({"type": "auth", "token": token}))
        ready = await _next_message(socket, "ready")
        assert ready["type"] == "ready" and ready["user"]["id"] == owner.id
        await socket.send(json.dumps({"type": "subscribe", "board": allowed, "since": None, "id": "a"}))
        assert (await _next_message(socket, "subscribed"))["type"] == "subscribed"
        await socket.send(json.dumps({"type": "subscribe", "board": other, "since": None, "id": "b"}))
        refused = await _next_message(socket, "subscribed")
        assert (refused["type"], refused["code"], refused["id"]) == ("error", "not_found", "b")


async def test_a_write_token_may_rename_but_never_change_the_password(api: Api) -> None:
    owner = await api.register()
    token = (await mint(api, owner, ["read", "write"]))["token"]

    status, refused = await as_token(api, "PATCH", "/api/v1/users/me", token, {"password": "a whole new passphrase"})
    assert (status, refused["error"]["code"]) == (403, "session_required")
    status, renamed = await as_token(api, "PATCH", "/api/v1/users/me", token, {"name": "Renamed"})
    assert status == 200 and renamed["name"] == "Renamed"
    assert (await api.call("POST", "/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD}))[0] == 200
