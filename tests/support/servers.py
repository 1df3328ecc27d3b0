"""Real Taskwire server processes: ``python -m app serve`` (Hypercorn with hypercorn.toml)
on a free loopback port, configured through TASKWIRE_* variables and PORT exactly like a
deployment. Used by the multi-instance WebSocket tests and bench/fanout.py.

``stop()`` sends SIGTERM (the graceful path: sockets closed with 1012), ``kill()`` sends
SIGKILL (the crash path); ``start()`` starts the instance again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.services import REPO_ROOT, free_port

SECRET = "process-test-secret-key-that-is-long-enough-0123456789"

# Many accounts and requests come from 127.0.0.1 in tests and benchmarks: limits are
# lifted and argon2 is cheap, knowingly, so that neither is what gets measured.
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
class AppServer:
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = field(default=None, repr=False)
    serve_args: tuple[str, ...] = ()  # e.g. ("--config", path)

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

    def start(self, timeout: float = 30.0) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", *self.serve_args],
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until /readyz answers 200 (store and broker reachable)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(self.url + "/readyz", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"{self.url} not ready within {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not stop in time (then None). The exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            return None

    def kill(self) -> None:
        """kill -9: no shutdown code runs, sockets drop without a close frame."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def server_env(
    database_url: str, redis_url: str, data_dir: Path, port: int, extra: dict[str, str] | None = None
) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("TASKWIRE_")}
    return {
        **inherited,
        **BASE_ENV,
        "TASKWIRE_DATABASE_URL": database_url,
        "TASKWIRE_REDIS_URL": redis_url,
        "TASKWIRE_DATA_DIR": str(data_dir),
        "PORT": str(port),
        **(extra or {}),
    }


@contextlib.contextmanager
def app_servers(
    count: int,
    database_url: str,
    redis_url: str,
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    stop_timeout: float = 3.0,
) -> Iterator[list[AppServer]]:
    """``count`` instances sharing one store and one broker; all stopped on exit (SIGTERM,
    then SIGKILL after ``stop_timeout``: test runs need not wait out Hypercorn's pings)."""
    servers: list[AppServer] = []
    try:
        for number in range(count):
            port = free_port()
            data_dir = workdir / f"instance{number}"
            data_dir.mkdir(parents=True, exist_ok=True)
            server = AppServer(
                port, server_env(database_url, redis_url, data_dir, port, extra_env), workdir / f"instance{number}.log"
            )
            servers.append(server)
            server.start()
        yield servers
    finally:
        for server in servers:
            with contextlib.suppress(Exception):
                server.stop(stop_timeout)


async def trickle(body: bytes, piece: int = 64 * 1024, pause: float = 0.005) -> AsyncIterator[bytes]:
    """``body`` in pieces with a pause between them, as a client on a slower link sends it:
    still sending when a server answers on the request's head alone."""
    for start in range(0, len(body), piece):
        yield body[start : start + piece]
        await asyncio.sleep(pause)
