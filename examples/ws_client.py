"""A small Taskwire WebSocket client: follows one board's events, forever, without losing one.

It logs in over REST, subscribes with ``since`` (the last seq it saw), reconnects with
exponential backoff and jitter when the connection drops (a restart's 1012, a slow-consumer
4408, a network error), and resumes exactly where it stopped. A ``reset`` means the gap was
too old to replay: a real client refetches the board over REST then; this one says so.
Events name their actor by id; the client shows names, from the board's member list.

It needs ``websockets``, which ``make run`` installs (the ``examples`` extra):

    .venv/bin/python examples/ws_client.py --url http://127.0.0.1:8000 --email you@example.com \\
        --password '...' [--board BOARD_ID] [--count N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import urllib.error
import urllib.request
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

log = logging.getLogger("ws_client")

MAX_BACKOFF_SECONDS = 30.0
UNAUTHORIZED = 4401
EXCERPT_CHARS = 60


def rest(base_url: str, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    request = urllib.request.Request(
        base_url + path, method=method, data=json.dumps(body).encode() if body is not None else None
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


class BoardFollower:
    def __init__(self, base_url: str, email: str, password: str, board: str | None, count: int | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.ws_url = "ws" + self.base_url.removeprefix("http") + "/api/v1/ws"
        self.email, self.password, self.board = email, password, board
        self.remaining = count  # events to show before stopping; None: forever
        self.token: str | None = None
        self.last_seq: int | None = None  # None until the first subscribe: start from now
        self.live = False
        self.names: dict[str, str] = {}  # user id -> name, from the member list and events

    async def login(self) -> None:
        session = await asyncio.to_thread(
            rest, self.base_url, "POST", "/api/v1/auth/login", None, {"email": self.email, "password": self.password}
        )
        self.token = session["access_token"]
        if self.board is None:
            boards = await asyncio.to_thread(rest, self.base_url, "GET", "/api/v1/boards", self.token)
            self.board = boards["items"][0]["id"]
        log.info("logged in as %s, following board %s", session["user"]["name"], self.board)

    async def load_names(self) -> None:
        members = await asyncio.to_thread(
            rest, self.base_url, "GET", f"/api/v1/boards/{self.board}/members", self.token
        )
        self.names.update((member["user_id"], member["name"]) for member in members["items"])

    async def run_forever(self) -> None:
        attempt = 0
        while True:
            self.live = False
            try:
                if self.token is None:
                    await self.login()
                await self.load_names()
                await self.follow()
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                log.warning("connection closed (%s); resuming after seq %s", code, self.last_seq)
                if code == UNAUTHORIZED:
                    self.token = None  # expired: log in again
            except urllib.error.HTTPError as error:
                log.warning("the server answered %s", error.code)
                if error.code == 401:
                    self.token = None  # expired: log in again
            except (OSError, InvalidHandshake, TimeoutError) as error:
                log.warning("cannot reach the server: %s", error)
            # Exponential backoff with full jitter, so that a restarted server is not hit
            # by every client at the same instant; a connection that got live starts over.
            attempt = 1 if self.live else min(attempt + 1, 8)
            await asyncio.sleep(random.uniform(0, min(MAX_BACKOFF_SECONDS, 0.25 * 2**attempt)))

    async def follow(self) -> None:
        async with connect(self.ws_url, open_timeout=10) as socket:
            await socket.send(json.dumps({"type": "auth", "token": self.token}))
            await socket.send(
                json.dumps({"type": "subscribe", "board": self.board, "since": self.last_seq, "id": "follow"})
            )
            async for frame in socket:
                for line in frame.split("\n"):  # the server may pack messages, one per line
                    self.handle(json.loads(line))

    def handle(self, message: dict[str, Any]) -> None:
        match message["type"]:
            case "ready":
                log.info("authenticated")
            case "event":
                self.last_seq = message["seq"]
                data = message["data"]
                if message["event"].startswith("member.") and "user_id" in data:
                    self.names[data["user_id"]] = data["name"]
                actor = self.names.get(message["actor"], message["actor"])  # a former member: their id
                log.info("#%s %s by %s: %s", message["seq"], message["event"], actor, describe(message["event"], data))
                if self.remaining is not None:
                    self.remaining -= 1
                    if self.remaining == 0:
                        raise SystemExit(0)
            case "subscribed":
                self.last_seq = message["seq"]
                self.live = True
                log.info("live from seq %s", message["seq"])
            case "reset":
                self.last_seq = message["seq"]
                log.warning("missed too much to replay: refetch the board over REST (now at seq %s)", message["seq"])
            case "presence":
                self.names.update((user["id"], user["name"]) for user in message["users"])
                log.info("viewing now: %s", ", ".join(user["name"] for user in message["users"]))
            case "unsubscribed":
                raise SystemExit(f"stream ended: {message['reason']}")
            case "error":
                raise SystemExit(f"refused: {message['code']} {message.get('message', '')}")


def describe(event: str, data: dict[str, Any]) -> str:
    """What changed, in a few words: a task's title, a comment's text, a member's name."""
    if event.startswith("comment."):
        body = " ".join(data.get("body", "").split())
        excerpt = body if len(body) <= EXCERPT_CHARS else body[: EXCERPT_CHARS - 1] + "…"
        return f"on task {data.get('task_id')}: {excerpt!r}"
    return str(data.get("title") or data.get("name") or "")


def main() -> None:
    parser = argparse.ArgumentParser(description="Follow one Taskwire board's events.")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--board", help="board id (default: your first board)")
    parser.add_argument("--count", type=int, help="stop after this many events (default: follow forever)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        asyncio.run(BoardFollower(args.url, args.email, args.password, args.board, args.count).run_forever())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
