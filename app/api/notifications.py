"""Your notifications: /api/v1/notifications (list, mark read). Live over the WebSocket too
(docs/realtime.md, ``notifications.subscribe``)."""

from __future__ import annotations

from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.cursors import cursor_id, id_page
from app.api.guards import READ, WRITE, guards, idempotent
from app.api.notification_schemas import (
    NotificationList,
    NotificationOut,
    NotificationPatchIn,
    NotificationQuery,
    NotificationsReadIn,
    NotificationsReadOut,
)
from app.api.responses import json_response
from app.domain.views import notification_view
from app.runtime import services

blueprint = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications")


@blueprint.get("")
@guards(*READ)
@contract(query=NotificationQuery, answers={200: NotificationList})
async def list_notifications(query_args: NotificationQuery) -> Response:
    """Your notifications, newest first, in cursor pages, with your unread count: being
    assigned to a task, @mentioned in a comment, added to a board."""
    before = cursor_id("notifications", query_args.cursor)
    items, more, unread = await services().notifications.list(
        caller().user, query_args.unread, before, query_args.limit
    )
    return json_response(id_page("notifications", items, more, notification_view, unread_count=unread))


@blueprint.post("/read")
@guards(*WRITE, idempotent)
@contract(body=NotificationsReadIn, answers={200: NotificationsReadOut})
async def mark_read(data: NotificationsReadIn) -> Response:
    """Mark some (``ids``) or all (``all: true``, optionally ``up_to`` an id) of your
    notifications read."""
    marked, unread = await services().notifications.mark_read(caller().user, data.ids, data.up_to)
    return json_response({"marked": marked, "unread_count": unread})


@blueprint.patch("/<notification_id>")
@guards(*WRITE)
@contract(body=NotificationPatchIn, answers={200: NotificationOut})
async def update_notification(notification_id: str, data: NotificationPatchIn) -> Response:
    """Mark one notification read (``read: true``) or unread again (``read: false``)."""
    return json_response(
        notification_view(await services().notifications.set_read(caller().user, notification_id, data.read))
    )
