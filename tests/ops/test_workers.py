"""Multi-core instances: ``python -m app serve`` with TASKWIRE_WORKERS=2 runs two worker
processes on one port. Both take connections, events fan out between them through Redis,
SIGTERM stops both; with the in-process broker, more than one worker is refused."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realtime.follower import Rest, expect_every_seq_once, followers_on, shared_board
from tests.support.servers import AppServer, app_servers, server_env
from tests.support.services import REPO_ROOT, RedisServer, free_port

pytestmark = pytest.mark.processes


@pytest.fixture
def two_workers(redis: RedisServer, tmp_path: Path) -> Iterator[AppServer]:
    with app_servers(
        1, f"sqlite:///{tmp_path / 'taskwire.db'}", redis.url, tmp_path, {"TASKWIRE_WORKERS": "2"}
    ) as servers:
        yield servers[0]


def workers_of(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def established(pid: int, port: int) -> int:
    """TCP connections on ``port`` that process ``pid`` holds open, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port, state, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[3], fields[9]
            count += local_port == port and state == "01" and inode in inodes
    return count


async def test_two_workers_share_the_port_and_fan_out_to_each_others_clients(two_workers: AppServer) -> None:
    workers = workers_of(two_workers.pid)
    assert len(workers) == 2
    rest = Rest(two_workers.url)
    try:
        owner, members, board = await shared_board(rest, members=1)
        # The kernel spreads connections over the workers' sockets by their address hash:
        # with 16, both workers get some but for a chance of 2 in 65,536.
        followers = await followers_on([two_workers], [owner, *members], board, per_instance=16)
        held = [established(worker, two_workers.port) for worker in workers]
        assert all(held), f"connections per worker: {held}"
        await asyncio.gather(
            *(
                rest.task(account["token"], board, f"burst {number}")
                for number in range(20)
                for account in (owner, members[0])
            )
        )
        await expect_every_seq_once(followers, await rest.latest_seq(owner["token"], board))
    finally:
        await rest.close()

    assert two_workers.stop(timeout=20) == 0
    assert not any(Path(f"/proc/{worker}").exists() for worker in workers)  # stopped, and reaped


def test_a_killed_instance_takes_its_workers_with_it(two_workers: AppServer) -> None:
    workers = workers_of(two_workers.pid)
    two_workers.kill()
    deadline = time.monotonic() + 30  # a drain takes graceful_timeout (10 s) at most
    while any(Path(f"/proc/{worker}").exists() for worker in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{worker}").exists() for worker in workers), "an orphaned worker kept serving"


def test_an_instance_killed_while_its_workers_start_leaves_none_behind(redis: RedisServer, tmp_path: Path) -> None:
    env = server_env(
        f"sqlite:///{tmp_path / 'taskwire.db'}", redis.url, tmp_path, free_port(), {"TASKWIRE_WORKERS": "2"}
    )
    parent = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[int] = []
    while len(workers) < 2 and parent.poll() is None:
        workers = workers_of(parent.pid)
    parent.kill()  # the workers are still importing: they ask for their SIGTERM only later
    parent.wait(5)
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{worker}").exists() for worker in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers and not any(Path(f"/proc/{worker}").exists() for worker in workers)


def test_more_than_one_worker_with_the_in_process_broker_is_refused_with_one_line(tmp_path: Path) -> None:
    env = server_env(f"sqlite:///{tmp_path / 'taskwire.db'}", "", tmp_path, free_port(), {"TASKWIRE_WORKERS": "2"})
    env.pop("TASKWIRE_REDIS_URL")
    done = subprocess.run(
        [sys.executable, "-m", "app", "serve"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "taskwire: 2 workers need TASKWIRE_REDIS_URL: with the in-process broker each worker would fan out "
        "only to its own clients (set it, or run one worker)"
    ]
