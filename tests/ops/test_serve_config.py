"""``python -m app serve`` runs what the Hypercorn config says: its event loop, and one
worker per process (anything else is refused at start, not ignored)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import AppServer, server_env
from tests.support.services import REPO_ROOT, free_port

_BASE_CONFIG = (REPO_ROOT / "hypercorn.toml").read_text()


def _config(tmp_path: Path, **overrides: object) -> Path:
    lines = [line for line in _BASE_CONFIG.splitlines() if line.split("=")[0].strip() not in overrides]
    lines += [f"{name} = {value!r}".replace("'", '"') for name, value in overrides.items()]
    path = tmp_path / "hypercorn.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _loaded_libraries(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.processes
@pytest.mark.parametrize("worker_class", ["uvloop", "asyncio"])
def test_the_event_loop_the_config_names_is_the_one_that_runs(tmp_path: Path, worker_class: str) -> None:
    port = free_port()
    server = AppServer(
        port,
        server_env(f"sqlite:///{tmp_path / 'taskwire.db'}", "", tmp_path, port),
        tmp_path / "server.log",
        serve_args=("--config", str(_config(tmp_path, worker_class=worker_class))),
    )
    server.start()
    try:
        assert ("uvloop" in _loaded_libraries(server.pid)) == (worker_class == "uvloop")
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"workers": 4}, "4 workers need TASKWIRE_REDIS_URL"),  # tests/ops/test_workers.py: with Redis they run
        ({"worker_class": "trio"}, 'worker_class = "trio"'),
    ],
)
def test_a_config_taskwire_does_not_run_is_refused_at_start(tmp_path: Path, overrides: dict, named: str) -> None:
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--config", str(_config(tmp_path, **overrides))],
        cwd=REPO_ROOT,
        env=server_env(f"sqlite:///{tmp_path / 'taskwire.db'}", "", tmp_path, port),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert named in result.stderr
