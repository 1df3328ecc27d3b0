"""Comments over REST, on both stores: who may read, write, edit and delete; validation;
oldest-first pages; @mentions; and the comment.* events in the board's log and live."""

from __future__ import annotations

import json

import pytest
from quart import Quart

from app.domain.ids import new_id
from tests.support.apiclient import Account, Api


async def comment(api: Api, account: Account, task_id: str, body: str = "Looks good") -> dict:
    status, created = await api.call("POST", f"/api/v1/tasks/{task_id}/comments", account, json={"body": body})
    assert status == 201, created
    return created


async def events(api: Api, account: Account, board_id: str, after: int = 0) -> list[dict]:
    return (await api.call("GET", f"/api/v1/boards/{board_id}/events?after={after}", account))[1]["items"]


async def test_a_comment_is_created_listed_edited_and_deleted_with_an_event_each(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(owner, board)
    seq = (await api.call("GET", f"/api/v1/boards/{board}", owner))[1]["seq"]

    created = await comment(api, owner, task["id"], "First!")
    assert set(created) == {"id", "board_id", "task_id", "author_id", "body", "mentions", "created_at", "updated_at"}
    assert (created["task_id"], created["board_id"], created["author_id"], created["body"]) == (
        task["id"],
        board,
        owner.id,
        "First!",
    )
    listed = (await api.call("GET", f"/api/v1/tasks/{task['id']}/comments", owner))[1]
    assert listed == {"items": [created], "next_cursor": None}

    status, edited = await api.call("PATCH", f"/api/v1/comments/{created['id']}", owner, json={"body": "Second"})
    assert status == 200 and edited["body"] == "Second" and edited["updated_at"] >= created["updated_at"]
    assert edited["created_at"] == created["created_at"]
    assert (await api.call("DELETE", f"/api/v1/comments/{created['id']}", owner))[0] == 204
    assert (await api.call("GET", f"/api/v1/tasks/{task['id']}/comments", owner))[1]["items"] == []

    logged = await events(api, owner, board, seq)
    assert [(event["type"], event["seq"]) for event in logged] == [
        ("comment.created", seq + 1),
        ("comment.updated", seq + 2),
        ("comment.deleted", seq + 3),
    ]
    assert [event["data"] for event in logged] == [created, edited, edited]
    assert all(event["actor"] == owner.id for event in logged)


async def test_comments_page_oldest_first(api: Api) -> None:
    owner = await api.register()
    task = await api.task(owner, owner.personal_board)
    made = [await comment(api, owner, task["id"], f"c{number}") for number in range(5)]

    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = await api.call("GET", f"/api/v1/tasks/{task['id']}/comments{query}", owner)
        assert status == 200 and len(page["items"]) <= 2
        seen += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == made


async def _world(api: Api) -> tuple[dict[str, Account | None], str, dict]:
    owner = await api.register("owner")
    board = (await api.board(owner))["id"]
    accounts: dict[str, Account | None] = {"owner": owner, "anonymous": None}
    for role in ("admin", "editor", "viewer"):
        accounts[role] = await api.register(role)
        await api.add_member(owner, board, accounts[role], role)  # type: ignore[arg-type]
    accounts["stranger"] = await api.register("stranger")
    return accounts, board, await api.task(owner, board)


async def test_viewers_read_editors_and_up_comment_strangers_learn_nothing(api: Api) -> None:
    accounts, _, task = await _world(api)
    path = f"/api/v1/tasks/{task['id']}/comments"
    reads, writes = {}, {}
    for role, account in accounts.items():
        reads[role] = (await api.call("GET", path, account))[0]
        writes[role] = (await api.call("POST", path, account, json={"body": f"from {role}"}))[0]
    assert reads == {"owner": 200, "admin": 200, "editor": 200, "viewer": 200, "stranger": 404, "anonymous": 401}
    assert writes == {"owner": 201, "admin": 201, "editor": 201, "viewer": 403, "stranger": 404, "anonymous": 401}
    missing = await api.call("GET", f"/api/v1/tasks/{new_id()}/comments", accounts["stranger"])
    assert missing == await api.call("GET", path, accounts["stranger"])


async def test_only_the_author_edits_a_comment(api: Api) -> None:
    accounts, board, task = await _world(api)
    author = await api.register("author")
    await api.add_member(accounts["owner"], board, author, "editor")  # type: ignore[arg-type]
    created = await comment(api, author, task["id"])
    path = f"/api/v1/comments/{created['id']}"
    seen = {
        role: (await api.call("PATCH", path, account, json={"body": "mine now"}))[0]
        for role, account in accounts.items()
    }
    assert seen == {"owner": 403, "admin": 403, "editor": 403, "viewer": 403, "stranger": 404, "anonymous": 401}
    status, edited = await api.call("PATCH", path, author, json={"body": "still mine"})
    assert status == 200 and edited["body"] == "still mine"


@pytest.mark.parametrize(
    "role,expected",
    [
        ("owner", 204),
        ("admin", 204),
        ("editor", 403),
        ("viewer", 403),
        ("stranger", 404),
        ("anonymous", 401),
        ("author", 204),
    ],
)
async def test_the_author_or_an_admin_deletes_a_comment(api: Api, role: str, expected: int) -> None:
    accounts, board, task = await _world(api)
    author = await api.register("author")
    await api.add_member(accounts["owner"], board, author, "editor")  # type: ignore[arg-type]
    created = await comment(api, author, task["id"])
    account = author if role == "author" else accounts[role]

    status, _ = await api.call("DELETE", f"/api/v1/comments/{created['id']}", account)

    assert status == expected
    remaining = (await api.call("GET", f"/api/v1/tasks/{task['id']}/comments", author))[1]["items"]
    assert remaining == ([] if expected == 204 else [created])


async def test_an_author_who_left_the_board_can_no_longer_touch_their_comment(api: Api) -> None:
    owner, author = await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, author, "editor")
    created = await comment(api, author, (await api.task(owner, board))["id"])
    assert (await api.call("DELETE", f"/api/v1/boards/{board}/members/{author.id}", owner))[0] == 204

    for method, body in [("PATCH", {"body": "x"}), ("DELETE", None)]:
        status, refused = await api.call(method, f"/api/v1/comments/{created['id']}", author, json=body)
        assert (status, refused["error"]["code"]) == (404, "comment_not_found")


async def test_invalid_comment_requests_get_stable_4xx_codes(api: Api) -> None:
    owner = await api.register()
    task = await api.task(owner, owner.personal_board)
    path = f"/api/v1/tasks/{task['id']}/comments"
    for body in [
        {"body": ""},
        {"body": "   \n"},
        {"body": "x" * 10001},
        {},
        {"body": None},
        {"body": 7},
        {"body": {"$ne": ""}},
        {"body": "ok", "author_id": owner.id},
    ]:
        status, refused = await api.call("POST", path, owner, json=body)
        assert (status, refused["error"]["code"]) == (422, "validation_error"), body
    assert (await api.call("POST", path, owner, json={"body": "x" * 10000}))[0] == 201
    status, refused = await api.call("POST", f"/api/v1/tasks/{new_id()}/comments", owner, json={"body": "hi"})
    assert (status, refused["error"]["code"]) == (404, "task_not_found")
    for method, body in [("PATCH", {"body": "hi"}), ("DELETE", None)]:
        status, refused = await api.call(method, f"/api/v1/comments/{new_id()}", owner, json=body)
        assert (status, refused["error"]["code"]) == (404, "comment_not_found")
    status, refused = await api.call("GET", f"{path}?cursor=garbage", owner)
    assert (status, refused["error"]["code"]) == (400, "invalid_cursor")
    for query in ("limit=0", "limit=201", "limit=x"):
        assert (await api.call("GET", f"{path}?{query}", owner))[0] == 422


async def test_a_deleted_tasks_comments_go_with_it(api: Api) -> None:
    owner = await api.register()
    task = await api.task(owner, owner.personal_board)
    created = await comment(api, owner, task["id"])

    assert (await api.call("DELETE", f"/api/v1/tasks/{task['id']}", owner))[0] == 204

    assert (await api.call("GET", f"/api/v1/tasks/{task['id']}/comments", owner))[0] == 404
    assert (await api.call("PATCH", f"/api/v1/comments/{created['id']}", owner, json={"body": "x"}))[0] == 404


async def test_mentions_of_members_by_email_or_name_are_recorded_in_the_event(api: Api) -> None:
    owner = await api.register("Owner")
    ada = await api.register("Ada", "ada.mention@example.test")
    ada_l = await api.register("Ada Lovelace", "lovelace.mention@example.test")
    outsider = await api.register("Grace")
    board = (await api.board(owner))["id"]
    for member in (ada, ada_l):
        await api.add_member(owner, board, member, "editor")
    task = await api.task(owner, board)
    seq = (await api.call("GET", f"/api/v1/boards/{board}", owner))[1]["seq"]

    created = await comment(
        api,
        owner,
        task["id"],
        f"@ada lovelace and @ADA.MENTION@EXAMPLE.TEST, not @Grace or @Adam or x@Ada; @{ada.name}.",
    )

    assert created["mentions"] == [ada_l.id, ada.id]
    assert outsider.id not in created["mentions"]
    logged = await events(api, owner, board, seq)
    assert logged[0]["data"]["mentions"] == [ada_l.id, ada.id]
    status, edited = await api.call("PATCH", f"/api/v1/comments/{created['id']}", owner, json={"body": "no one"})
    assert (
        status == 200
        and edited["mentions"] == []
        and (await events(api, owner, board, seq + 1))[0]["data"]["mentions"] == []
    )


async def test_comment_events_reach_subscribers_live(app: Quart, api: Api) -> None:
    owner = await api.register()
    board = owner.personal_board
    task = await api.task(owner, board)

    async with app.test_client().websocket("/api/v1/ws") as socket:
        await socket.send(json.dumps({"type": "auth", "token": owner.access_token}))
        await socket.send(json.dumps({"type": "subscribe", "board": board, "since": None, "id": "s"}))
        messages: list[dict] = []
        while not any(message["type"] == "subscribed" for message in messages):
            messages += [json.loads(line) for line in (await socket.receive()).split("\n")]
        created = await comment(api, owner, task["id"], "live")
        while not any(message.get("event") == "comment.created" for message in messages):
            messages += [json.loads(line) for line in (await socket.receive()).split("\n")]
    event = next(message for message in messages if message.get("event") == "comment.created")
    assert (event["board"], event["actor"], event["data"]) == (board, owner.id, created)


async def test_a_tasks_history_is_its_own_events_and_outlives_the_task(api: Api) -> None:
    owner = await api.register()
    stranger = await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(owner, board, "Mine")
    other = await api.task(owner, board, "Not mine")
    await comment(api, owner, task["id"], "On mine")
    await comment(api, owner, other["id"], "On the other")
    status, moved = await api.call("POST", f"/api/v1/tasks/{task['id']}/move", owner, json={"status": "done"})
    assert status == 200, moved
    assert (await api.call("DELETE", f"/api/v1/tasks/{task['id']}", owner))[0] == 204

    path = f"/api/v1/boards/{board}/events?task_id={task['id']}"
    status, history = await api.call("GET", path, owner)
    assert status == 200
    assert [event["type"] for event in history["items"]] == [
        "task.created",
        "comment.created",
        "task.moved",
        "task.deleted",
    ]
    assert history["latest_seq"] == (await api.call("GET", f"/api/v1/boards/{board}", owner))[1]["seq"]
    status, page = await api.call("GET", f"{path}&after={history['items'][1]['seq']}&limit=1", owner)
    assert [event["type"] for event in page["items"]] == ["task.moved"]
    assert (await api.call("GET", path, stranger))[0] == 404
    for bad in ("x y", "a" * 65, ""):
        status, refused = await api.call("GET", f"/api/v1/boards/{board}/events?task_id={bad}", owner)
        assert (status, refused["error"]["code"]) == (422, "validation_error"), bad


async def test_a_boards_task_list_counts_each_tasks_comments(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(owner, board, "Talked about")
    await api.task(owner, board, "Quiet")
    await comment(api, owner, task["id"])
    removed = await comment(api, owner, task["id"])
    await comment(api, owner, task["id"])
    assert (await api.call("DELETE", f"/api/v1/comments/{removed['id']}", owner))[0] == 204

    listed = (await api.call("GET", f"/api/v1/boards/{board}/tasks", owner))[1]
    titles = {item["id"]: item["title"] for item in listed["items"]}
    assert {titles[id_]: count for id_, count in listed["comment_counts"].items()} == {"Talked about": 2, "Quiet": 0}
    # The task itself is unchanged: the same object as GET /tasks/{id} and the events give.
    assert [item for item in listed["items"] if item["id"] == task["id"]] == [
        (await api.call("GET", f"/api/v1/tasks/{task['id']}", owner))[1]
    ]
