"""Real Taskwire server processes for the reliability suite and bench/soak.py.

Each instance is ``python -m app serve`` (Hypercorn with the repository's hypercorn.toml)
on a free loopback port, so timeouts, close codes, ``kill -9`` and RSS are exactly what
production sees. Its log goes to a file beside its data, read back when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from tests.support.services import REPO_ROOT, free_port, stop_process

SECRET = "reliability-secret-key-that-is-long-enough-0123456789"

# Tests register many accounts and send many requests from 127.0.0.1: the limits are
# lifted unless a test sets its own. Argon2 is cheap so that registering is not the test.
BASE_ENV = {
    "TASKWIRE_SECRET_KEY": SECRET,
    "TASKWIRE_ARGON2_TIME_COST": "1",
    "TASKWIRE_ARGON2_MEMORY_KIB": "1024",
    "TASKWIRE_RATE_LIMIT_AUTH": "1000000",
    "TASKWIRE_RATE_LIMIT_API": "10000000",
    "TASKWIRE_RATE_LIMIT_WS": "10000000",
    "TASKWIRE_LOG_LEVEL": "WARNING",
    "PYTHONUNBUFFERED": "1",
}


@dataclass
class Instance:
    """One server process; ``restart`` brings it back on the same port and data."""

    port: int
    data_dir: Path
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/ws"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 20.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **BASE_ENV, **self.env, "PORT": str(self.port),
               "TASKWIRE_DATA_DIR": str(self.data_dir)}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "app", "serve"], cwd=REPO_ROOT, env=env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            time.sleep(0.05)
        raise TimeoutError(f"server on {self.port} not ready within {timeout}s:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """``kill -9``: no shutdown hook runs, sockets are cut mid-stream."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout=15)

    def restart(self) -> None:
        self.stop()
        self.start()

    def rss_kib(self) -> int:
        """Resident set size from /proc, in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS line")

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def log_text(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""


@contextlib.contextmanager
def running(data_dir: Path, env: dict[str, str] | None = None, count: int = 1) -> Iterator[list[Instance]]:
    """``count`` instances sharing one data dir (and so one SQLite file unless ``env``
    names another store); all stopped on exit."""
    instances = [Instance(free_port(), data_dir, dict(env or {})) for _ in range(count)]
    try:
        for instance in instances:
            instance.start()
        yield instances
    finally:
        for instance in instances:
            instance.stop()


def http(method: str, url: str, token: str | None = None, body: Any = None,
         timeout: float = 10.0) -> tuple[int, Any]:
    """One blocking JSON call (for setup code outside an event loop)."""
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
