"""A Server-Sent Events client over a real socket (httpx streaming), reading the stream the
way EventSource does: ``id:``, ``event:`` and ``data:`` fields, a blank line ends a
message, lines starting with ``:`` are comments."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import httpx


@dataclasses.dataclass(frozen=True)
class SseMessage:
    event: str  # "message" when the stream named none, as in EventSource
    data: Any
    id: str | None


class SseStream:
    def __init__(self, response: httpx.Response, client: httpx.AsyncClient) -> None:
        self.response = response
        self._client = client
        self._lines = response.aiter_lines()
        self.comments: list[str] = []
        self.retry_ms: int | None = None
        self.last_event_id: str | None = None

    @classmethod
    async def open(
        cls,
        base_url: str,
        board: str,
        token: str | None,
        last_event_id: str | None = None,
        after: int | None = None,
        ticket: str | None = None,
    ) -> SseStream:
        """With ``token`` None, the stream ticket authenticates, as a browser's EventSource does."""
        client = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10, read=None))
        headers = {"Accept": "text/event-stream"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        params: dict[str, str | int] = {"after": after} if after is not None else {}
        if ticket is not None:
            params["ticket"] = ticket
        request = client.build_request("GET", f"/api/v1/boards/{board}/events/stream", headers=headers, params=params)
        response = await client.send(request, stream=True)
        return cls(response, client)

    async def next(self, timeout: float = 5.0) -> SseMessage | None:
        """The next message; None when the server ended the stream."""
        return await asyncio.wait_for(self._next(), timeout)

    async def until(self, event: str, timeout: float = 5.0) -> list[SseMessage]:
        """Messages up to and including the first named ``event``."""
        seen: list[SseMessage] = []
        while True:
            message = await self.next(timeout)
            assert message is not None, f"the stream ended before {event!r}; got {seen}"
            seen.append(message)
            if message.event == event:
                return seen

    async def events(self, count: int, timeout: float = 5.0) -> list[SseMessage]:
        """The next ``count`` board events; presence messages on the way are skipped."""
        got: list[SseMessage] = []
        while len(got) < count:
            message = await self.next(timeout)
            assert message is not None and message.event in ("message", "presence"), (message, got)
            if message.event == "message":
                got.append(message)
        return got

    async def close(self) -> None:
        await self.response.aclose()
        await self._client.aclose()

    async def _next(self) -> SseMessage | None:
        fields: dict[str, list[str]] = {}
        async for line in self._lines:
            if line == "":
                if "data" in fields:
                    message = SseMessage(
                        fields.get("event", ["message"])[-1],
                        json.loads("\n".join(fields["data"])),
                        fields["id"][-1] if "id" in fields else None,
                    )
                    if message.id is not None:
                        self.last_event_id = message.id
                    return message
                fields.clear()
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "retry":
                self.retry_ms = int(value)
            else:
                fields.setdefault(name, []).append(value)
        return None
