"""A small Taskwire Server-Sent Events client, standard library only: follows one board's
events over plain HTTP (for networks whose proxies break WebSockets), forever, without
losing one.

It authenticates with a personal API token (a ``read`` one is enough), prints each event as
one JSON line on stdout, and when the stream ends or the connection drops it reconnects
after the server's ``retry:`` delay with ``Last-Event-ID`` = the last seq it saw, so the
server replays exactly what it missed. A ``reset`` means the gap was too old to replay: a
real client refetches the board over REST then; this one says so on stderr.

    python examples/sse_client.py --url http://127.0.0.1:8000 --token twp_... --board BOARD_ID \\
        [--after SEQ] [--count N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

DEFAULT_RETRY_SECONDS = 2.0
# Longer than the server's keep-alive comments (15 s by default): silence this long means
# the connection is dead even if TCP has not noticed.
READ_TIMEOUT_SECONDS = 45.0


class StreamEnded(Exception):
    """The server ended the stream for good (removed from the board, token revoked...)."""


def messages(response) -> Iterator[dict[str, str]]:
    """SSE messages as dicts of their fields (``data`` lines joined), comments skipped."""
    fields: dict[str, str] = {}
    for raw in response:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if "data" in fields or "retry" in fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            fields[name] = f"{fields[name]}\n{value}" if name == "data" and "data" in fields else value


def follow(url: str, token: str, board: str, after: int | None, count: int | None) -> None:
    last_id = None if after is None else str(after)
    retry = DEFAULT_RETRY_SECONDS
    printed = 0
    while count is None or printed < count:
        request = urllib.request.Request(
            f"{url}/api/v1/boards/{board}/events/stream",
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "text/event-stream",
                **({"Last-Event-ID": last_id} if last_id is not None else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=READ_TIMEOUT_SECONDS) as response:
                for message in messages(response):
                    if "retry" in message:
                        retry = int(message["retry"]) / 1000
                    if "id" in message:
                        last_id = message["id"]
                    if "data" not in message:
                        continue
                    kind = message.get("event", "message")
                    data = json.loads(message["data"])
                    if kind == "message":
                        print(json.dumps(data), flush=True)
                        printed += 1
                        if count is not None and printed >= count:
                            return
                    elif kind == "reset":
                        print(f"gap too old to replay: refetch the board (now at seq {data['seq']})", file=sys.stderr)
                    elif kind in ("unsubscribed", "error") and data.get("code") != "unavailable":
                        raise StreamEnded(message["data"])
        except urllib.error.HTTPError as error:
            if error.code in (401, 403, 404):
                raise StreamEnded(f"{error.code}: {error.read().decode(errors='replace')}") from None
            print(f"HTTP {error.code}; reconnecting in {retry:.1f}s", file=sys.stderr)
        except (OSError, urllib.error.URLError) as error:
            print(f"connection lost ({error}); reconnecting in {retry:.1f}s", file=sys.stderr)
        time.sleep(retry)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="a personal API token (twp_...) or an access token")
    parser.add_argument("--board", required=True)
    parser.add_argument("--after", type=int, help="start after this seq (default: with the next event)")
    parser.add_argument("--count", type=int, help="stop after this many events (default: never)")
    args = parser.parse_args()
    try:
        follow(args.url.rstrip("/"), args.token, args.board, args.after, args.count)
    except StreamEnded as ended:
        print(f"the server ended the stream: {ended}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
