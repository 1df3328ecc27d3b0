"""Webhooks of a board: admins and owners manage them; nobody else learns they exist.

A new webhook starts at the board's current seq: it receives what happens from now on,
not the board's history. Its secret is generated (or given) once and shown once. The
delivery itself is ``app/webhooks/``; this service only wakes it when there is news.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

from app.domain import clock
from app.domain.errors import ConflictError, InvalidInputError, NotFoundError
from app.domain.ids import new_id
from app.domain.models import Role, User
from app.domain.webhooks import Webhook, WebhookAttempt
from app.services.access import board_not_found, require_role
from app.services.wiring import service
from app.store.base import BoardStore, NotFound, WebhookStore
from app.webhooks.destinations import DestinationGuard, DestinationRefused, InvalidWebhookUrl, UnresolvableHost
from app.webhooks.signing import new_secret

MAX_WEBHOOKS_PER_BOARD = 20
MAX_QUEUED_REDELIVERIES = 50


def webhook_not_found() -> NotFoundError:
    return NotFoundError("webhook_not_found", "No such webhook on this board.")


class WebhookServiceStore(BoardStore, WebhookStore, Protocol): ...


@service
class WebhookService:
    _store: WebhookServiceStore
    _guard: DestinationGuard
    _wake: Callable[[], None]

    async def _webhook(self, actor: User, board_id: str, webhook_id: str) -> Webhook:
        await require_role(self._store, board_id, actor.id, Role.ADMIN)
        webhook = await self._store.get_webhook(webhook_id)
        if webhook is None or webhook.board_id != board_id:
            raise webhook_not_found()
        return webhook

    async def _check_url(self, url: str) -> None:
        try:
            await self._guard.resolve(url)
        except InvalidWebhookUrl as error:
            raise InvalidInputError("invalid_webhook_url", str(error)) from None
        except UnresolvableHost as error:
            raise InvalidInputError("webhook_url_unresolvable", f"{error}.") from None
        except DestinationRefused as error:
            raise InvalidInputError(
                "webhook_url_not_allowed", "Webhooks may only call public addresses.", details={"reason": str(error)}
            ) from None

    async def create(
        self, actor: User, board_id: str, url: str, secret: str | None, events: list[str] | None
    ) -> tuple[Webhook, str]:
        """The webhook and its secret (returned this once)."""
        await require_role(self._store, board_id, actor.id, Role.ADMIN)
        await self._check_url(url)
        if len(await self._store.list_webhooks(board_id)) >= MAX_WEBHOOKS_PER_BOARD:
            raise InvalidInputError("too_many_webhooks", f"A board has at most {MAX_WEBHOOKS_PER_BOARD} webhooks.")
        board = await self._store.get_board(board_id)
        if board is None:
            raise board_not_found()
        at, secret = clock.now(), secret or new_secret()
        webhook = Webhook(
            id=new_id(),
            board_id=board_id,
            url=url,
            secret=secret,
            events=events,
            active=True,
            created_by=actor.id,
            created_at=at,
            updated_at=at,
            cursor=board.seq,
        )
        try:
            await self._store.create_webhook(webhook)
        except NotFound:
            raise board_not_found() from None
        return webhook, secret

    async def list(self, actor: User, board_id: str) -> list[Webhook]:
        await require_role(self._store, board_id, actor.id, Role.ADMIN)
        return await self._store.list_webhooks(board_id)

    async def get(self, actor: User, board_id: str, webhook_id: str) -> Webhook:
        return await self._webhook(actor, board_id, webhook_id)

    async def update(self, actor: User, board_id: str, webhook_id: str, changes: dict[str, Any]) -> Webhook:
        """``changes`` holds only the fields the client sent. A new URL, or switching a
        webhook back on, clears its backoff: the pending event is tried again at once."""
        webhook = await self._webhook(actor, board_id, webhook_id)
        updated, reset = dataclasses.replace(webhook), False
        if changes.get("url") not in (None, webhook.url):
            await self._check_url(changes["url"])
            updated.url, reset = changes["url"], True
        if "events" in changes:
            updated.events = changes["events"]
        if changes.get("active") is not None and changes["active"] != webhook.active:
            updated.active, updated.disabled_reason = changes["active"], None
            reset = reset or updated.active
        updated.updated_at = clock.now()
        stored = await self._store.update_webhook(updated, reset)
        if stored is None:
            raise webhook_not_found()
        if reset:
            self._wake()
        return stored

    async def delete(self, actor: User, board_id: str, webhook_id: str) -> None:
        await self._webhook(actor, board_id, webhook_id)
        if not await self._store.delete_webhook(webhook_id):
            raise webhook_not_found()

    async def deliveries(
        self, actor: User, board_id: str, webhook_id: str, before_id: str | None, limit: int
    ) -> tuple[builtins.list[WebhookAttempt], bool]:
        """One page of the delivery log, newest first, and whether an older page follows."""
        await self._webhook(actor, board_id, webhook_id)
        attempts = await self._store.list_webhook_attempts(webhook_id, before_id, limit + 1)
        return attempts[:limit], len(attempts) > limit

    async def redeliver(self, actor: User, board_id: str, webhook_id: str, delivery_id: str) -> WebhookAttempt:
        """Queue one more attempt at a logged delivery; the latest attempt at it is returned."""
        webhook = await self._webhook(actor, board_id, webhook_id)
        attempt = await self._store.get_webhook_attempt(webhook_id, delivery_id)
        if attempt is None:
            raise NotFoundError("delivery_not_found", "No such delivery in this webhook's log.")
        if not webhook.active:
            raise ConflictError("webhook_inactive", "Switch the webhook on (PATCH active: true) first.")
        if not await self._store.queue_webhook_redelivery(webhook_id, attempt.seq, MAX_QUEUED_REDELIVERIES):
            raise ConflictError(
                "too_many_redeliveries",
                f"At most {MAX_QUEUED_REDELIVERIES} redeliveries wait at once; retry when they are done.",
                retry_after=10,
            )
        self._wake()
        return attempt
