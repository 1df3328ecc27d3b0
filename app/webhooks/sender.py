"""One HTTP attempt at one delivery: signed POST, bounded in time, redirects not followed,
at most 1 KiB of the answer kept for the log."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass

import httpx

from app.domain.models import Event
from app.domain.webhooks import Webhook, delivery_id, webhook_payload
from app.jsonutil import dumps
from app.webhooks.destinations import DestinationGuard, DestinationRefused, InvalidWebhookUrl, Target, UnresolvableHost
from app.webhooks.signing import SIGNATURE_HEADER, signature

RESPONSE_KEEP_BYTES = 1024
CONNECT_TIMEOUT_SECONDS = 5.0
USER_AGENT = "Taskwire-Webhooks/1"
# Connections are pooled per checked target (host name and pinned address): a pool keyed
# by address alone would reuse one host's TLS session for another host on the same IP.
MAX_CLIENTS = 64


@dataclass(frozen=True, slots=True)
class SendResult:
    status_code: int | None
    latency_ms: int
    error: str | None
    response_body: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    def __init__(self, guard: DestinationGuard, read_timeout: float, total_timeout: float) -> None:
        self._guard = guard
        self._timeout = httpx.Timeout(read_timeout, connect=min(CONNECT_TIMEOUT_SECONDS, read_timeout))
        self._total_timeout = total_timeout
        self._clients: OrderedDict[tuple[str, str, int, str], httpx.AsyncClient] = OrderedDict()

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), OrderedDict()
        for client in clients:
            await client.aclose()

    async def send(self, webhook: Webhook, event: Event) -> SendResult:
        body = dumps(webhook_payload(webhook.id, event)).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            # Raw bytes are what we keep: a compressed answer would need inflating first.
            "Accept-Encoding": "identity",
            "Taskwire-Event": event.type,
            "Taskwire-Delivery": delivery_id(webhook.id, event.seq),
            SIGNATURE_HEADER: signature(webhook.secret, body, int(time.time())),
        }
        started = time.perf_counter()
        status, error, kept = None, None, None
        try:
            # The whole attempt is bounded, not each read: a receiver that trickles its
            # answer must not outlive the lease that makes this instance the only sender.
            async with asyncio.timeout(self._total_timeout):
                status, kept = await self._post(webhook.url, headers, body)
        except TimeoutError:
            error = f"timed out after {self._total_timeout:g} s"
        except (DestinationRefused, UnresolvableHost, InvalidWebhookUrl) as refused:
            error = f"destination refused: {refused}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:300] or type(failure).__name__
        latency_ms = round((time.perf_counter() - started) * 1000)
        return SendResult(status, latency_ms, error, kept)

    async def _post(self, url: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        target = await self._guard.resolve(url)  # again at every attempt: DNS may have changed
        client = await self._client(target)
        request = client.build_request(
            "POST",
            target.pinned_url,
            headers={**headers, "Host": target.host_header},
            content=body,
            extensions={"sni_hostname": target.host},
        )
        response = await client.send(request, stream=True)
        try:
            kept = bytearray()
            async for chunk in response.aiter_raw():
                kept += chunk
                if len(kept) >= RESPONSE_KEEP_BYTES:
                    break
        finally:
            await response.aclose()
        return response.status_code, bytes(kept[:RESPONSE_KEEP_BYTES]).decode("utf-8", errors="replace")

    async def _client(self, target: Target) -> httpx.AsyncClient:
        key = (target.url.scheme, target.host, target.port, str(target.address))
        client = self._clients.pop(key, None)
        if client is None:
            # trust_env off: an HTTP(S)_PROXY from the environment would connect for us,
            # to whatever address it resolves, undoing the destination check.
            client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False, trust_env=False)
            if len(self._clients) >= MAX_CLIENTS:
                _, oldest = self._clients.popitem(last=False)
                await oldest.aclose()
        self._clients[key] = client
        return client
