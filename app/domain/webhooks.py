"""Webhook records and their public JSON shapes.

A webhook follows one board's event log: ``cursor`` is the seq of the last event it has
delivered (or skipped, when ``events`` does not want its type), so delivery resumes
exactly there whichever instance picks it up. ``lease_owner``/``lease_until`` say which
instance delivers it right now; ``failures`` and ``next_attempt_at`` are the retry state
of the event after ``cursor``.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from app.domain.ids import new_id
from app.domain.models import Event
from app.domain.views import event_view

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_last_attempt_id = ""
_attempt_id_lock = threading.Lock()


@dataclasses.dataclass(slots=True)
class Webhook:
    id: str
    board_id: str
    url: str
    secret: str  # kept in clear: every delivery is signed with it
    events: list[str] | None  # event types or "prefix.*" patterns; None: every event
    active: bool
    created_by: str
    created_at: str
    updated_at: str
    cursor: int = 0
    failures: int = 0  # consecutive failed attempts at the event after cursor
    next_attempt_at: str | None = None
    disabled_reason: str | None = None
    redeliveries: list[int] = dataclasses.field(default_factory=list)  # seqs queued by hand, oldest first
    lease_owner: str | None = None
    lease_until: str | None = None


@dataclasses.dataclass(slots=True)
class WebhookAttempt:
    """One row of a webhook's delivery log: one HTTP attempt at one event."""

    id: str  # time-ordered: id order is attempt order
    webhook_id: str
    board_id: str
    delivery_id: str  # the same for every attempt at one event (receivers deduplicate on it)
    seq: int
    event_type: str
    attempt: int
    manual: bool  # a redelivery asked for by hand
    status_code: int | None  # None: no HTTP response (refused, unreachable, timed out)
    latency_ms: int
    error: str | None
    response_body: str | None  # the first 1 KiB at most
    at: str


@dataclasses.dataclass(slots=True)
class WebhookProgress:
    """What the delivering instance writes back after an attempt (or a skipped event)."""

    cursor: int
    failures: int
    next_attempt_at: str | None


def next_attempt_id() -> str:
    """An id above every one this process made before. Plain ids made within one
    millisecond are not ordered, and the delivery log is read in id order; one webhook is
    delivered by one process at a time, so ordering within the process is enough."""
    global _last_attempt_id
    with _attempt_id_lock:
        candidate = new_id()
        if candidate <= _last_attempt_id:
            value = 0
            for char in _last_attempt_id:
                value = value * 32 + _ALPHABET.index(char)
            value += 1
            candidate = "".join(_ALPHABET[(value >> (5 * shift)) & 31] for shift in reversed(range(26)))
        _last_attempt_id = candidate
        return candidate


def delivery_id(webhook_id: str, seq: int) -> str:
    """Stable across attempts, instances and restarts, so a receiver can deduplicate."""
    return f"{webhook_id}-{seq}"


def wants_event(webhook: Webhook, event_type: str) -> bool:
    if webhook.events is None:
        return True
    for pattern in webhook.events:
        if pattern == event_type or (pattern.endswith(".*") and event_type.startswith(pattern[:-1])):
            return True
    return False


def webhook_view(webhook: Webhook) -> dict[str, Any]:
    """The public shape; never the secret."""
    return {
        "id": webhook.id,
        "board_id": webhook.board_id,
        "url": webhook.url,
        "events": None if webhook.events is None else list(webhook.events),
        "active": webhook.active,
        "disabled_reason": webhook.disabled_reason,
        "last_delivered_seq": webhook.cursor,
        "consecutive_failures": webhook.failures,
        "next_attempt_at": webhook.next_attempt_at,
        "created_by": webhook.created_by,
        "created_at": webhook.created_at,
        "updated_at": webhook.updated_at,
    }


def attempt_view(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "delivery_id": attempt.delivery_id,
        "seq": attempt.seq,
        "event_type": attempt.event_type,
        "attempt": attempt.attempt,
        "manual": attempt.manual,
        "status_code": attempt.status_code,
        "latency_ms": attempt.latency_ms,
        "error": attempt.error,
        "response_body": attempt.response_body,
        "at": attempt.at,
    }


def webhook_payload(webhook_id: str, event: Event) -> dict[str, Any]:
    """The body of a delivery: the event as the contract has it, plus who it is for."""
    return {**event_view(event), "webhook_id": webhook_id, "delivery_id": delivery_id(webhook_id, event.seq)}
