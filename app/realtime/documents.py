"""The shared description documents on this instance's sockets: which sockets opened which
task's document, the broker channel that brings its updates from every instance (one
subscription per document while a local socket has it open), and the hand-over of what
arrives to those sockets, never back to the socket that sent it.

A socket is registered before its document is read (so no update falls between the read
and the registration) but hears nothing until its access is checked and ``doc.opened``
is queued: what arrives meanwhile is held, then sent after it. A document is open on a
socket only while that socket follows the document's board; when the board subscription
ends (removed from the board, the board deleted, unsubscribed), the documents close too.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from app.broker.base import BrokerUnavailable, PubSub
from app.jsonutil import dumps, loads
from app.realtime.channels import document_channel
from app.realtime.connection import Connection
from app.realtime.protocol import Outbound

log = logging.getLogger(__name__)

MAX_DOCUMENTS_PER_CONNECTION = 8
# Held for a socket whose access is still being checked; past this it is told to resync.
MAX_HELD_MESSAGES = 256


@dataclasses.dataclass(slots=True)
class _Opened:
    board_id: str | None = None  # None while access is being checked
    held: list[Outbound] | None = dataclasses.field(default_factory=list)
    overflowed: bool = False


class DocumentRelay:
    def __init__(self, broker: PubSub, instance: str, spawn: Callable[[Awaitable[Any]], asyncio.Task[Any]]) -> None:
        self._broker = broker
        self._instance = instance
        self._spawn = spawn
        self._sockets: dict[str, dict[Connection, _Opened]] = {}  # by task id
        self._subscribed: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        # Told of every update another instance took (task id, actor id, the update).
        self.on_remote_update: Callable[[str, str, bytes], None] | None = None

    def origin(self, conn: Connection) -> str:
        """Names the socket in the messages it causes, so that it is not sent its own."""
        return f"{self._instance}:{conn.number}"

    def open_count(self, conn: Connection) -> int:
        return sum(1 for sockets in self._sockets.values() if conn in sockets)

    def is_open(self, conn: Connection, task_id: str) -> bool:
        opened = self._sockets.get(task_id, {}).get(conn)
        return opened is not None and opened.board_id is not None

    async def register(self, conn: Connection, task_id: str) -> None:
        """Start holding the document's messages for ``conn`` (access not yet checked)."""
        self._sockets.setdefault(task_id, {})[conn] = _Opened()
        await self._sync_broker(task_id)

    def activate(self, conn: Connection, task_id: str, board_id: str, opened_message: str) -> None:
        """Access is checked: send ``doc.opened``, then what was held."""
        opened = self._sockets.get(task_id, {}).get(conn)
        if opened is None:
            return  # closed meanwhile
        held, opened.held, opened.board_id = opened.held or [], None, board_id
        conn.push(opened_message)
        if opened.overflowed:
            conn.push(resync_message(task_id))
        for message in held:
            conn.push(message)

    def close(self, conn: Connection, task_id: str) -> bool:
        sockets = self._sockets.get(task_id)
        if sockets is None or sockets.pop(conn, None) is None:
            return False
        if not sockets:
            del self._sockets[task_id]
            self._spawn(self._sync_broker(task_id))
        return True

    def close_board(self, conn: Connection, board_id: str, reason: str) -> None:
        """The socket no longer follows ``board_id``: close its documents of that board."""
        for task_id, sockets in list(self._sockets.items()):
            opened = sockets.get(conn)
            if opened is not None and opened.board_id == board_id and self.close(conn, task_id):
                conn.push(closed_message(task_id, reason))

    def drop(self, conn: Connection) -> None:
        for task_id in [task_id for task_id, sockets in self._sockets.items() if conn in sockets]:
            self.close(conn, task_id)

    def route(self, task_id: str, text: str) -> None:
        sockets = self._sockets.get(task_id)
        message: Any = loads(text)
        if not isinstance(message, dict) or message.get("type") not in ("doc.update", "doc.awareness"):
            return
        origin = message.pop("origin", None)
        actor = message.get("actor")
        if (
            message["type"] == "doc.update"
            and isinstance(origin, str)
            and not origin.startswith(self._instance + ":")
            and isinstance(actor, str)
            and isinstance(update := message.get("update"), str)
            and self.on_remote_update is not None
        ):
            self.on_remote_update(task_id, actor, base64.b64decode(update))
        if not sockets:
            return
        outbound = Outbound(dumps(message), message["type"])
        for conn, opened in list(sockets.items()):
            if origin == self.origin(conn):
                continue
            if opened.held is None:
                conn.push(outbound)
            elif len(opened.held) < MAX_HELD_MESSAGES:
                opened.held.append(outbound)
            else:
                opened.overflowed = True

    def resync_all(self) -> None:
        """The broker reconnected: updates sent meanwhile reached no socket here. Each
        client opens its documents again with its state vector and gets what it lacks."""
        for task_id, sockets in self._sockets.items():
            for conn, opened in sockets.items():
                if opened.held is None:
                    conn.push(resync_message(task_id))
                else:
                    opened.overflowed = True

    async def _sync_broker(self, task_id: str) -> None:
        """Subscribe on the first socket, unsubscribe after the last; serialised per document."""
        lock = self._locks.setdefault(task_id, asyncio.Lock())
        async with lock:
            wanted = bool(self._sockets.get(task_id))
            channel = document_channel(task_id)
            if wanted and task_id not in self._subscribed:
                await self._broker.subscribe(channel)
                self._subscribed.add(task_id)
            elif not wanted and task_id in self._subscribed:
                self._subscribed.discard(task_id)
                try:
                    await self._broker.unsubscribe(channel)
                except BrokerUnavailable:
                    pass  # what still arrives finds no socket and is dropped
        if not self._sockets.get(task_id) and not lock.locked():
            self._locks.pop(task_id, None)


def resync_message(task_id: str) -> str:
    return dumps({"type": "doc.resync", "task": task_id})


def closed_message(task_id: str, reason: str, request_id: str | int | None = None) -> str:
    message: dict[str, Any] = {"type": "doc.closed", "task": task_id, "reason": reason}
    if request_id is not None:
        message["id"] = request_id
    return dumps(message)
