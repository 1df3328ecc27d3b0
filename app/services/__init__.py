"""Services: permissions and rules, one class per resource. Handlers call exactly one
service method; services call the store once per write and publish the resulting event."""

from __future__ import annotations

import logging

from app.broker.base import Broker
from app.realtime.fanout import EventPublisher
from app.realtime.hub import Hub
from app.services.auth import AuthService
from app.services.boards import BoardService
from app.services.cache import ReadCache
from app.services.comments import CommentService
from app.services.idempotency import IdempotencyService
from app.services.notifications import NotificationService
from app.services.tasks import TaskService
from app.services.tokens import ApiTokenService
from app.services.webhooks import WebhookService
from app.settings import Settings
from app.store.base import Store
from app.webhooks.worker import WebhookWorker

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings, store: Store, broker: Broker) -> None:
        self.settings = settings
        self.publisher = EventPublisher(broker)
        self.cache = ReadCache(broker, enabled=bool(settings.redis_url) and settings.cache)
        self.auth = AuthService(settings, store, broker, self.cache)
        self.boards = BoardService(store, self.publisher, self.cache)
        self.tasks = TaskService(store, self.publisher, self.cache)
        self.comments = CommentService(store, self.publisher)
        self.notifications = NotificationService(store)
        self.tokens = ApiTokenService(store, broker)
        self.idempotency = IdempotencyService(broker)
        self.hub = Hub(settings, store, broker)
        self.webhook_worker = WebhookWorker(settings, store, self.publisher)
        self.webhooks = WebhookService(store, self.webhook_worker.guard, self.webhook_worker.wake)

    async def open(self) -> None:
        await self.hub.open()
        await self.webhook_worker.open()

    async def begin_shutdown(self) -> None:
        """Call when the server is asked to stop, before it waits for open connections:
        Hypercorn would wait for open WebSockets forever (hypercorn issue #308)."""
        await self.hub.close_connections()

    async def close(self) -> None:
        try:
            await self.webhook_worker.close()
        finally:
            await self.hub.close()
