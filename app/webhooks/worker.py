"""The webhook worker every instance runs: finds webhooks with work, takes their lease,
and runs one ``DeliveryRun`` per webhook it holds.

It looks for work when this instance publishes an event (cheap: the publisher calls
``wake``) and every ``TASKWIRE_WEBHOOK_POLL_INTERVAL`` seconds, so an event written by
another instance, a retry coming due, or a lease left behind by a crashed instance is
found even when no wake-up arrives. Which instance delivers a webhook is decided by the
lease alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from app.domain import clock
from app.domain.ids import lease_owner
from app.domain.models import Event
from app.domain.webhooks import Webhook
from app.events.publisher import EventPublisher
from app.settings import Settings
from app.store.base import BoardStore, StoreUnavailable
from app.webhooks.delivery import DeliveryPolicy, DeliveryRun, DeliveryStore, seconds_from_now
from app.webhooks.destinations import DestinationGuard
from app.webhooks.sender import CONNECT_TIMEOUT_SECONDS, WebhookSender

log = logging.getLogger(__name__)

SCAN_PAGE = 100
MAX_RUNS = 200  # webhooks one instance delivers at once; the rest wait for a later scan
LOG_KEEP = 1000  # delivery log rows kept per webhook
RELEASE_TIMEOUT_SECONDS = 2.0
MAX_SCAN_BACKOFF_SECONDS = 60.0


async def scan_forever(scan: Callable[[], Awaitable[object]], wake: asyncio.Event, poll: float, what: str) -> None:
    """Run ``scan`` every ``poll`` seconds and whenever ``wake`` is set; while it fails,
    log why (as ``what``) and back off, doubling to a minute. The webhook and mail workers
    and the reminder scheduler each run one."""
    failures = 0
    while True:
        wake.clear()  # before the scan: a wake-up during it means "scan again"
        try:
            await scan()
            failures = 0
        except asyncio.CancelledError:
            raise
        except StoreUnavailable as error:
            failures += 1
            log.warning("%s: store unavailable: %s", what, error)
        except Exception:
            failures += 1
            log.exception("%s failed", what)
        delay = poll if failures == 0 else min(poll * 2 ** min(failures, 10), MAX_SCAN_BACKOFF_SECONDS)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await wake.wait()


class WebhookWorkerStore(DeliveryStore, BoardStore, Protocol): ...


class WebhookWorker:
    def __init__(self, settings: Settings, store: WebhookWorkerStore, publisher: EventPublisher) -> None:
        self.owner = lease_owner()
        self._store = store
        self._publisher = publisher
        self._poll = settings.webhook_poll_seconds
        self._policy = DeliveryPolicy(
            settings.webhook_lease_ttl_seconds,
            settings.webhook_retry_base_seconds,
            settings.webhook_retry_cap_seconds,
            settings.webhook_max_failures,
        )
        # An attempt may take a third of the lease at most (see delivery.py).
        total = min(settings.webhook_timeout_seconds + CONNECT_TIMEOUT_SECONDS, settings.webhook_lease_ttl_seconds / 3)
        self.guard = DestinationGuard(settings.webhook_allow_hosts)
        self._sender = WebhookSender(self.guard, settings.webhook_timeout_seconds, total)
        self._wake = asyncio.Event()
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.Task[None] | None = None
        publisher.add_listener(self._on_published)

    async def open(self) -> None:
        self._loop = asyncio.create_task(
            scan_forever(self._scan, self._wake, self._poll, "webhook scan"), name="webhook-worker"
        )

    async def close(self) -> None:
        tasks = [task for task in (self._loop, *self._runs.values()) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._sender.close()

    def wake(self) -> None:
        self._wake.set()

    def _on_published(self, event: Event) -> None:
        self.wake()

    async def _scan(self) -> None:
        after: str | None = None
        while len(self._runs) < MAX_RUNS:
            due = await self._store.list_due_webhooks(clock.now(), after, SCAN_PAGE)
            for webhook in due:
                if webhook.id not in self._runs and len(self._runs) < MAX_RUNS and await self._has_work(webhook):
                    await self._start(webhook)
            if len(due) < SCAN_PAGE:
                return
            after = due[-1].id

    async def _has_work(self, webhook: Webhook) -> bool:
        if webhook.redeliveries or webhook.failures >= self._policy.max_failures:
            return True
        board = await self._store.get_board(webhook.board_id)
        return board is not None and board.seq > webhook.cursor

    async def _start(self, webhook: Webhook) -> None:
        claimed = await self._store.claim_webhook(
            webhook.id, self.owner, clock.now(), seconds_from_now(self._policy.lease_ttl)
        )
        if claimed is not None:
            self._runs[webhook.id] = asyncio.create_task(self._deliver(claimed), name=f"webhook-{webhook.id}")

    async def _deliver(self, webhook: Webhook) -> None:
        try:
            await DeliveryRun(self._store, self._sender, self._publisher, self._policy, self.owner).run(webhook)
            await self._store.prune_webhook_attempts(webhook.id, LOG_KEEP)
        except asyncio.CancelledError:
            raise
        except StoreUnavailable as error:
            log.warning("webhook %s: store unavailable: %s", webhook.id, error)
        except Exception:
            log.exception("webhook %s: delivery failed", webhook.id)
        finally:
            self._runs.pop(webhook.id, None)
            # Let another instance (or a later scan here) take over at once rather than
            # after the lease runs out; then look again, for events that came meanwhile.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(RELEASE_TIMEOUT_SECONDS):
                    await self._store.release_webhook(webhook.id, self.owner)
            self.wake()
