"""Deliveries as a receiver sees them: every event in seq order, signed; retried with
backoff until acknowledged; given up on (and said so on the board) after repeated
failure; never sent to a private address unless an operator allowed it."""

from __future__ import annotations

import time
from pathlib import Path

from quart import Quart

from app.domain.models import Event
from app.domain.webhooks import Webhook
from app.factory import create_app
from app.settings import Settings
from app.webhooks.destinations import DestinationGuard
from app.webhooks.sender import WebhookSender
from app.webhooks.signing import signature, verify
from tests.integrations.conftest import MAX_FAILURES, create_webhook, deliveries, eventually, webhook_state
from tests.integrations.receiver import Receiver
from tests.support.apiclient import Api


async def board_events(api: Api, account, board_id: str, after: int) -> list[dict]:
    status, body = await api.call("GET", f"/api/v1/boards/{board_id}/events?after={after}&limit=1000", account)
    assert status == 200
    return body["items"]


async def test_a_burst_of_changes_arrives_in_seq_order_signed_once_each(api: Api, receiver: Receiver) -> None:
    owner = await api.register()
    board = await api.board(owner)
    hook = await create_webhook(api, owner, board["id"], receiver.url)
    start = hook["last_delivered_seq"]
    tasks = [await api.task(owner, board["id"], f"task {n}") for n in range(20)]
    for task in tasks[:10]:
        status, _ = await api.call(
            "PATCH", f"/api/v1/tasks/{task['id']}", owner, json={"title": "renamed", "version": task["version"]}
        )
        assert status == 200

    await receiver.wait_for(lambda: len(receiver.received(hook["id"])) >= 30)
    got = receiver.received(hook["id"])
    assert [r.seq for r in got] == list(range(start + 1, start + 31))
    logged = await board_events(api, owner, board["id"], start)
    for request, event in zip(got, logged, strict=True):
        assert verify(hook["secret"], request.body, request.headers["taskwire-signature"])
        assert request.payload == {
            **event,
            "webhook_id": hook["id"],
            "delivery_id": request.headers["taskwire-delivery"],
        }
        assert request.headers["taskwire-event"] == event["type"]
        assert request.headers["content-type"] == "application/json"
    assert len({r.headers["taskwire-delivery"] for r in got}) == 30
    assert not verify("whsec_another", got[0].body, got[0].headers["taskwire-signature"])

    log = await deliveries(api, owner, board["id"], hook["id"], at_least=30)
    assert [(d["seq"], d["attempt"], d["status_code"], d["manual"]) for d in log] == [
        (seq, 1, 200, False) for seq in range(start + 1, start + 31)
    ]
    assert (await webhook_state(api, owner, board["id"], hook["id"]))["last_delivered_seq"] == start + 30


async def test_a_receiver_that_fails_for_a_while_gets_everything_after_retries(api: Api, receiver: Receiver) -> None:
    failing = {"left": MAX_FAILURES - 1}  # one short of giving up

    def respond(_request) -> int:
        failing["left"] -= 1
        return 500 if failing["left"] >= 0 else 204

    receiver.respond = respond
    owner = await api.register()
    board = await api.board(owner)
    hook = await create_webhook(api, owner, board["id"], receiver.url, events=["task.*"])
    start = hook["last_delivered_seq"]
    await api.call("PATCH", f"/api/v1/boards/{board['id']}", owner, json={"name": "not a task event"})
    for n in range(3):
        await api.task(owner, board["id"], f"task {n}")

    await receiver.wait_for(lambda: len(receiver.received(hook["id"], status=204)) >= 3)
    acknowledged = [r.seq for r in receiver.received(hook["id"], status=204)]
    assert acknowledged == [start + 2, start + 3, start + 4]  # the board.updated event was not wanted
    assert [r.seq for r in receiver.received(hook["id"])][:MAX_FAILURES] == [start + 2] * MAX_FAILURES

    log = await deliveries(api, owner, board["id"], hook["id"], at_least=len(receiver.received(hook["id"])))
    first = [d for d in log if d["seq"] == start + 2]
    assert [(d["attempt"], d["status_code"]) for d in first] == [(n, 500) for n in range(1, MAX_FAILURES)] + [
        (MAX_FAILURES, 204)
    ]
    assert first[0]["response_body"] == "ok" and first[0]["latency_ms"] >= 0 and first[0]["error"] is None
    state = await webhook_state(api, owner, board["id"], hook["id"])
    assert (state["active"], state["consecutive_failures"], state["next_attempt_at"]) == (True, 0, None)


async def test_repeated_failure_disables_the_webhook_and_tells_the_board(
    app: Quart, api: Api, receiver: Receiver
) -> None:
    published: list[Event] = []
    app.extensions["taskwire"].publisher.add_listener(published.append)
    receiver.respond = lambda _request: 503
    owner = await api.register()
    board = await api.board(owner)
    hook = await create_webhook(api, owner, board["id"], receiver.url)
    task = await api.task(owner, board["id"])

    async def disabled() -> bool:
        return not (await webhook_state(api, owner, board["id"], hook["id"]))["active"]

    await eventually(disabled)
    state = await webhook_state(api, owner, board["id"], hook["id"])
    assert state["consecutive_failures"] == MAX_FAILURES and "HTTP 503" in state["disabled_reason"]
    assert len(receiver.received(hook["id"])) == MAX_FAILURES
    notice = (await board_events(api, owner, board["id"], hook["last_delivered_seq"] + 1))[-1]
    assert notice["type"] == "webhook.disabled" and notice["actor"] == "system"
    assert notice["data"] == {"webhook_id": hook["id"], "url": receiver.url, "reason": state["disabled_reason"]}
    assert any(event.type == "webhook.disabled" and event.seq == notice["seq"] for event in published)

    receiver.respond = lambda _request: 200  # fixed: switching it back on delivers what was pending
    status, body = await api.call(
        "PATCH", f"/api/v1/boards/{board['id']}/webhooks/{hook['id']}", owner, json={"active": True}
    )
    assert status == 200 and body["active"] and body["consecutive_failures"] == 0 and body["disabled_reason"] is None
    await receiver.wait_for(lambda: len(receiver.received(hook["id"], status=200)) == 2)
    assert [r.payload["type"] for r in receiver.received(hook["id"], status=200)] == [
        "task.created",
        "webhook.disabled",
    ]
    assert receiver.received(hook["id"], status=200)[0].payload["data"]["id"] == task["id"]


async def test_private_and_loopback_urls_are_refused_without_the_allow_list(settings: Settings) -> None:
    application = create_app(settings.model_copy(update=dict(webhook_allow_hosts=())))
    async with application.test_app():
        api = Api(application.test_client())
        owner = await api.register()
        path = f"/api/v1/boards/{owner.personal_board}/webhooks"
        for url in (
            "http://127.0.0.1:9/hook",
            "http://localhost/",
            "http://10.1.2.3/",
            "https://192.168.0.10/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://0.0.0.0/",
            "http://[::ffff:127.0.0.1]/",
            "http://224.0.0.1/",
            "http://100.64.0.1/",
            "http://[fe80::1]/",
        ):
            status, body = await api.call("POST", path, owner, json={"url": url})
            assert (status, body["error"]["code"]) == (422, "webhook_url_not_allowed"), url
        for url in ("ftp://example.com/", "http://user:pw@example.com/", "not a url"):
            status, body = await api.call("POST", path, owner, json={"url": url})
            assert (status, body["error"]["code"]) == (422, "invalid_webhook_url"), url
        assert (await api.call("GET", path, owner))[1]["items"] == []


async def test_a_delivery_checks_the_destination_again_when_it_is_sent(receiver: Receiver) -> None:
    """What was allowed when the webhook was saved is checked again at every attempt (a DNS
    answer may have changed since): a sender whose guard admits no private address refuses."""
    hook = Webhook(
        id="w",
        board_id="b",
        url=receiver.url,
        secret="whsec_test",
        events=None,
        active=True,
        created_by="u",
        created_at="",
        updated_at="",
    )
    event = Event(board_id="b", seq=1, type="task.created", actor="u", at="2026-01-01T00:00:00.000000Z", data={})
    strict = WebhookSender(DestinationGuard(()), read_timeout=1.0, total_timeout=1.0)
    lenient = WebhookSender(DestinationGuard(("127.0.0.0/8",)), read_timeout=1.0, total_timeout=1.0)
    try:
        refused, allowed = await strict.send(hook, event), await lenient.send(hook, event)
    finally:
        await strict.close()
        await lenient.close()
    assert refused.status_code is None and "not a public address" in (refused.error or "")
    assert allowed.status_code == 200 and len(receiver.requests) == 1


def documented_verifier():
    """The verification snippet of docs/integrations.md, exactly as a receiver copies it."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "integrations.md").read_text()
    snippet = text.split("### Verifying the signature", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(snippet, "docs/integrations.md", "exec"), namespace)
    return namespace["verify_taskwire_signature"]


async def test_the_documented_snippet_verifies_a_real_delivery_and_refuses_forgeries(
    api: Api, receiver: Receiver
) -> None:
    verify_documented = documented_verifier()
    owner = await api.register()
    hook = await create_webhook(api, owner, owner.personal_board, receiver.url)
    await api.task(owner, owner.personal_board)
    await receiver.wait_for(lambda: len(receiver.received(hook["id"])) == 1)
    request = receiver.received(hook["id"])[0]
    header = request.headers["taskwire-signature"]

    assert verify_documented(hook["secret"], request.body, header)
    assert not verify_documented(hook["secret"], request.body + b" ", header)
    assert not verify_documented("whsec_wrong", request.body, header)
    stale = signature(hook["secret"], request.body, int(time.time()) - 301)
    assert not verify_documented(hook["secret"], request.body, stale)
    assert not verify_documented(hook["secret"], request.body, "v1=abc")


async def test_metrics_count_attempts_by_outcome(api: Api, receiver: Receiver) -> None:
    from app.observability import metrics

    def count(outcome: str) -> float:
        return metrics.WEBHOOK_ATTEMPTS.labels(outcome)._value.get()

    before = count("ok"), count("failed")
    outcomes = iter([500, 200])
    receiver.respond = lambda _request: next(outcomes)
    owner = await api.register()
    await create_webhook(api, owner, owner.personal_board, receiver.url)
    await api.task(owner, owner.personal_board)

    async def counted() -> bool:
        return (count("ok") - before[0], count("failed") - before[1]) == (1, 1)

    await eventually(counted)
