"""Request and response models of the webhook endpoints (see app/api/schemas.py for the
conventions: requests forbid unknown fields, every string is bounded)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.api.schemas import RequestModel, ResponseModel, unique_values

# "task.created", "comment.*", "webhook.disabled": an event type, or every type of a kind.
EventPattern = Annotated[str, StringConstraints(min_length=1, max_length=60,
                                                pattern=r"^[a-z][a-z_]*(\.([a-z][a-z_]*|\*))?$")]


EventPatterns = Annotated[list[EventPattern], Field(min_length=1, max_length=50), AfterValidator(unique_values), Field(
    description='Event types to deliver, or "kind.*" for every type of a kind; omit (or null) for every event.')]
WebhookUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), Field(
    description="http:// or https://; it must resolve to public addresses only.")]
Secret = Annotated[str, StringConstraints(min_length=16, max_length=200, pattern=r"^[\x21-\x7e]+$")]


class WebhookIn(RequestModel):
    url: WebhookUrl
    secret: Secret | None = Field(default=None, description="Signs every delivery; generated when omitted.")
    events: EventPatterns | None = None


class WebhookPatchIn(RequestModel):
    url: WebhookUrl | None = None
    events: EventPatterns | None = None
    active: bool | None = Field(default=None, description="Switching a webhook back on retries at once.")


class WebhookOut(ResponseModel):
    id: str
    board_id: str
    url: str
    events: list[str] | None
    active: bool
    disabled_reason: str | None = Field(description="Why Taskwire switched it off, if it did.")
    last_delivered_seq: int = Field(description="The board seq delivered (or skipped) last; the next goes after it.")
    consecutive_failures: int
    next_attempt_at: str | None
    created_by: str
    created_at: str
    updated_at: str


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="The signing secret: shown this once, never again.")


class WebhookList(ResponseModel):
    items: list[WebhookOut]


class DeliveryOut(ResponseModel):
    id: str
    delivery_id: str = Field(description="The same for every attempt at one event; also the Taskwire-Delivery header.")
    seq: int
    event_type: str
    attempt: int
    manual: bool = Field(description="A redelivery asked for by hand.")
    status_code: int | None
    latency_ms: int
    error: str | None
    response_body: str | None = Field(description="The first 1 KiB of the answer at most.")
    at: str


class DeliveryList(ResponseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class RedeliveryOut(ResponseModel):
    delivery_id: str
    seq: int
    event_type: str
    queued: bool
