"""One instance delivering one webhook while it holds the webhook's lease.

The order guarantee lives here: the event after ``cursor`` is attempted until it is
acknowledged (2xx); only then does the cursor move and the next event go out. Every
write back is fenced by the lease (the store refuses it for an instance whose lease was
taken over), and the lease is renewed so that it always outlasts the attempt in flight:
before an attempt at least two thirds of the lease remain, and an attempt is bounded to
one third. Two instances therefore never have requests in flight for one webhook.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from datetime import timedelta
from typing import Protocol

from app.domain import clock
from app.domain.models import Event, EventDraft
from app.domain.webhooks import (
    Webhook,
    WebhookAttempt,
    WebhookProgress,
    delivery_id,
    next_attempt_id,
    wants_event,
)
from app.events.publisher import EventPublisher
from app.observability import metrics
from app.store.base import EventStore, WebhookStore
from app.webhooks.sender import SendResult, WebhookSender

log = logging.getLogger(__name__)

EVENT_BATCH = 100
SYSTEM_ACTOR = "system"  # the actor of events no user caused


@dataclasses.dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    lease_ttl: float
    retry_base: float
    retry_cap: float
    max_failures: int

    def backoff(self, failures: int) -> float:
        """Exponential with full jitter: spreads the retries of many webhooks whose
        receiver came back at once, instead of sending them in lockstep."""
        return random.uniform(0, min(self.retry_cap, self.retry_base * 2 ** min(failures - 1, 60)))


def seconds_from_now(seconds: float) -> str:
    return clock.format_time(clock.parse_time(clock.now()) + timedelta(seconds=seconds))


class DeliveryStore(EventStore, WebhookStore, Protocol): ...


class DeliveryRun:
    def __init__(
        self, store: DeliveryStore, sender: WebhookSender, publisher: EventPublisher, policy: DeliveryPolicy, owner: str
    ) -> None:
        self._store, self._sender, self._publisher = store, sender, publisher
        self._policy, self._owner = policy, owner
        self._events: list[Event] = []
        self._last_error: str | None = None

    async def run(self, webhook: Webhook | None) -> None:
        """Deliver from the claimed ``webhook`` until caught up, disabled, or the lease is lost."""
        while webhook is not None and webhook.active:
            if webhook.failures >= self._policy.max_failures:
                await self._disable(webhook)
                return
            if webhook.redeliveries:
                webhook = await self._redeliver(webhook)
            elif webhook.next_attempt_at is not None and webhook.next_attempt_at > clock.now():
                webhook = await self._wait_until(webhook.id, webhook.next_attempt_at)
            elif (event := await self._next_event(webhook)) is None:
                return  # caught up
            else:
                webhook = await self._attempt(await self._fresh_lease(webhook), event)

    async def _fresh_lease(self, webhook: Webhook) -> Webhook | None:
        """The webhook with at least two thirds of its lease ahead."""
        remaining = clock.parse_time(webhook.lease_until or clock.now()) - clock.parse_time(clock.now())
        if remaining.total_seconds() >= self._policy.lease_ttl * 2 / 3:
            return webhook
        return await self._renew(webhook.id)

    async def _renew(self, webhook_id: str) -> Webhook | None:
        return await self._store.claim_webhook(
            webhook_id, self._owner, clock.now(), seconds_from_now(self._policy.lease_ttl)
        )

    async def _wait_until(self, webhook_id: str, at: str) -> Webhook | None:
        """Sleep towards ``at``, waking to renew the lease (and to see changes made meanwhile)."""
        remaining = (clock.parse_time(at) - clock.parse_time(clock.now())).total_seconds()
        await asyncio.sleep(max(0.0, min(remaining, self._policy.lease_ttl / 3)))
        return await self._renew(webhook_id)

    async def _next_event(self, webhook: Webhook) -> Event | None:
        """The first logged event after the cursor. Normally seq cursor + 1; a standalone
        MongoDB may leave a gap in the log (see mongo_tx.append_event), which is skipped."""
        # Peeked, not popped: a failed event stays first until the cursor passes it.
        self._events = [event for event in self._events if event.seq > webhook.cursor]
        if not self._events:
            self._events = await self._store.list_events(webhook.board_id, webhook.cursor, EVENT_BATCH)
        return self._events[0] if self._events else None

    async def _attempt(self, webhook: Webhook | None, event: Event) -> Webhook | None:
        if webhook is None or not webhook.active or event.seq <= webhook.cursor:
            self._events = []
            return webhook  # lost the lease, switched off, or the cursor moved: look again
        if not wants_event(webhook, event.type):
            # Every unwanted event up to the next wanted one is passed over in one write.
            skipped = event.seq
            for later in self._events:
                if later.seq > skipped and wants_event(webhook, later.type):
                    break
                skipped = max(skipped, later.seq)
            return await self._store.record_webhook_attempt(
                webhook.id, self._owner, None, WebhookProgress(skipped, 0, None)
            )
        result = await self._send(webhook, event)
        attempt = self._attempt_record(webhook, event, webhook.failures + 1, result, manual=False)
        if result.ok:
            progress = WebhookProgress(event.seq, 0, None)
        else:
            failures = webhook.failures + 1
            last = failures >= self._policy.max_failures
            retry_at = None if last else seconds_from_now(self._policy.backoff(failures))
            progress = WebhookProgress(webhook.cursor, failures, retry_at)
            self._last_error = result.error or f"HTTP {result.status_code}"
        return await self._store.record_webhook_attempt(webhook.id, self._owner, attempt, progress)

    async def _redeliver(self, leased: Webhook) -> Webhook | None:
        """One attempt at a delivery asked for by hand; it moves neither cursor nor backoff."""
        webhook = await self._fresh_lease(leased)
        if webhook is None:
            return None
        seq = await self._store.pop_webhook_redelivery(webhook.id, self._owner)
        events = [] if seq is None else await self._store.list_events(webhook.board_id, seq - 1, 1)
        if not events or events[0].seq != seq:
            return await self._renew(webhook.id)  # nothing queued after all, or the event is gone
        last = await self._store.get_webhook_attempt(webhook.id, delivery_id(webhook.id, seq))
        result = await self._send(webhook, events[0])
        attempt = self._attempt_record(webhook, events[0], (last.attempt if last else 0) + 1, result, manual=True)
        return await self._store.record_webhook_attempt(webhook.id, self._owner, attempt, None)

    async def _disable(self, webhook: Webhook) -> None:
        reason = f"{webhook.failures} consecutive failed deliveries" + (
            f"; the last: {self._last_error}" if self._last_error else ""
        )
        data = {"webhook_id": webhook.id, "url": webhook.url, "reason": reason}
        draft = EventDraft("webhook.disabled", SYSTEM_ACTOR, clock.now(), data, client_mutation_id=None)
        event = await self._store.disable_webhook(webhook.id, self._owner, reason, draft)
        if event is not None:
            log.warning("webhook %s of board %s disabled: %s", webhook.id, webhook.board_id, reason)
            metrics.WEBHOOKS_DISABLED.inc()
            await self._publisher.publish(event)

    async def _send(self, webhook: Webhook, event: Event) -> SendResult:
        result = await self._sender.send(webhook, event)
        metrics.WEBHOOK_ATTEMPTS.labels("ok" if result.ok else "failed").inc()
        return result

    def _attempt_record(
        self, webhook: Webhook, event: Event, number: int, result: SendResult, manual: bool
    ) -> WebhookAttempt:
        return WebhookAttempt(
            id=next_attempt_id(),
            webhook_id=webhook.id,
            board_id=webhook.board_id,
            delivery_id=delivery_id(webhook.id, event.seq),
            seq=event.seq,
            event_type=event.type,
            attempt=number,
            manual=manual,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=result.error,
            response_body=result.response_body,
            at=clock.now(),
        )
