"""The common end of a use case that changes a board: the store applies the change and logs
its event in one transaction, then the event is published to live clients."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.domain.errors import NotFoundError
from app.domain.models import Event
from app.events.publisher import EventPublisher
from app.store.base import NotFound


async def publish_change(
    publisher: EventPublisher, write: Awaitable[Event], missing: Callable[[], NotFoundError]
) -> Event:
    """Await ``write`` (a store call that applies a change and logs its event), then publish
    the event. The store's NotFound (the record, or its task or board, went away meanwhile)
    becomes ``missing()``, the use case's own answer."""
    try:
        event = await write
    except NotFound:
        raise missing() from None
    await publisher.publish(event)
    return event
