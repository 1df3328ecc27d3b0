"""Request and response models of the webhook endpoints (see app/api/schemas.py for the
conventions: requests forbid unknown fields, every string is bounded)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.api.schemas import RequestModel, ResponseModel, unique_values, view_of
from app.domain.webhooks import Webhook, WebhookAttempt

# "task.created", "comment.*", "webhook.disabled": an event type, or every type of a kind.
EventPattern = Annotated[
    str, StringConstraints(min_length=1, max_length=60, pattern=r"^[a-z][a-z_]*(\.([a-z][a-z_]*|\*))?$")
]


EventPatterns = Annotated[
    list[EventPattern],
    Field(min_length=1, max_length=50),
    AfterValidator(unique_values),
    Field(description='Event types to deliver, or "kind.*" for every type of a kind; omit (or null) for every event.'),
]
WebhookUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    Field(description="http:// or https://; it must resolve to public addresses only."),
]
Secret = Annotated[str, StringConstraints(min_length=16, max_length=200, pattern=r"^[\x21-\x7e]+$")]


class WebhookIn(RequestModel):
    url: WebhookUrl
    secret: Secret | None = Field(default=None, description="Signs every delivery; generated when omitted.")
    events: EventPatterns | None = None


class WebhookPatchIn(RequestModel):
    url: WebhookUrl | None = None
    events: EventPatterns | None = None
    active: bool | None = Field(default=None, description="Switching a webhook back on retries at once.")


@view_of(Webhook)
class WebhookOut(ResponseModel):
    pass


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="The signing secret: shown this once, never again.")


class WebhookList(ResponseModel):
    items: list[WebhookOut]


@view_of(WebhookAttempt)
class DeliveryOut(ResponseModel):
    pass


class DeliveryList(ResponseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class RedeliveryOut(ResponseModel):
    delivery_id: str
    seq: int
    event_type: str
    queued: bool
