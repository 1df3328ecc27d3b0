"""What one running instance owns: settings, store, broker, the engines (the WebSocket hub,
the webhook worker) and the services. Built here, once; lives in
``app.extensions["taskwire"]``; opened in ``before_serving``, closed in ``after_serving``.
"""

from __future__ import annotations

import dataclasses
import logging

from quart import current_app

from app.broker import create_broker
from app.broker.base import Broker, RateLimiter
from app.broker.memory import MemoryBroker
from app.events.publisher import EventPublisher
from app.mail.links import Links
from app.mail.render import Renderer
from app.mail.scheduler import Scheduler
from app.mail.worker import MailWorker
from app.realtime.hub import SHUTDOWN_WAIT_SECONDS, Hub
from app.services import Services
from app.services.trash import TrashPurger
from app.settings import Settings
from app.store import create_store
from app.store.base import Store
from app.store.instrumented import InstrumentedStore
from app.webhooks.worker import WebhookWorker

log = logging.getLogger(__name__)


@dataclasses.dataclass(slots=True)
class Runtime:
    settings: Settings
    store: Store
    broker: Broker
    publisher: EventPublisher
    hub: Hub
    webhook_worker: WebhookWorker
    mail_worker: MailWorker
    scheduler: Scheduler
    services: Services
    trash_purger: TrashPurger
    # Rate limits while the broker is down: counted in this process only.
    local_limits: RateLimiter = dataclasses.field(default_factory=MemoryBroker)
    closing: bool = False

    async def open(self) -> None:
        await self.store.open()
        await self.broker.open()
        await self.hub.open()
        await self.webhook_worker.open()
        await self.mail_worker.open()
        await self.scheduler.open()
        await self.trash_purger.open()

    @property
    def draining(self) -> bool:
        """True from the moment the server is asked to stop: /readyz fails and new
        WebSockets and event streams are refused."""
        return self.hub.draining

    async def begin_shutdown(self, wait: float = SHUTDOWN_WAIT_SECONDS) -> None:
        """Call when the server is asked to stop, before it waits for open connections:
        Hypercorn would wait for open WebSockets forever (hypercorn issue #308). Waits at
        most ``wait`` seconds for them to go."""
        await self.hub.close_connections(wait=wait)

    async def close(self) -> None:
        # Once only: a shutdown cut short closes the runtime itself (app.serving).
        if self.closing:
            return
        self.closing = True
        # Reverse order of open; each step runs even when an earlier one failed.
        for closer in (
            self.services.imports.close,
            self.services.documents.close,
            self.scheduler.close,
            self.mail_worker.close,
            self.trash_purger.close,
            self.webhook_worker.close,
            self.hub.close,
            self.broker.close,
            self.store.close,
        ):
            try:
                await closer()
            except Exception:
                log.exception("error while closing")


def build_runtime(settings: Settings) -> Runtime:
    store = InstrumentedStore(create_store(settings.effective_database_url))
    broker = create_broker(settings.redis_url)
    publisher = EventPublisher(broker)
    webhook_worker = WebhookWorker(settings, store, publisher)
    hub = Hub(settings, store, broker)
    renderer = Renderer(Links(settings.public_base_url, settings.secret_key), settings.mail_from)
    mail_worker = MailWorker(settings, store, publisher, renderer)
    services = Services(settings, store, broker, publisher, webhook_worker, mail_worker)
    hub.documents.on_remote_update = services.documents.note_remote_update
    scheduler = Scheduler(settings, store, publisher, renderer, mail_worker.owner, mail_worker.wake)
    trash_purger = TrashPurger(settings, services.trash)
    # By position: every field has a type of its own, so mypy would see two swapped.
    return Runtime(
        settings, store, broker, publisher, hub, webhook_worker, mail_worker, scheduler, services, trash_purger
    )


def current_runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["taskwire"]
    return runtime


def services() -> Services:
    """The use cases, for the handler of the request under way."""
    return current_runtime().services
