"""The mail worker every instance runs: leases due messages of the outbox, sends them,
and writes each outcome back fenced by its lease.

A message is leased for ``TASKWIRE_MAIL_LEASE_TTL`` seconds and one SMTP attempt may take
a third of that at most, so its outcome is written long before another instance could
take it over. An instance that dies mid-attempt leaves its lease to run out; the message
is then sent by whichever instance claims it next, with the same Message-ID. A failure is
retried with exponential backoff and full jitter up to ``TASKWIRE_MAIL_MAX_ATTEMPTS``;
a permanent refusal (5xx) ends it at once. Every attempt is a row of the delivery log.
"""

from __future__ import annotations

import asyncio
import logging

from app.domain import clock
from app.domain.ids import lease_owner
from app.domain.mail import (
    KIND_OF_TYPE,
    Channel,
    MailAttempt,
    MailStatus,
    NoticeKind,
    OutboxMessage,
    Preferences,
    channels_for,
    default_preferences,
    next_mail_attempt_id,
)
from app.domain.models import Event
from app.events.publisher import EventPublisher
from app.mail.render import DIGEST, Renderer
from app.mail.smtp import SendFailed, SmtpSender
from app.observability import metrics
from app.settings import Settings
from app.store.base import UserMailStore
from app.webhooks.delivery import DeliveryPolicy, seconds_from_now
from app.webhooks.worker import scan_forever

log = logging.getLogger(__name__)

CONCURRENCY = 4  # messages one instance sends at once
MAX_SMTP_SECONDS = 60.0
NOTICE_KINDS = frozenset(KIND_OF_TYPE.values())


def cancelled_reason(message: OutboxMessage, preferences: Preferences) -> str | None:
    """Why a queued message must not go after all: its user turned that email off since."""
    if message.kind in NOTICE_KINDS and Channel.EMAIL not in channels_for(
        preferences, NoticeKind(message.kind), mail_enabled=True
    ):
        return "the user turned these emails off"
    if message.kind == DIGEST and not any(Channel.DIGEST.value in chosen for chosen in preferences.channels.values()):
        return "the user turned the digest off"
    return None


class MailWorker:
    def __init__(self, settings: Settings, store: UserMailStore, publisher: EventPublisher, renderer: Renderer) -> None:
        self.owner = lease_owner()
        self.enabled = bool(settings.smtp_url)
        self._store = store
        self._renderer = renderer
        self.links = renderer.links
        self._poll = settings.mail_poll_seconds
        self._policy = DeliveryPolicy(
            settings.mail_lease_ttl_seconds,
            settings.mail_retry_base_seconds,
            settings.mail_retry_cap_seconds,
            settings.mail_max_attempts,
        )
        timeout = min(MAX_SMTP_SECONDS, settings.mail_lease_ttl_seconds / 3)
        self._sender = SmtpSender(settings.smtp_url, settings.smtp_ca_file, timeout) if self.enabled else None
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        publisher.add_listener(self._on_published)

    async def open(self) -> None:
        if self.enabled:
            self._loop = asyncio.create_task(
                scan_forever(self.drain, self._wake, self._poll, "mail worker"), name="mail-worker"
            )

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)

    def wake(self) -> None:
        self._wake.set()

    def _on_published(self, event: Event) -> None:
        if event.notifications or event.type.startswith(("comment.", "task.", "member.")):
            self.wake()

    async def drain(self) -> None:
        """Send every message due now, a few at a time, until none is left."""
        while batch := await self._store.claim_mail(
            self.owner, clock.now(), seconds_from_now(self._policy.lease_ttl), CONCURRENCY
        ):
            await asyncio.gather(*(self._deliver(message) for message in batch))

    async def _deliver(self, message: OutboxMessage) -> None:
        assert self._sender is not None
        user = await self._store.get_user(message.user_id)
        preferences = (await self._store.get_preferences([message.user_id])).get(message.user_id)
        preferences = preferences or default_preferences(message.user_id)
        number = message.attempts + 1
        reason = "the account is gone" if user is None else cancelled_reason(message, preferences)
        if reason is not None or user is None:
            await self._finish(message, number, MailStatus.CANCELLED, reason, "cancelled")
            return
        try:
            email = self._renderer.render(message, user, preferences.time_zone)
            await self._sender.send(email)
        except SendFailed as failure:
            last = failure.permanent or number >= self._policy.max_failures
            status = MailStatus.FAILED if last else MailStatus.PENDING
            retry_at = clock.now() if last else seconds_from_now(self._policy.backoff(number))
            log.warning("email %s attempt %d failed: %s", message.id, number, failure)
            await self._finish(message, number, status, str(failure), "failed" if last else "retry", retry_at)
            return
        await self._finish(message, number, MailStatus.SENT, None, "sent")

    async def _finish(
        self,
        message: OutboxMessage,
        number: int,
        status: MailStatus,
        error: str | None,
        outcome: str,
        next_attempt_at: str | None = None,
    ) -> None:
        at = clock.now()
        attempt = MailAttempt(
            next_mail_attempt_id(), message.id, number, status is MailStatus.SENT, error, self.owner, at
        )
        metrics.MAIL_ATTEMPTS.labels(outcome).inc()
        if not await self._store.finish_mail(self.owner, attempt, status, next_attempt_at or at, error):
            log.warning("email %s: lease lost before its outcome was written", message.id)
