"""The webhook endpoints over REST, on both stores: who may use them, what they show (never
a secret after creation), what they refuse, the delivery log's pages, and redelivery."""

from __future__ import annotations

import pytest

from app.services.webhooks import MAX_WEBHOOKS_PER_BOARD
from tests.integrations.conftest import create_webhook, deliveries
from tests.integrations.receiver import Receiver
from tests.support.apiclient import Account, Api

ALLOWED = {"owner", "admin"}


async def _world(api: Api) -> tuple[dict[str, Account | None], str]:
    owner = await api.register("owner")
    board = (await api.board(owner))["id"]
    accounts: dict[str, Account | None] = {"owner": owner, "anonymous": None}
    for role in ("admin", "editor", "viewer"):
        accounts[role] = await api.register(role)
        await api.add_member(owner, board, accounts[role], role)  # type: ignore[arg-type]
    accounts["stranger"] = await api.register("stranger")
    return accounts, board


async def _delivered(api: Api, owner: Account, board: str, hook: dict, receiver: Receiver, count: int = 1) -> list:
    await receiver.wait_for(lambda: len(receiver.received(hook["id"])) >= count)
    return await deliveries(api, owner, board, hook["id"], at_least=count)


@pytest.mark.parametrize("role", ["owner", "admin", "editor", "viewer", "stranger", "anonymous"])
async def test_only_admins_and_owners_manage_webhooks(api: Api, receiver: Receiver, role: str) -> None:
    accounts, board = await _world(api)
    owner, account = accounts["owner"], accounts[role]
    assert owner is not None
    hook = await create_webhook(api, owner, board, receiver.url)
    await api.task(owner, board)
    delivery = (await _delivered(api, owner, board, hook, receiver))[0]["delivery_id"]
    base = f"/api/v1/boards/{board}/webhooks"
    calls = [
        ("POST", base, {"url": receiver.url}),
        ("GET", base, None),
        ("GET", f"{base}/{hook['id']}", None),
        ("PATCH", f"{base}/{hook['id']}", {"events": ["task.*"]}),
        ("GET", f"{base}/{hook['id']}/deliveries", None),
        ("POST", f"{base}/{hook['id']}/deliveries/{delivery}/redeliver", None),
        ("DELETE", f"{base}/{hook['id']}", None),
    ]
    expected = {"stranger": 404, "anonymous": 401, "editor": 403, "viewer": 403}.get(role)
    for method, path, body in calls:
        status, answer = await api.call(method, path, account, json=body)
        if expected is None:
            assert status in (200, 201, 202, 204), (method, path, status, answer)
        else:
            assert status == expected, (method, path, status, answer)
    if role == "stranger":  # the same answer as for a board that does not exist
        assert answer["error"]["code"] == "board_not_found"


async def test_the_secret_is_shown_once_and_never_listed(api: Api, receiver: Receiver) -> None:
    owner = await api.register()
    path = f"/api/v1/boards/{owner.personal_board}/webhooks"
    response = await api.client.post(path, json={"url": receiver.url}, headers=owner.headers)
    created = await response.get_json()
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    chosen = await create_webhook(api, owner, owner.personal_board, receiver.url, secret="my-own-secret-0123456789")
    assert chosen["secret"] == "my-own-secret-0123456789"

    listed = (await api.call("GET", path, owner))[1]["items"]
    assert [item["id"] for item in listed] == sorted([created["id"], chosen["id"]])
    one = (await api.call("GET", f"{path}/{created['id']}", owner))[1]
    assert all("secret" not in item for item in [*listed, one])
    assert one == {key: value for key, value in created.items() if key != "secret"}
    assert set(one) == {
        "id",
        "board_id",
        "url",
        "events",
        "active",
        "disabled_reason",
        "last_delivered_seq",
        "consecutive_failures",
        "next_attempt_at",
        "created_by",
        "created_at",
        "updated_at",
    }


async def test_invalid_webhooks_are_refused(api: Api, receiver: Receiver) -> None:
    owner = await api.register()
    path = f"/api/v1/boards/{owner.personal_board}/webhooks"
    for body in (
        {"url": receiver.url, "events": []},
        {"url": receiver.url, "events": ["Task Created"]},
        {"url": receiver.url, "events": ["task.created", "task.created"]},
        {"url": receiver.url, "secret": "short"},
        {"url": receiver.url, "extra": 1},
        {},
    ):
        status, answer = await api.call("POST", path, owner, json=body)
        assert (status, answer["error"]["code"]) == (422, "validation_error"), body
    hook = await create_webhook(api, owner, owner.personal_board, receiver.url)
    status, answer = await api.call("PATCH", f"{path}/{hook['id']}", owner, json={"url": "http://10.0.0.1/"})
    assert (status, answer["error"]["code"]) == (422, "webhook_url_not_allowed")
    other = await api.register()
    foreign = await create_webhook(api, other, other.personal_board, receiver.url)
    status, answer = await api.call("GET", f"{path}/{foreign['id']}", owner)  # another board's webhook
    assert (status, answer["error"]["code"]) == (404, "webhook_not_found")
    for _ in range(MAX_WEBHOOKS_PER_BOARD - 1):
        await create_webhook(api, owner, owner.personal_board, receiver.url)
    status, answer = await api.call("POST", path, owner, json={"url": receiver.url})
    assert (status, answer["error"]["code"]) == (422, "too_many_webhooks")


async def test_patch_changes_events_and_null_means_every_event(api: Api, receiver: Receiver) -> None:
    owner = await api.register()
    path = f"/api/v1/boards/{owner.personal_board}/webhooks"
    hook = await create_webhook(api, owner, owner.personal_board, receiver.url, events=["comment.*"])
    status, changed = await api.call("PATCH", f"{path}/{hook['id']}", owner, json={"events": ["task.created"]})
    assert status == 200 and changed["events"] == ["task.created"] and changed["url"] == receiver.url
    status, changed = await api.call("PATCH", f"{path}/{hook['id']}", owner, json={"events": None, "active": False})
    assert status == 200 and changed["events"] is None and changed["active"] is False
    assert (await api.call("DELETE", f"{path}/{hook['id']}", owner))[0] == 204
    assert (await api.call("GET", f"{path}/{hook['id']}", owner))[0] == 404


async def test_the_log_pages_newest_first_and_a_delivery_can_be_sent_again(api: Api, receiver: Receiver) -> None:
    owner = await api.register()
    board = owner.personal_board
    hook = await create_webhook(api, owner, board, receiver.url)
    for n in range(3):
        await api.task(owner, board, f"task {n}")
    log = await _delivered(api, owner, board, hook, receiver, count=3)
    base = f"/api/v1/boards/{board}/webhooks/{hook['id']}/deliveries"
    status, page = await api.call("GET", f"{base}?limit=2", owner)
    assert status == 200 and page["items"] == list(reversed(log))[:2] and page["next_cursor"]
    rest = (await api.call("GET", f"{base}?limit=2&cursor={page['next_cursor']}", owner))[1]
    assert rest == {"items": [log[0]], "next_cursor": None}

    first = log[0]
    status, queued = await api.call("POST", f"{base}/{first['delivery_id']}/redeliver", owner)
    assert status == 202 and queued == {
        "delivery_id": first["delivery_id"],
        "seq": first["seq"],
        "event_type": "task.created",
        "queued": True,
    }
    await receiver.wait_for(lambda: len(receiver.received(hook["id"])) == 4)
    again = receiver.received(hook["id"])[-1]
    assert again.seq == first["seq"] and again.headers["taskwire-delivery"] == first["delivery_id"]
    newest = (await deliveries(api, owner, board, hook["id"], at_least=4))[-1]
    assert (newest["delivery_id"], newest["attempt"], newest["manual"], newest["status_code"]) == (
        first["delivery_id"],
        2,
        True,
        200,
    )

    status, answer = await api.call("POST", f"{base}/{hook['id']}-999/redeliver", owner)
    assert (status, answer["error"]["code"]) == (404, "delivery_not_found")
    await api.call("PATCH", f"/api/v1/boards/{board}/webhooks/{hook['id']}", owner, json={"active": False})
    status, answer = await api.call("POST", f"{base}/{first['delivery_id']}/redeliver", owner)
    assert (status, answer["error"]["code"]) == (409, "webhook_inactive")
