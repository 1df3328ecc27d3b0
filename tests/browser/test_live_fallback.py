"""Behind the shipped nginx configured as a proxy that breaks WebSockets (no Upgrade passed
on, or upgraded connections cut after a second), the dashboard falls back to Server-Sent Events: live updates still arrive within a
second, both ways, and a browser that went offline catches up; a description is edited
as plain text; the single-use stream tickets the streams carry appear in no log."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser.server import ServerProcess
from tests.browser.support import People, Rest, card, column, open_board
from tests.support.nginx import shipped_nginx

pytestmark = pytest.mark.browser

LIVE_WITHIN_MS = 1000
# Chromium logs each refused handshake; these are what the fallback is for.
HANDSHAKE_REFUSED = (r"WebSocket connection to .* failed",)


@pytest.fixture(params=["refuse_upgrades", "drop_upgraded"])
def hostile_proxy(request: pytest.FixtureRequest, dashboard: ServerProcess, tmp_path: Path) -> Iterator[str]:
    """Sockets that never connect, or that drop a second after they open."""
    upstream = int(dashboard.url.rsplit(":", 1)[1])
    with shipped_nginx(upstream, tmp_path, **{request.param: True}) as port:
        yield f"http://127.0.0.1:{port}"


async def test_live_updates_arrive_over_event_streams_when_the_proxy_refuses_websockets(
    chromium, dashboard: ServerProcess, hostile_proxy: str, tmp_path: Path
) -> None:
    rest = Rest(hostile_proxy)
    crowd = People(chromium, hostile_proxy)
    try:
        alice = await rest.register("Alice")
        bob = await rest.register("Bob")
        board = await rest.board(alice, "Behind the proxy")
        await rest.add_member(alice, board["id"], bob, "editor")
        alice_page = await crowd.page("alice", allowed=HANDSHAKE_REFUSED)
        bob_page = await crowd.page("bob", allowed=HANDSHAKE_REFUSED)
        await open_board(alice_page, alice, board["id"])
        await open_board(bob_page, bob, board["id"])
        for page in (alice_page, bob_page):
            await expect(page.locator("html")).to_have_attribute("data-live-transport", "sse", timeout=10_000)
            await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
        await bob_page.evaluate("window.noReload = true")
        await expect(alice_page.get_by_test_id("presence").get_by_role("img")).to_have_count(2)

        # Alice creates a task in her browser: Bob sees it within a second.
        await alice_page.get_by_test_id("new-task").click()
        await alice_page.get_by_test_id("task-dialog").get_by_label("Title").fill("Ship it")
        await alice_page.get_by_test_id("task-dialog").get_by_role("button", name="Save").click()
        await expect(card(column(bob_page, "todo"), "Ship it")).to_be_visible(timeout=LIVE_WITHIN_MS)

        # Bob moves it: Alice sees it move.
        await card(bob_page, "Ship it").drag_to(column(bob_page, "done").locator(".card-list"))
        await expect(card(column(alice_page, "done"), "Ship it")).to_be_visible(timeout=LIVE_WITHIN_MS)

        # Bob drops off the network and comes back: his stream resumes after the last seq.
        await bob_page.context.set_offline(True)
        await expect(bob_page.get_by_test_id("connection")).to_have_attribute("data-state", "offline")
        await rest.task(alice, board["id"], "While Bob was away")
        await bob_page.context.set_offline(False)
        await expect(bob_page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
        await expect(card(column(bob_page, "todo"), "While Bob was away")).to_be_visible()
        assert await bob_page.evaluate("window.noReload") is True
        [moved] = [task for task in await rest.tasks(alice, board["id"]) if task["title"] == "Ship it"]
        assert moved["status"] == "done" and moved["version"] == 2

        # No live document over event streams: the description is plain text, saved with Save.
        await card(alice_page, "Ship it").click()
        dialog = alice_page.get_by_test_id("task-dialog")
        await expect(dialog.get_by_test_id("description-editor")).to_be_editable()
        await dialog.get_by_test_id("description-editor").fill("Behind the proxy too")
        await dialog.get_by_role("button", name="Save").click()
        await expect(dialog).to_be_hidden()
        assert (await rest.get_task(alice, moved["id"]))["description"] == "Behind the proxy too"
    finally:
        await crowd.close()
        await rest.close()
    crowd.assert_no_errors()

    # Every stream went through nginx on a ticket, and neither log holds one. (nginx
    # writes a stream's line once it has ended: Alice's, and Bob's before and after offline.)
    deadline = time.monotonic() + 5
    while (
        len(streams := re.findall(r"/events/stream\?[^\"]*", access_log := (tmp_path / "access.log").read_text())) < 3
    ):
        assert time.monotonic() < deadline, access_log
        await asyncio.sleep(0.1)
    assert all(re.search(r"ticket=\[redacted\]", line) for line in streams), streams
    assert "/api/v1/ws" in access_log  # the sockets that did not last
    assert "ticket=" not in dashboard.log_tail(100_000)
