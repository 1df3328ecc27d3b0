"""The disk under the SQLite file fills up (a real, tiny tmpfs filled with a file): writes
are 503 ``unavailable``, and ``/readyz`` says so (503, ``store_writes: failing:
disk_full``) instead of staying 200 while every write fails. Freeing space brings both
back without a restart. Needs root (mount); skipped elsewhere."""

from __future__ import annotations

import contextlib
import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.instances import alive, running
from tests.reliability.load import account_with_board

pytestmark = pytest.mark.processes

DISK_SIZE = "8m"


@contextlib.contextmanager
def tiny_disk(mount_point: Path) -> Iterator[Path]:
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk has no byte left."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:
        for chunk in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    handle.write(b"\0" * chunk)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
    return filler


async def test_a_full_disk_makes_writes_and_readyz_503_until_space_is_freed(tmp_path: Path) -> None:
    with (
        tiny_disk(tmp_path / "disk") as disk,
        running(tmp_path, database_url=f"sqlite:///{disk / 'taskwire.db'}") as [server],
    ):
        token, board = await account_with_board(server.url, "full")
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=headers) as client:
            assert (await client.get("/readyz")).status_code == 200
            filler = fill(disk)

            ready = await client.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["checks"]["store_writes"] == "failing: disk_full", ready.text
            created = await client.post(f"/api/v1/boards/{board}/tasks", json={"title": "no room"})
            assert (created.status_code, created.json()["error"]["code"]) == (503, "unavailable"), created.text
            listed = await client.get(f"/api/v1/boards/{board}/tasks")
            assert listed.status_code == 200  # reads go on

            filler.unlink()
            assert (await client.get("/readyz")).status_code == 200
            created = await client.post(f"/api/v1/boards/{board}/tasks", json={"title": "room again"})
            assert created.status_code == 201, created.text
            print(
                f"disk full: /readyz {ready.status_code} {ready.json()['checks']}, a write 503, reads 200; "
                f"space freed: /readyz 200, writes 201, no restart"
            )
        assert alive(server)
