"""A real Taskwire server process for the dashboard tests: `python -m app serve` on a free
port, its own SQLite file, the in-process broker, cheap argon2; ready once /readyz says so."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.services import free_port, stop_process

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "dashboard-tests-secret-key-0123456789abcdefghijk"  # 48 characters
READY_TIMEOUT_SECONDS = 30.0
START_ATTEMPTS = 3


@dataclass
class ServerProcess:
    url: str
    proc: subprocess.Popen
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


class ServerExited(RuntimeError):
    """The process ended before it was ready (e.g. its free port was taken meanwhile)."""


def _wait_ready(url: str, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerExited(f"server exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(f"{url}/readyz", timeout=1) as response,
        ):
            # Ours only if our process is still alive: another one may have the port.
            if response.status == 200 and proc.poll() is None:
                return
        time.sleep(0.1)
    raise TimeoutError(f"server not ready within {READY_TIMEOUT_SECONDS}s:\n{log_path.read_text(errors='replace')}")


def _start(data_dir: Path, settings: dict[str, str], port: int | None) -> ServerProcess:
    port = port or free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "TASKWIRE_DATA_DIR": str(data_dir),
        "TASKWIRE_DATABASE_URL": f"sqlite:///{data_dir / 't.db'}",
        "TASKWIRE_REDIS_URL": "",
        "TASKWIRE_ARGON2_TIME_COST": "1",
        "TASKWIRE_ARGON2_MEMORY_KIB": "1024",
        "TASKWIRE_SECRET_KEY": SECRET_KEY,
        **{f"TASKWIRE_{name}": value for name, value in settings.items()},
    }
    log_path = data_dir / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, log_path)
    except BaseException:
        stop_process(proc)
        raise
    return ServerProcess(url, proc, log_path)


@contextlib.contextmanager
def dashboard_server(data_dir: Path, port: int | None = None, **settings: str) -> Iterator[ServerProcess]:
    """`settings`: extra TASKWIRE_* variables, e.g. REPLAY_LIMIT="2". `port`: the one to take
    (a restarted server keeps its origin, and so the browser's service worker and storage)."""
    for attempt in range(START_ATTEMPTS):
        try:
            server = _start(data_dir, settings, port)
            break
        except ServerExited:
            # Other suites pick free ports too: between our pick and our bind, one may win.
            if attempt == START_ATTEMPTS - 1:
                raise
    try:
        yield server
    finally:
        stop_process(server.proc)
