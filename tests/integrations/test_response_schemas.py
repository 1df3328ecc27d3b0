"""What the API answers is what OpenAPI documents, on both stores: every record's JSON view
has exactly the documented fields, in the documented order, with the documented types.

The views (app.domain.views) and the response schemas (app.api.schemas) are derived from
each record's one definition by two different routes; this holds them to each other with
real answers of the real app, so that a record can never be shown one way and documented
another.
"""

from __future__ import annotations

from typing import Any

import jsonschema
from pydantic import BaseModel

from app.api.admin_schemas import MeOut
from app.api.notification_schemas import NotificationOut
from app.api.schemas import BoardOut, CommentOut, EventOut, MemberOut, TaskOut, TokenCreatedOut, TokenOut
from app.api.webhook_schemas import DeliveryOut, WebhookCreatedOut, WebhookOut
from tests.integrations.conftest import create_webhook, deliveries
from tests.integrations.receiver import Receiver
from tests.support.apiclient import Api


def assert_documented(spec: dict[str, Any], model: type[BaseModel], body: dict[str, Any]) -> None:
    name = model.__name__
    documented = list(model.model_fields)
    assert set(body) <= set(documented), (name, set(body) - set(documented))
    assert [key for key in documented if key in body] == list(body), (name, "order", list(body))
    # The schema the route documents; nested records refer to the spec's components.
    schema = {**model.model_json_schema(ref_template="#/components/schemas/{model}"), "components": spec["components"]}
    schema.pop("$defs", None)
    jsonschema.Draft202012Validator(schema).validate(body)
    for key, field in model.model_fields.items():
        value = body.get(key)
        if isinstance(value, dict) and isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            assert_documented(spec, field.annotation, value)


async def test_every_record_is_answered_exactly_as_openapi_documents_it(api: Api, receiver: Receiver) -> None:
    spec = (await api.call("GET", "/openapi.json"))[1]
    ada, bob = await api.register("Ada"), await api.register("Bob")
    assert_documented(spec, MeOut, (await api.call("GET", "/api/v1/users/me", ada))[1])

    board = await api.board(ada, columns=["todo", "done"])
    assert_documented(spec, BoardOut, board)
    status, member = await api.call(
        "POST", f"/api/v1/boards/{board['id']}/members", ada, json={"email": bob.email, "role": "editor"}
    )
    assert status == 201, member
    assert_documented(spec, MemberOut, member)
    for listed in (await api.call("GET", f"/api/v1/boards/{board['id']}/members", ada))[1]["items"]:
        assert_documented(spec, MemberOut, listed)

    hook = await create_webhook(api, ada, board["id"], receiver.url)
    assert_documented(spec, WebhookCreatedOut, hook)
    task = await api.task(
        ada,
        board["id"],
        assignees=[bob.id],
        labels=["launch"],
        due_at="2031-01-01T00:00:00Z",
        client_mutation_id="tab-1",
    )
    assert_documented(spec, TaskOut, task)
    status, comment = await api.call(
        "POST", f"/api/v1/tasks/{task['id']}/comments", ada, json={"body": f"@{bob.name} have a look"}
    )
    assert status == 201, comment
    assert_documented(spec, CommentOut, comment)

    status, token = await api.call(
        "POST", "/api/v1/tokens", ada, json={"name": "ci", "scopes": ["read"], "boards": [board["id"]]}
    )
    assert status == 201, token
    assert_documented(spec, TokenCreatedOut, token)
    for listed in (await api.call("GET", "/api/v1/tokens", ada))[1]["items"]:
        assert_documented(spec, TokenOut, listed)

    events = (await api.call("GET", f"/api/v1/boards/{board['id']}/events", ada))[1]["items"]
    assert any("client_mutation_id" in event for event in events)
    assert any("client_mutation_id" not in event for event in events)
    for event in events:
        assert_documented(spec, EventOut, event)
    notices = (await api.call("GET", "/api/v1/notifications", bob))[1]["items"]
    assert {notice["type"] for notice in notices} >= {"member.added", "task.assigned"}
    for notice in notices:
        assert_documented(spec, NotificationOut, notice)

    for delivery in await deliveries(api, ada, board["id"], hook["id"], at_least=1):
        assert_documented(spec, DeliveryOut, delivery)
    assert_documented(
        spec, WebhookOut, (await api.call("GET", f"/api/v1/boards/{board['id']}/webhooks/{hook['id']}", ada))[1]
    )
