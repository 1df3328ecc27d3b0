"""Helpers over tests/support/servers.py for the reliability suite and bench/soak.py: real
``python -m app serve`` processes, their RSS from /proc, and blocking JSON calls for setup
code that runs outside an event loop (schemathesis is synchronous)."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.servers import AppServer, app_servers


@contextlib.contextmanager
def running(
    workdir: Path, count: int = 1, database_url: str = "", redis_url: str = "", env: dict[str, str] | None = None
) -> Iterator[list[AppServer]]:
    """``count`` instances sharing one store (by default a SQLite file in ``workdir``) and
    one broker (by default each its own in-process one: only sensible with count=1)."""
    url = database_url or f"sqlite:///{workdir / 'taskwire.db'}"
    with app_servers(count, url, redis_url, workdir, extra_env=env) as servers:
        yield servers


def alive(server: AppServer) -> bool:
    return server.proc is not None and server.proc.poll() is None


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def http(method: str, url: str, token: str | None = None, body: Any = None, timeout: float = 10.0) -> tuple[int, Any]:
    """One blocking JSON call."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw) if raw else None
        except ValueError:
            return error.code, raw.decode(errors="replace")
