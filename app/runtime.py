"""What one running instance owns: settings, store, broker, services. Lives in
``app.extensions["taskwire"]``; opened in ``before_serving``, closed in ``after_serving``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from quart import current_app

from app.broker import create_broker
from app.broker.base import Broker
from app.observability.metrics import InstrumentedStore
from app.settings import Settings
from app.store import create_store
from app.store.base import Store

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger(__name__)


@dataclasses.dataclass(slots=True)
class Runtime:
    settings: Settings
    store: Store
    broker: Broker
    services: Services

    async def open(self) -> None:
        await self.store.open()
        await self.broker.open()
        await self.services.open()

    async def close(self) -> None:
        # Reverse order of open; each step runs even when an earlier one failed.
        for closer in (self.services.close, self.broker.close, self.store.close):
            try:
                await closer()
            except Exception:
                log.exception("error while closing")


def build_runtime(settings: Settings) -> Runtime:
    from app.services import Services

    store = InstrumentedStore(create_store(settings.effective_database_url))
    broker = create_broker(settings.redis_url)
    return Runtime(settings=settings, store=store, broker=broker, services=Services(settings, store, broker))


def current_runtime() -> Runtime:
    return current_app.extensions["taskwire"]
