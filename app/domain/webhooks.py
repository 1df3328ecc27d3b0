"""Webhook records (their public JSON shapes are derived from them).

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

from app.domain.ids import new_id_after
from app.domain.models import Event
from app.domain.shape import field, record
from app.domain.views import event_view, record_view

_last_attempt_id = ""
_attempt_id_lock = threading.Lock()


@record
class Webhook:
    id: str
    board_id: str
    url: str
    secret: str = field(view=None)  # kept in clear: every delivery is signed with it
    events: list[str] | None  # event types or "prefix.*" patterns; None: every event
    active: bool
    disabled_reason: str | None = field(default=None, kw_only=True, doc="Why Taskwire switched it off, if it did.")
    cursor: int = field(
        default=0,
        kw_only=True,
        view="last_delivered_seq",
        doc="The board seq delivered (or skipped) last; the next goes after it.",
    )
    # Consecutive failed attempts at the event after cursor.
    failures: int = field(default=0, kw_only=True, view="consecutive_failures")
    next_attempt_at: str | None = field(default=None, kw_only=True)
    created_by: str
    created_at: str
    updated_at: str
    # Seqs queued by hand, oldest first.
    redeliveries: list[int] = field(default_factory=list, kw_only=True, view=None)
    lease_owner: str | None = field(default=None, kw_only=True, view=None)
    lease_until: str | None = field(default=None, kw_only=True, view=None)


@record
class WebhookAttempt:
    """One row of a webhook's delivery log: one HTTP attempt at one event."""

    id: str  # time-ordered: id order is attempt order
    webhook_id: str = field(view=None)
    board_id: str = field(view=None)
    # Receivers deduplicate on it.
    delivery_id: str = field(doc="The same for every attempt at one event; also the Taskwire-Delivery header.")
    seq: int
    event_type: str
    attempt: int
    manual: bool = field(doc="A redelivery asked for by hand.")
    status_code: int | None  # None: no HTTP response (refused, unreachable, timed out)
    latency_ms: int
    error: str | None
    response_body: str | None = field(doc="The first 1 KiB of the answer at most.")
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
        _last_attempt_id = new_id_after(_last_attempt_id)
        return _last_attempt_id


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


webhook_view = record_view(Webhook)  # never the secret, nor the lease
attempt_view = record_view(WebhookAttempt)


def webhook_payload(webhook_id: str, event: Event) -> dict[str, Any]:
    """The body of a delivery: the event as the contract has it, plus who it is for."""
    return {**event_view(event), "webhook_id": webhook_id, "delivery_id": delivery_id(webhook_id, event.seq)}
