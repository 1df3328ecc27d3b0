"""Multi-core instances: ``python -m app serve`` with N workers runs N processes of itself,
each a whole instance (its own hub, its own broker connections) on a listening socket of
its own that shares the port through SO_REUSEPORT, so the kernel spreads new connections
over them instead of waking every worker for each one.

This process only binds, starts and stops the workers. SIGTERM or SIGINT is passed on to
each (every worker then drains like a single instance does); if a worker exits on its own,
the others are stopped too and the exit code passed on, so the orchestrator restarts the
whole instance rather than running it short of a worker nobody notices is gone.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import FrameType

log = logging.getLogger("taskwire")


def run_workers(listeners: list[socket.socket], config_path: Path) -> int:
    """Serve with one worker per listener until all have exited; returns the exit code."""
    workers: dict[int, subprocess.Popen[bytes]] = {}
    for listener in listeners:
        fd = listener.fileno()
        command = [
            sys.executable,
            "-m",
            "app",
            "serve",
            "--config",
            str(config_path),
            "--listen-fd",
            str(fd),
            "--supervisor",
            str(os.getpid()),
        ]
        worker = subprocess.Popen(command, pass_fds=(fd,), stdin=subprocess.DEVNULL)
        workers[worker.pid] = worker
        listener.close()  # the worker holds it now; a copy here would outlive a dead worker
    log.info("started %d workers (pids %s)", len(workers), ", ".join(map(str, workers)))
    stopping = False

    def stop_all(signum: int | None = None, frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for worker in workers.values():
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    code = 0
    while any(worker.returncode is None for worker in workers.values()):
        pid, status = os.waitpid(-1, 0)  # a signal runs stop_all, then the wait resumes
        exited = workers.get(pid)
        if exited is None:
            continue
        exited.returncode = os.waitstatus_to_exitcode(status)
        if not stopping:
            log.error("worker %d exited with %d; stopping the others", pid, exited.returncode)
            code = exited.returncode or 1
            stop_all()
    return code


def die_with_supervisor(supervisor: int) -> None:
    """Called by a worker first thing: SIGTERM it when ``supervisor`` (the process that
    started it) dies, even by SIGKILL, so no orphaned worker keeps serving (and holding the
    port) after its instance is gone."""
    if sys.platform != "linux":
        return
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died while this worker was starting
        os.kill(os.getpid(), signal.SIGTERM)
