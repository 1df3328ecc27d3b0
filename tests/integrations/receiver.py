"""A real HTTP server on a loopback port that records every webhook request it gets.

It runs its own event loop in a thread of its own, so that nothing a test does (starting
or killing server processes, blocking waits) can stall it. ``respond`` picks each status;
``delay`` holds each request open, to make overlapping requests visible.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import h11


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int = 0
    started: float = 0.0
    finished: float = 0.0

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def seq(self) -> int:
        return self.payload["seq"]

    @property
    def webhook_id(self) -> str:
        return self.payload["webhook_id"]


@dataclass
class Receiver:
    respond: Callable[[Received], int] = lambda received: 200
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    max_in_flight: dict[str, int] = field(default_factory=dict)
    port: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="webhook-receiver", daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        ).result(5)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def received(self, webhook_id: str, status: int | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.webhook_id == webhook_id and status in (None, r.status)]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"receiver: condition not met in {timeout}s; got {len(self.requests)}"
            await asyncio.sleep(0.02)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while (request := await _read_request(conn, reader)) is not None:
                status = await self._handle(*request)
                body = b"" if status in (204, 304) else b"ok"  # those statuses carry no body
                writer.write(conn.send(h11.Response(status_code=status, headers=[("Content-Length", str(len(body)))])))
                writer.write(conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage()))
                await writer.drain()
                if conn.our_state is h11.MUST_CLOSE:
                    break
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError):
            pass
        finally:
            writer.close()

    async def _handle(self, request: h11.Request, body: bytes) -> int:
        headers = {name.decode().lower(): value.decode() for name, value in request.headers}
        received = Received(headers, body, started=time.monotonic())
        webhook = received.webhook_id
        with self._lock:
            self._in_flight[webhook] = self._in_flight.get(webhook, 0) + 1
            self.max_in_flight[webhook] = max(self.max_in_flight.get(webhook, 0), self._in_flight[webhook])
        try:
            await asyncio.sleep(self.delay)
            received.status = self.respond(received)
        finally:
            received.finished = time.monotonic()
            with self._lock:
                self._in_flight[webhook] -= 1
                self.requests.append(received)
        return received.status


async def _read_request(conn: h11.Connection, reader: asyncio.StreamReader) -> tuple[h11.Request, bytes] | None:
    request, body = None, bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(65536))
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            return request, bytes(body)
        else:  # ConnectionClosed
            return None
