"""Start and stop the real services the suite needs: redis-server and mongoeco's wire server.

Each runs as a child process on a free loopback port and is stopped after the session.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on port {port} within {timeout}s")


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@dataclass
class RedisServer:
    port: int
    proc: subprocess.Popen
    workdir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        stop_process(self.proc)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(5)

    def restart(self) -> None:
        """Start again on the same port, e.g. after ``stop`` in a fault test."""
        self.stop()
        self.proc = spawn_redis_server(self.port, self.workdir)
        wait_for_port(self.port, proc=self.proc)


def spawn_redis_server(port: int, workdir: Path, *extra_args: str) -> subprocess.Popen:
    """A throwaway redis-server on loopback: no persistence, quiet; ``extra_args`` add a
    role (replica, cluster node) on top of these."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    return subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--loglevel",
            "warning",
            *extra_args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    workdir = Path(tempfile.mkdtemp(prefix="taskwire-redis-"))
    port = free_port()
    proc = spawn_redis_server(port, workdir)
    server = RedisServer(port=port, proc=proc, workdir=workdir)
    try:
        wait_for_port(port, proc=proc)
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class MongoWireServer:
    port: int
    proc: subprocess.Popen

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"


@contextlib.contextmanager
def mongo_wire_server() -> Iterator[MongoWireServer]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.mongo_wire"],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("PORT "):
            raise RuntimeError(f"mongoeco wire server did not start: {line!r}")
        server = MongoWireServer(port=int(line.split()[1]), proc=proc)
        wait_for_port(server.port, proc=proc)
        yield server
    finally:
        stop_process(proc)
