"""Publishing side of fan-out: an event committed to the log is sent to every instance,
and each notification it caused to its user's channel.

Serialised once here; every instance's hub forwards the same text to its sockets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.broker.base import BrokerUnavailable, PubSub
from app.domain.models import Event, Notification
from app.domain.views import event_message, notification_message
from app.jsonutil import dumps
from app.observability import metrics
from app.realtime.channels import board_channel, document_channel, user_channel

log = logging.getLogger(__name__)


def board_deleted_message(board_id: str) -> str:
    """Not a log event: each hub that reads it ends its subscriptions to the board, and
    tells each of their clients ``unsubscribed`` with this reason (docs/realtime.md)."""
    return dumps({"type": "unsubscribed", "board": board_id, "reason": "board_deleted"})


def boards_changed_message(board_id: str, reason: str) -> str:
    """Not a notification (nothing is stored): tells a member's clients that their boards
    list changed (``board_deleted``: the board went to the trash; ``board_restored``)."""
    return dumps({"type": "boards.changed", "board": board_id, "reason": reason})


class EventPublisher:
    def __init__(self, broker: PubSub) -> None:
        self._broker = broker
        self._listeners: list[Callable[[Event], None]] = []

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Also tell ``listener`` (in this process, synchronously; it must not block) of
        every event published here, e.g. to wake the webhook worker."""
        self._listeners.append(listener)

    async def publish(self, event: Event) -> None:
        """Best effort by design: the event is already in the log, and subscribers fill any
        gap from there (by seq), so a broker outage must not fail the write that made it."""
        for listener in self._listeners:
            listener(event)
        try:
            await self._broker.publish(board_channel(event.board_id), dumps(event_message(event)))
            metrics.EVENTS_PUBLISHED.inc()
        except BrokerUnavailable:
            metrics.EVENTS_PUBLISH_FAILURES.inc()
            log.warning("event %s/%s not published: broker unavailable", event.board_id, event.seq)
        await self._publish_notifications(event)

    async def _publish_notifications(self, event: Event) -> None:
        await self.publish_notifications(event.notifications)

    async def publish_notifications(self, notifications: list[Notification]) -> None:
        """Best effort too: each notification is already stored, and a client that missed
        one live refetches the list over REST (docs/realtime.md)."""
        for notification in notifications:
            try:
                await self._broker.publish(
                    user_channel(notification.user_id), dumps(notification_message(notification))
                )
            except BrokerUnavailable:
                log.warning("notification %s not published: broker unavailable", notification.id)

    async def publish_board_deleted(self, board_id: str) -> None:
        """Tell every hub to end its subscriptions to a deleted board. Not in the log (the
        log is deleted with the board): a hub that misses it learns it at its next
        catch-up, which finds the board gone."""
        try:
            await self._broker.publish(board_channel(board_id), board_deleted_message(board_id))
        except BrokerUnavailable:
            log.warning("deletion of board %s not published: broker unavailable", board_id)

    async def publish_boards_changed(self, user_ids: list[str], board_id: str, reason: str) -> None:
        """Best effort, like the deletion above: a client that misses it reads its boards
        list again after its next reconnect."""
        text = boards_changed_message(board_id, reason)
        for user_id in user_ids:
            try:
                await self._broker.publish(user_channel(user_id), text)
            except BrokerUnavailable:
                log.warning("boards change of %s not published: broker unavailable", board_id)
                return

    async def publish_document(self, task_id: str, message: str) -> bool:
        """Send a document update or awareness message to every instance. Best effort:
        an update is stored before it is sent, and a client that missed one gets it when
        it opens the document again (each hub tells its clients to after a broker gap)."""
        try:
            await self._broker.publish(document_channel(task_id), message)
        except BrokerUnavailable:
            log.warning("document update of task %s not published: broker unavailable", task_id)
            return False
        return True
