"""deploy/nginx.conf run by a real nginx in front of a test server.

Debian's nginx predates upstream ``resolve`` (1.27.3) and there is no Docker DNS here: those
lines, the listen address and the log paths are the only ones rewritten. Two ways of
breaking WebSockets that proxies have: ``refuse_upgrades`` passes no ``Upgrade`` on, so no
handshake ever completes; ``drop_upgraded`` lets the handshake through and cuts the
connection after a second without traffic, so sockets keep dropping just after they open.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.services import REPO_ROOT, free_port, stop_process, wait_for_port


def nginx_binary() -> str:
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    return binary


@contextlib.contextmanager
def shipped_nginx(
    upstream_port: int, workdir: Path, refuse_upgrades: bool = False, drop_upgraded: bool = False
) -> Iterator[int]:
    """Yields nginx's port; its access log is ``workdir/access.log``."""
    binary = nginx_binary()
    port = free_port()
    config = (REPO_ROOT / "deploy" / "nginx.conf").read_text()
    config = re.sub(r"server taskwire-\d:8000 resolve", f"server 127.0.0.1:{upstream_port}", config)
    config = re.sub(r"\n\s*resolver [^;]+;", "\n", config)
    config = config.replace("listen 80;", f"listen 127.0.0.1:{port};")
    config = config.replace("access_log /dev/stdout", f"access_log {workdir}/access.log")
    if refuse_upgrades:
        config, count = re.subn(r"\n\s*proxy_set_header (Upgrade|Connection \$connection_upgrade)[^;]*;", "", config)
        assert count == 2, "the WebSocket location no longer looks as expected"
    if drop_upgraded:
        config, count = re.subn(r"proxy_read_timeout 3600s;", "proxy_read_timeout 1s;", config)
        assert count == 1, "the WebSocket location no longer looks as expected"
    (workdir / "nginx.conf").write_text(config)
    proc = subprocess.Popen(
        [
            binary,
            "-c",
            str(workdir / "nginx.conf"),
            "-p",
            str(workdir),
            "-g",
            f"daemon off; pid {workdir}/nginx.pid; error_log {workdir}/error.log;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, proc=proc)
        yield port
    finally:
        stop_process(proc)
