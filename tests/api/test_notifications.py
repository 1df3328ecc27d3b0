"""Notifications over REST, on both stores: who is notified of what (and never of their own
doing), the list newest first with its unread count, marking read, and that nobody sees or
marks another's; API tokens read them, need write to mark them, and see only their boards."""

from __future__ import annotations

from typing import Any

from app.domain.ids import new_id
from tests.api.test_api_tokens import as_token, mint
from tests.support.apiclient import Account, Api

PATH = "/api/v1/notifications"


async def notifications(api: Api, account: Account, query: str = "") -> dict[str, Any]:
    status, body = await api.call("GET", PATH + query, account)
    assert status == 200, body
    return body


async def shared_board(api: Api, *members: Account, owner: Account) -> str:
    board = (await api.board(owner, "Launch"))["id"]
    for member in members:
        await api.add_member(owner, board, member, "editor")
    return board


async def comment(api: Api, account: Account, task_id: str, body: str) -> dict:
    status, created = await api.call("POST", f"/api/v1/tasks/{task_id}/comments", account, json={"body": body})
    assert status == 201, created
    return created


async def test_being_assigned_notifies_the_assignee_with_everything_to_render_it(api: Api) -> None:
    ada, bob = await api.register("Ada"), await api.register("Bob")
    board = await shared_board(api, bob, owner=ada)
    await notifications(api, bob)  # the member.added one is not what this test is about
    await api.call("POST", f"{PATH}/read", bob, json={"all": True})

    task = await api.task(ada, board, "Write the launch post", assignees=[bob.id, ada.id])

    listed = await notifications(api, bob)
    [notice] = [item for item in listed["items"] if item["type"] == "task.assigned"]
    event = (await api.call("GET", f"/api/v1/boards/{board}/events?after=0", ada))[1]["items"][-1]
    assert set(notice) == {
        "id",
        "type",
        "board_id",
        "board_name",
        "task_id",
        "comment_id",
        "actor",
        "at",
        "read_at",
        "seq",
        "data",
    }
    assert notice == {
        "id": notice["id"],
        "type": "task.assigned",
        "board_id": board,
        "board_name": "Launch",
        "task_id": task["id"],
        "comment_id": None,
        "actor": {"id": ada.id, "name": "Ada"},
        "at": event["at"],
        "read_at": None,
        "seq": event["seq"],
        "data": {"task_title": "Write the launch post"},
    }
    assert event["type"] == "task.created" and listed["unread_count"] == 1
    # Assigning yourself tells you nothing.
    assert (await notifications(api, ada))["items"] == []


async def test_only_newly_added_assignees_are_notified_on_an_update(api: Api) -> None:
    ada, bob, cy = await api.register("Ada"), await api.register("Bob"), await api.register("Cy")
    board = await shared_board(api, bob, cy, owner=ada)
    task = await api.task(ada, board, assignees=[bob.id])

    status, updated = await api.call(
        "PATCH",
        f"/api/v1/tasks/{task['id']}",
        ada,
        json={"version": 1, "assignees": [bob.id, cy.id], "title": "Renamed"},
    )
    assert status == 200, updated
    await api.call("PATCH", f"/api/v1/tasks/{task['id']}", ada, json={"version": 2, "assignees": [cy.id]})

    assigned = lambda body: [n["data"]["task_title"] for n in body["items"] if n["type"] == "task.assigned"]  # noqa: E731
    assert assigned(await notifications(api, bob)) == ["Ship it"]
    assert assigned(await notifications(api, cy)) == ["Renamed"]


async def test_a_new_mention_notifies_the_mentioned_member_once(api: Api) -> None:
    ada, bob, cy = await api.register("Ada"), await api.register("Bob"), await api.register("Cy")
    board = await shared_board(api, bob, cy, owner=ada)
    task = await api.task(ada, board, "Budget")

    made = await comment(api, ada, task["id"], "@Bob   can you check\nthis? @Ada")
    status, _ = await api.call("PATCH", f"/api/v1/comments/{made['id']}", ada, json={"body": "@Bob and @Cy, check"})
    assert status == 200

    mentions = lambda body: [n for n in body["items"] if n["type"] == "comment.mentioned"]  # noqa: E731
    [to_bob] = mentions(await notifications(api, bob))
    [to_cy] = mentions(await notifications(api, cy))
    assert (to_bob["task_id"], to_bob["comment_id"], to_bob["data"]) == (
        task["id"],
        made["id"],
        {"task_title": "Budget", "excerpt": "@Bob can you check this? @Ada"},
    )
    assert to_cy["data"]["excerpt"] == "@Bob and @Cy, check"
    assert mentions(await notifications(api, ada)) == []


async def test_being_added_to_a_board_notifies_the_new_member_with_the_role(api: Api) -> None:
    ada, bob = await api.register("Ada"), await api.register("Bob")
    board = (await api.board(ada, "Roadmap"))["id"]

    await api.add_member(ada, board, bob, "viewer")

    [notice] = (await notifications(api, bob))["items"]
    assert (notice["type"], notice["board_id"], notice["board_name"], notice["task_id"], notice["data"]) == (
        "member.added",
        board,
        "Roadmap",
        None,
        {"role": "viewer"},
    )


async def test_the_list_pages_newest_first_and_filters_the_unread(api: Api) -> None:
    ada, bob = await api.register("Ada"), await api.register("Bob")
    board = await shared_board(api, bob, owner=ada)
    for number in range(4):
        await api.task(ada, board, f"t{number}", assignees=[bob.id])

    seen, cursor = [], None
    while True:
        page = await notifications(api, bob, "?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert len(page["items"]) <= 2 and page["unread_count"] == 5
        seen += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    assert [n["type"] for n in seen] == ["task.assigned"] * 4 + ["member.added"]
    assert [n["data"].get("task_title") for n in seen[:4]] == ["t3", "t2", "t1", "t0"]

    await api.call("POST", f"{PATH}/read", bob, json={"ids": [seen[0]["id"], seen[2]["id"]]})
    unread = await notifications(api, bob, "?unread=true")
    assert [n["id"] for n in unread["items"]] == [seen[1]["id"], seen[3]["id"], seen[4]["id"]]
    assert unread["unread_count"] == 3


async def test_marking_read_by_ids_all_up_to_one_or_one_at_a_time(api: Api) -> None:
    ada, bob = await api.register("Ada"), await api.register("Bob")
    board = await shared_board(api, bob, owner=ada)
    for number in range(3):
        await api.task(ada, board, f"t{number}", assignees=[bob.id])
    newest, middle, oldest, added = [n["id"] for n in (await notifications(api, bob))["items"]]

    status, body = await api.call("POST", f"{PATH}/read", bob, json={"ids": [oldest, new_id()]})
    assert (status, body) == (200, {"marked": 1, "unread_count": 3})
    status, body = await api.call("POST", f"{PATH}/read", bob, json={"all": True, "up_to": middle})
    assert (status, body) == (200, {"marked": 2, "unread_count": 1})  # middle and added; newest arrived later

    status, one = await api.call("PATCH", f"{PATH}/{newest}", bob, json={"read": True})
    assert status == 200 and one["id"] == newest and one["read_at"]
    status, again = await api.call("PATCH", f"{PATH}/{newest}", bob, json={"read": True})
    assert again["read_at"] == one["read_at"]  # when it was first read
    status, unread = await api.call("PATCH", f"{PATH}/{newest}", bob, json={"read": False})
    assert status == 200 and unread["read_at"] is None
    status, body = await api.call("POST", f"{PATH}/read", bob, json={"all": True})
    assert (status, body) == (200, {"marked": 1, "unread_count": 0})


async def test_nobody_sees_or_marks_another_users_notifications(api: Api) -> None:
    ada, bob = await api.register("Ada"), await api.register("Bob")
    await shared_board(api, bob, owner=ada)
    [notice] = (await notifications(api, bob))["items"]

    status, body = await api.call("PATCH", f"{PATH}/{notice['id']}", ada, json={"read": True})
    assert (status, body["error"]["code"]) == (404, "notification_not_found")
    status, body = await api.call("POST", f"{PATH}/read", ada, json={"ids": [notice["id"]]})
    assert (status, body) == (200, {"marked": 0, "unread_count": 0})
    assert (await notifications(api, bob))["unread_count"] == 1
    assert (await api.call("GET", PATH))[0] == 401


async def test_api_tokens_read_with_read_mark_with_write_and_see_only_their_boards(api: Api) -> None:
    ada, bob = await api.register("Ada"), await api.register("Bob")
    allowed = await shared_board(api, bob, owner=ada)
    other = await shared_board(api, bob, owner=ada)
    reader = (await mint(api, bob, ["read"]))["token"]
    limited = (await mint(api, bob, ["read", "write"], boards=[allowed]))["token"]

    status, body = await as_token(api, "GET", PATH, reader)
    assert status == 200 and body["unread_count"] == 2
    status, body = await as_token(api, "POST", f"{PATH}/read", reader, {"all": True})
    assert (status, body["error"]["code"]) == (403, "insufficient_scope")

    status, body = await as_token(api, "GET", PATH, limited)
    assert [n["board_id"] for n in body["items"]] == [allowed] and body["unread_count"] == 1
    outside = next(n for n in (await notifications(api, bob))["items"] if n["board_id"] == other)
    status, body = await as_token(api, "PATCH", f"{PATH}/{outside['id']}", limited, {"read": True})
    assert (status, body["error"]["code"]) == (404, "notification_not_found")
    status, body = await as_token(api, "POST", f"{PATH}/read", limited, {"all": True})
    assert body == {"marked": 1, "unread_count": 0}
    assert (await notifications(api, bob))["unread_count"] == 1


async def test_invalid_requests_are_refused_with_stable_codes(api: Api) -> None:
    bob = await api.register("Bob")
    for body in (
        {},
        {"ids": []},
        {"ids": ["a"], "all": True},
        {"all": False},
        {"ids": ["a"], "up_to": "b"},
        {"ids": ["a", "a"]},
        {"all": True, "extra": 1},
        {"ids": ["not an id!"]},
    ):
        status, answer = await api.call("POST", f"{PATH}/read", bob, json=body)
        assert (status, answer["error"]["code"]) == (422, "validation_error"), body
    status, answer = await api.call("PATCH", f"{PATH}/{new_id()}", bob, json={"read": "yes"})
    assert (status, answer["error"]["code"]) == (422, "validation_error")
    status, answer = await api.call("GET", f"{PATH}?cursor=bogus", bob)
    assert (status, answer["error"]["code"]) == (400, "invalid_cursor")
    status, answer = await api.call("GET", f"{PATH}?limit=0", bob)
    assert (status, answer["error"]["code"]) == (422, "validation_error")
