"""Every operator-facing figure as a Prometheus metric, defined once here.

Metrics live in prometheus_client's process registry: one process is one instance, which
is what a Prometheus scrape of /metrics expects.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

HTTP_REQUESTS = Counter("taskwire_http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "taskwire_http_request_duration_seconds",
    "HTTP request latency by route and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
WS_CONNECTIONS = Gauge("taskwire_ws_connections", "Open WebSocket connections on this instance.")
SSE_STREAMS = Gauge("taskwire_sse_streams", "Open Server-Sent Events streams on this instance.")
EVENTS_PUBLISHED = Counter("taskwire_events_published_total", "Events published to the broker.")
EVENTS_PUBLISH_FAILURES = Counter(
    "taskwire_events_publish_failures_total", "Events committed but not published (subscribers catch up from the log)."
)
EVENTS_DELIVERED = Counter("taskwire_events_delivered_total", "Event messages queued to local WebSocket clients.")
WS_SLOW_CONSUMERS = Counter(
    "taskwire_ws_slow_consumer_closes_total", "Connections closed with 4408 because their send queue was full."
)
BROKER_RECONNECTS = Gauge("taskwire_broker_reconnects", "Times the broker connection was rebuilt since start.")
STORE_LATENCY = Histogram(
    "taskwire_store_operation_duration_seconds",
    "Store call latency by operation.",
    ["operation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
STORE_ERRORS = Counter("taskwire_store_errors_total", "Store calls that raised StoreUnavailable.", ["operation"])
RATE_LIMITED = Counter("taskwire_rate_limited_total", "Requests or messages refused by a rate limit.", ["scope"])
CACHE_REQUESTS = Counter("taskwire_cache_requests_total", "Read-cache lookups by result.", ["result"])
WEBHOOK_ATTEMPTS = Counter("taskwire_webhook_attempts_total", "Webhook HTTP attempts by outcome.", ["outcome"])
WEBHOOKS_DISABLED = Counter("taskwire_webhooks_disabled_total", "Webhooks switched off after repeated failure.")
MAIL_ATTEMPTS = Counter(
    "taskwire_mail_attempts_total", "Email attempts by outcome (sent, retry, failed, cancelled).", ["outcome"]
)


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
