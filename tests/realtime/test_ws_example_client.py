"""examples/ws_client.py against a live server: it names the people who act and shows comments."""

from __future__ import annotations

import asyncio
import sys

from tests.realtime.conftest import LiveApp
from tests.support.apiclient import PASSWORD
from tests.support.services import REPO_ROOT


async def test_the_example_client_shows_actor_names_and_comment_events(live: LiveApp) -> None:
    ada, grace = await live.api.register(name="Ada"), await live.api.register(name="Grace")
    await live.api.add_member(ada, ada.personal_board, grace, "editor")
    example = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO_ROOT / "examples" / "ws_client.py"),
        "--url",
        f"http://127.0.0.1:{live.port}",
        "--email",
        ada.email,
        "--password",
        PASSWORD,
        "--board",
        ada.personal_board,
        "--count",
        "2",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert example.stderr is not None
    seen = []
    while not any("live from seq" in line for line in seen):
        seen.append((await asyncio.wait_for(example.stderr.readline(), 15)).decode())
        assert seen[-1], "".join(seen)
    task = await live.api.task(grace, ada.personal_board, "Write the docs")
    status, _ = await live.api.call(
        "POST", f"/api/v1/tasks/{task['id']}/comments", grace, json={"body": "Looks   good\nto me"}
    )
    assert status == 201
    _, err = await asyncio.wait_for(example.communicate(), 15)
    assert example.returncode == 0, err.decode()
    events = [line for line in err.decode().splitlines() if " #" in line]
    assert events[0].endswith("task.created by Grace: Write the docs"), events
    assert events[1].endswith(f"comment.created by Grace: on task {task['id']}: 'Looks good to me'"), events
    assert grace.id not in err.decode()
