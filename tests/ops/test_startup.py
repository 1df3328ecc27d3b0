"""What an operator sees when ``python -m app serve`` starts, or cannot: real processes.

A bad setting, a busy port and an unreachable database each stop start-up with one line
on stderr (no traceback); the "listening" line comes once the port accepts connections and
names the address really bound.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.servers import BASE_ENV
from tests.support.services import REPO_ROOT, free_port, stop_process

pytestmark = pytest.mark.processes


def serve_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    base = {name: value for name, value in os.environ.items() if not name.startswith("TASKWIRE_") and name != "PORT"}
    return {
        **base,
        **BASE_ENV,
        "TASKWIRE_LOG_LEVEL": "INFO",
        "TASKWIRE_DATA_DIR": str(tmp_path / "data"),
        "PORT": str(free_port()),
        **variables,
    }


def run_serve(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "serve"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], exit_code: int, starts: str) -> None:
    assert result.returncode == exit_code, result.stderr
    assert result.stderr.startswith(f"taskwire: {starts}"), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TASKWIRE_WS_AUTH_TIMEOUT", "-5"),
        ("TASKWIRE_WS_AUTH_TIMEOUT", "nan"),
        ("TASKWIRE_WS_AUTH_TIMEOUT", "inf"),
        ("TASKWIRE_TRUSTED_PROXIES", "not-an-ip"),
        ("TASKWIRE_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal"),
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("TASKWIRE_HOST", "localhost"),
        ("TASKWIRE_RATE_LIMIT_AUTH", "0"),
        ("TASKWIRE_LOG_LEVEL", "chatty"),
        ("TASKWIRE_IMPORT_MAX_BYTES", "999999999999999"),
        ("TASKWIRE_CORS_ORIGINS", "https://app.example.com/"),
        ("TASKWIRE_SMTP_CA_FILE", "/nonexistent/smtp-ca.pem"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_its_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = run_serve(serve_env(tmp_path, **{variable: value}))
    assert_one_line(result, 2, f"{variable}: ")
    assert not (tmp_path / "data").exists(), "nothing may be created before the settings are known good"


def test_only_the_documented_variable_is_read_and_named(tmp_path: Path) -> None:
    # TASKWIRE_PORT and TASKWIRE_WS_AUTH_TIMEOUT_SECONDS are built from field names and documented nowhere.
    env = serve_env(
        tmp_path, TASKWIRE_PORT="abc", TASKWIRE_WS_AUTH_TIMEOUT_SECONDS="nan", TASKWIRE_WS_AUTH_TIMEOUT="-5"
    )
    result = run_serve(env)
    assert_one_line(result, 2, "TASKWIRE_WS_AUTH_TIMEOUT: ")
    assert "PORT" not in result.stderr and "nan" not in result.stderr, result.stderr


def test_a_bad_secret_is_named_but_never_echoed(tmp_path: Path) -> None:
    result = run_serve(serve_env(tmp_path, TASKWIRE_SECRET_KEY="hunter2-is-short"))
    assert_one_line(result, 2, "TASKWIRE_SECRET_KEY: ")
    assert "hunter2" not in result.stderr


def test_a_busy_port_is_one_line_and_a_failed_exit(tmp_path: Path) -> None:
    env = serve_env(tmp_path, TASKWIRE_HOST="127.0.0.1")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", int(env["PORT"])))
        holder.listen()
        result = run_serve(env)
    assert_one_line(result, 1, f"cannot listen on 127.0.0.1:{env['PORT']}: ")
    assert "PORT" in result.stderr


def test_an_unreachable_mongodb_is_one_line_and_a_failed_exit(tmp_path: Path) -> None:
    nobody = free_port()
    env = serve_env(
        tmp_path, TASKWIRE_DATABASE_URL=f"mongodb://127.0.0.1:{nobody}/taskwire?serverSelectionTimeoutMS=500"
    )
    result = run_serve(env)
    assert_one_line(result, 1, "cannot open the store: MongoDB unreachable")
    assert f"127.0.0.1:{nobody}" in result.stderr


def read_until(proc: subprocess.Popen[str], marker: str, timeout: float = 30) -> list[str]:
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} line:\n{''.join(lines)}")


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("127.0.0.1", "http://127.0.0.1:{port} (this address only"),
        ("0.0.0.0", "http://0.0.0.0:{port} (every IPv4 interface"),
    ],
)
def test_the_listening_line_comes_once_the_port_accepts_and_names_the_bound_address(
    tmp_path: Path, host: str, shown: str
) -> None:
    env = serve_env(tmp_path, TASKWIRE_HOST=host)
    port = int(env["PORT"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = read_until(proc, "Taskwire listening on")
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass  # the port already accepts when the line is printed
        assert shown.format(port=port) in lines[-1]
        lines += read_until(proc, "Running on")
    finally:
        stop_process(proc)
        assert proc.stderr is not None
        rest = proc.stderr.read()
    assert sum("Running on" in line for line in lines + rest.splitlines()) == 1


def test_an_unreachable_redis_is_a_warning_and_start_up_goes_on(tmp_path: Path) -> None:
    env = serve_env(tmp_path, TASKWIRE_HOST="127.0.0.1", TASKWIRE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = read_until(proc, "Taskwire listening on")
    finally:
        stop_process(proc)
    warnings = [line for line in lines if '"level": "warning"' in line and "Redis" in line]
    assert warnings, "".join(lines)
