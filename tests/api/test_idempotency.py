"""Idempotent POSTs (Idempotency-Key) and client mutation ids, over REST on both stores."""

from __future__ import annotations

import asyncio
import json

import jwt
from quart import Quart
from werkzeug.datastructures import Headers

from app.services.idempotency import credential_scope, request_fingerprint
from tests.support.apiclient import PASSWORD, Account, Api


async def post(
    api: Api, account: Account, path: str, body: object, key: str | None = None, **headers: str
) -> tuple[int, dict, Headers]:
    """A POST with exactly these body bytes (so a test can reproduce its fingerprint)."""
    all_headers = {**account.headers, "Content-Type": "application/json", **headers}
    if key is not None:
        all_headers["Idempotency-Key"] = key
    response = await api.client.post(path, data=json.dumps(body), headers=all_headers)
    text = await response.get_data(as_text=True)
    return response.status_code, (json.loads(text) if text else {}), response.headers


async def task_count(api: Api, account: Account, board_id: str) -> int:
    return (await api.call("GET", f"/api/v1/boards/{board_id}/tasks?include_total=true", account))[1]["total"]


async def log(api: Api, account: Account, board_id: str) -> list[dict]:
    return (await api.call("GET", f"/api/v1/boards/{board_id}/events", account))[1]["items"]


# -- Idempotency-Key ------------------------------------------------------------------------


async def test_a_retried_post_returns_the_first_response_and_writes_once(api: Api) -> None:
    owner = await api.register()
    path = f"/api/v1/boards/{owner.personal_board}/tasks"

    first = await post(api, owner, path, {"title": "Once"}, key="k-1")
    retry = await post(api, owner, path, {"title": "Once"}, key="k-1")

    assert first[0] == retry[0] == 201 and first[1] == retry[1]
    assert retry[2].get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first[2]
    assert retry[2]["Content-Type"] == first[2]["Content-Type"]
    assert await task_count(api, owner, owner.personal_board) == 1
    assert [event["type"] for event in await log(api, owner, owner.personal_board)] == ["task.created"]


async def test_the_same_key_with_another_request_is_refused(api: Api) -> None:
    owner = await api.register()
    path = f"/api/v1/boards/{owner.personal_board}/tasks"
    await post(api, owner, path, {"title": "Once"}, key="k-1")

    for other_path, body in [
        (path, {"title": "Twice"}),
        ("/api/v1/boards", {"title": "Once"}),
        (f"{path}?x=1", {"title": "Once"}),
    ]:
        status, refused, _ = await post(api, owner, other_path, body, key="k-1")
        assert (status, refused["error"]["code"]) == (422, "idempotency_key_reused"), other_path
    assert await task_count(api, owner, owner.personal_board) == 1


async def test_keys_belong_to_one_user(api: Api) -> None:
    ada, grace = await api.register(), await api.register()
    for account in (ada, grace):
        status, _, headers = await post(
            api, account, f"/api/v1/boards/{account.personal_board}/tasks", {"title": "Mine"}, key="shared-key"
        )
        assert status == 201 and "Idempotent-Replayed" not in headers
        assert await task_count(api, account, account.personal_board) == 1


async def test_keys_belong_to_one_session_and_a_replay_rechecks_board_access(api: Api) -> None:
    owner, member = await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, member, "editor")
    path = f"/api/v1/boards/{board}/tasks"
    first = await post(api, member, path, {"title": "Once"}, key="k")
    assert first[0] == 201 and (await post(api, member, path, {"title": "Once"}, key="k"))[2]["Idempotent-Replayed"]

    # Another login session of the same user has keys of its own: the request runs.
    status, session = await api.call("POST", "/api/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    other = Account(member.id, member.email, member.name, session["access_token"], session["refresh_token"])
    status, created, headers = await post(api, other, path, {"title": "Once"}, key="k")
    assert status == 201 and created["id"] != first[1]["id"] and "Idempotent-Replayed" not in headers

    # Removed from the board, the first session no longer gets its stored answer either.
    assert (await api.call("DELETE", f"/api/v1/boards/{board}/members/{member.id}", owner))[0] == 204
    status, refused, _ = await post(api, member, path, {"title": "Once"}, key="k")
    assert (status, refused["error"]["code"]) == (404, "board_not_found")


async def test_a_key_still_in_progress_gets_409(app: Quart, api: Api) -> None:
    owner = await api.register()
    path = f"/api/v1/boards/{owner.personal_board}/tasks"
    body = {"title": "Slow"}
    # Another request with this key and body holds it right now.
    fingerprint = request_fingerprint("POST", path, b"", json.dumps(body).encode())
    scope = credential_scope(owner.id, jwt.decode(owner.access_token, options={"verify_signature": False})["sid"])
    assert await app.extensions["taskwire"].services.idempotency.claim(scope, "busy", fingerprint) is None

    status, refused, headers = await post(api, owner, path, body, key="busy")

    assert (status, refused["error"]["code"]) == (409, "idempotency_in_progress") and headers["Retry-After"] == "1"
    assert await task_count(api, owner, owner.personal_board) == 0


async def test_concurrent_requests_with_one_key_write_once(api: Api) -> None:
    owner = await api.register()
    path = f"/api/v1/boards/{owner.personal_board}/tasks"

    results = await asyncio.gather(*(post(api, owner, path, {"title": "Race"}, key="race") for _ in range(8)))

    fresh = [body for status, body, headers in results if status == 201 and "Idempotent-Replayed" not in headers]
    assert len(fresh) == 1
    for status, body, _ in results:
        assert (status == 201 and body == fresh[0]) or (status, body["error"]["code"]) == (
            409,
            "idempotency_in_progress",
        )
    assert await task_count(api, owner, owner.personal_board) == 1


async def test_a_refused_request_leaves_its_key_free(api: Api) -> None:
    owner = await api.register()
    path = f"/api/v1/boards/{owner.personal_board}/tasks"

    assert (await post(api, owner, path, {"title": ""}, key="k"))[0] == 422
    status, created, _ = await post(api, owner, path, {"title": "Fixed"}, key="k")

    assert status == 201 and created["title"] == "Fixed"


async def test_keys_of_a_bad_length_are_refused(api: Api) -> None:
    owner = await api.register()
    path = f"/api/v1/boards/{owner.personal_board}/tasks"
    for key in ("", "k" * 201, "tab\there"):
        status, refused, _ = await post(api, owner, path, {"title": "x"}, key=key)
        assert (status, refused["error"]["code"]) == (400, "invalid_idempotency_key"), key
    assert (await post(api, owner, path, {"title": "x"}, key="k" * 200))[0] == 201
    assert await task_count(api, owner, owner.personal_board) == 1


async def test_comments_and_other_posts_are_idempotent_too(api: Api) -> None:
    owner = await api.register()
    task = await api.task(owner, owner.personal_board)
    comments = f"/api/v1/tasks/{task['id']}/comments"

    assert (await post(api, owner, comments, {"body": "hi"}, key="c"))[1] == (
        await post(api, owner, comments, {"body": "hi"}, key="c")
    )[1]
    assert (await post(api, owner, "/api/v1/boards", {"name": "B"}, key="b"))[1] == (
        await post(api, owner, "/api/v1/boards", {"name": "B"}, key="b")
    )[1]

    assert len((await api.call("GET", comments, owner))[1]["items"]) == 1
    assert len((await api.call("GET", "/api/v1/boards", owner))[1]["items"]) == 2


async def test_a_retried_token_creation_never_shows_or_mints_a_second_secret(api: Api) -> None:
    owner = await api.register()
    body = {"name": "CI", "scopes": ["read"]}

    status, created, _ = await post(api, owner, "/api/v1/tokens", body, key="t")
    retry_status, refused, _ = await post(api, owner, "/api/v1/tokens", body, key="t")

    assert status == 201 and created["token"].startswith("twp_")
    assert (retry_status, refused["error"]["code"]) == (409, "idempotency_response_withheld")
    assert created["token"] not in json.dumps(refused)
    assert len((await api.call("GET", "/api/v1/tokens", owner))[1]["items"]) == 1


# -- client mutation ids --------------------------------------------------------------------


async def test_a_task_writes_client_mutation_id_is_echoed_in_its_events_only(api: Api) -> None:
    owner = await api.register()
    board = owner.personal_board
    status, task = await api.call(
        "POST", f"/api/v1/boards/{board}/tasks", owner, json={"title": "Echo", "client_mutation_id": "m-1"}
    )
    assert status == 201 and "client_mutation_id" not in task
    task_path = f"/api/v1/tasks/{task['id']}"
    status, _ = await api.call(
        "PATCH", task_path, owner, json={"title": "Edit", "version": 1, "client_mutation_id": "m-2"}
    )
    assert status == 200
    assert (
        await api.call(
            "POST", f"{task_path}/move", owner, json={"status": "done"}, headers={"X-Client-Mutation-Id": "m-3"}
        )
    )[0] == 200
    assert (await api.call("PATCH", task_path, owner, json={"title": "Plain", "version": 3}))[0] == 200
    assert (await api.call("DELETE", task_path, owner, headers={"X-Client-Mutation-Id": "m-5"}))[0] == 204

    events = await log(api, owner, board)
    assert [event.get("client_mutation_id") for event in events] == ["m-1", "m-2", "m-3", None, "m-5"]
    assert "client_mutation_id" not in events[3]
    assert all("client_mutation_id" not in event["data"] for event in events)


async def test_the_body_field_wins_over_the_header(api: Api) -> None:
    owner = await api.register()
    await api.call(
        "POST",
        f"/api/v1/boards/{owner.personal_board}/tasks",
        owner,
        json={"title": "x", "client_mutation_id": "body"},
        headers={"X-Client-Mutation-Id": "header"},
    )
    assert (await log(api, owner, owner.personal_board))[0]["client_mutation_id"] == "body"


async def test_comment_writes_echo_their_client_mutation_id(api: Api) -> None:
    owner = await api.register()
    task = await api.task(owner, owner.personal_board)
    status, created = await api.call(
        "POST", f"/api/v1/tasks/{task['id']}/comments", owner, json={"body": "hi", "client_mutation_id": "c-1"}
    )
    assert status == 201 and "client_mutation_id" not in created
    path = f"/api/v1/comments/{created['id']}"
    await api.call("PATCH", path, owner, json={"body": "edit", "client_mutation_id": "c-2"})
    await api.call("DELETE", path, owner, headers={"X-Client-Mutation-Id": "c-3"})

    assert [event.get("client_mutation_id") for event in await log(api, owner, owner.personal_board)] == [
        None,
        "c-1",
        "c-2",
        "c-3",
    ]


async def test_a_bad_client_mutation_id_is_refused_and_writes_nothing(api: Api) -> None:
    owner = await api.register()
    path = f"/api/v1/boards/{owner.personal_board}/tasks"
    for body, headers in [
        ({"title": "x", "client_mutation_id": ""}, {}),
        ({"title": "x", "client_mutation_id": "m" * 101}, {}),
        ({"title": "x"}, {"X-Client-Mutation-Id": "m" * 101}),
    ]:
        status, refused = await api.call("POST", path, owner, json=body, headers=headers)
        assert (status, refused["error"]["code"]) == (422, "invalid_client_mutation_id"), (body, headers)
    status, refused = await api.call("POST", path, owner, json={"title": "x", "client_mutation_id": 7})
    assert (status, refused["error"]["code"]) == (422, "validation_error")
    assert await log(api, owner, owner.personal_board) == []


async def test_the_live_event_carries_the_client_mutation_id(app: Quart, api: Api) -> None:
    owner = await api.register()
    board = owner.personal_board
    async with app.test_client().websocket("/api/v1/ws") as socket:
        await socket.send(json.dumps({"type": "auth", "token": owner.access_token}))
        await socket.send(json.dumps({"type": "subscribe", "board": board, "since": None, "id": "s"}))
        messages: list[dict] = []
        while not any(message["type"] == "subscribed" for message in messages):
            messages += [json.loads(line) for line in (await socket.receive()).split("\n")]
        await api.call(
            "POST", f"/api/v1/boards/{board}/tasks", owner, json={"title": "x", "client_mutation_id": "ws-1"}
        )
        while not any(message["type"] == "event" for message in messages):
            messages += [json.loads(line) for line in (await socket.receive()).split("\n")]
    event = next(message for message in messages if message["type"] == "event")
    assert (event["event"], event["client_mutation_id"]) == ("task.created", "ws-1")
