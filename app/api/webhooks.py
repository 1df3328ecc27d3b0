"""Webhooks of a board: /api/v1/boards/<board_id>/webhooks (admins and owners)."""

from __future__ import annotations

from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.cursors import id_paged
from app.api.guards import READ, WRITE, guards, idempotent
from app.api.responses import json_list, json_response, no_content_after, no_store
from app.api.schemas import PageQuery
from app.api.webhook_schemas import (
    DeliveryList,
    RedeliveryOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookList,
    WebhookOut,
    WebhookPatchIn,
)
from app.domain.webhooks import attempt_view, webhook_view
from app.runtime import services

blueprint = Blueprint("webhooks", __name__, url_prefix="/api/v1/boards/<board_id>/webhooks")


@blueprint.post("")
@guards(*WRITE, idempotent)
@contract(body=WebhookIn, answers={201: WebhookCreatedOut})
async def create_webhook(board_id: str, data: WebhookIn) -> Response:
    """Send the board's events to ``url`` as signed POSTs (admins and owners). The
    ``secret`` is in this response only: store it now."""
    webhook, secret = await services().webhooks.create(caller().user, board_id, data.url, data.secret, data.events)
    # no-store also keeps it out of Idempotency-Key replays
    return no_store(json_response({**webhook_view(webhook), "secret": secret}, 201))


@blueprint.get("")
@guards(*READ)
@contract(answers={200: WebhookList})
async def list_webhooks(board_id: str) -> Response:
    """The board's webhooks, oldest first (never their secrets)."""
    return json_list(await services().webhooks.list(caller().user, board_id), webhook_view)


@blueprint.get("/<webhook_id>")
@guards(*READ)
@contract(answers={200: WebhookOut})
async def get_webhook(board_id: str, webhook_id: str) -> Response:
    """One webhook with its delivery state."""
    return json_response(webhook_view(await services().webhooks.get(caller().user, board_id, webhook_id)))


@blueprint.patch("/<webhook_id>")
@guards(*WRITE)
@contract(body=WebhookPatchIn, answers={200: WebhookOut})
async def update_webhook(board_id: str, webhook_id: str, data: WebhookPatchIn) -> Response:
    """Change the URL or the events, or switch the webhook off and on."""
    changes = {field: getattr(data, field) for field in data.model_fields_set}
    return json_response(webhook_view(await services().webhooks.update(caller().user, board_id, webhook_id, changes)))


@blueprint.delete("/<webhook_id>")
@guards(*WRITE)
async def delete_webhook(board_id: str, webhook_id: str) -> Response:
    """Delete the webhook and its delivery log."""
    return await no_content_after(services().webhooks.delete(caller().user, board_id, webhook_id))


@blueprint.get("/<webhook_id>/deliveries")
@guards(*READ)
@contract(query=PageQuery, answers={200: DeliveryList})
async def list_deliveries(board_id: str, webhook_id: str, query_args: PageQuery) -> Response:
    """The delivery log, newest first: one item per HTTP attempt."""
    deliveries = services().webhooks.deliveries
    return await id_paged("deliveries", query_args, attempt_view, deliveries, caller().user, board_id, webhook_id)


@blueprint.post("/<webhook_id>/deliveries/<delivery_id>/redeliver")
@guards(*WRITE, idempotent)
@contract(answers={202: RedeliveryOut})
async def redeliver(board_id: str, webhook_id: str, delivery_id: str) -> Response:
    """Send that delivery's event once more, soon (one attempt; the log shows it as ``manual``)."""
    attempt = await services().webhooks.redeliver(caller().user, board_id, webhook_id, delivery_id)
    return json_response(
        {"delivery_id": attempt.delivery_id, "seq": attempt.seq, "event_type": attempt.event_type, "queued": True}, 202
    )
