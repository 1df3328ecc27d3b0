"""An assistant works a board through the MCP server (the ``mcp`` package's own client over
streamable HTTP, with Alice's personal API token): Bob sees its changes live, and both
activity feeds say they were Alice's, made via the token, as does the log after a reload."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.support import card, column, open_board
from tests.support.mcp_client import call, mcp_over_http

pytestmark = pytest.mark.browser

LIVE_WITHIN_MS = 2000


async def test_an_assistants_changes_arrive_live_and_the_feed_names_it(people, rest, dashboard) -> None:
    alice = await rest.register("Alice")
    bob = await rest.register("Bob")
    board = await rest.board(alice, "Launch")
    await rest.add_member(alice, board["id"], bob, "editor")
    claude = await rest.call("POST", "/tokens", alice, json={"name": "Claude", "scopes": ["read", "write"]})
    alice_page = await people.page("alice")
    bob_page = await people.page("bob")
    await open_board(alice_page, alice, board["id"])
    await open_board(bob_page, bob, board["id"])
    await bob_page.evaluate("window.noReload = true")

    async with mcp_over_http(dashboard.url, claude["token"]) as assistant:
        task = await call(assistant, "create_task", board_id=board["id"], title="Draft the FAQ")
        await expect(card(column(bob_page, "todo"), "Draft the FAQ")).to_be_visible(timeout=LIVE_WITHIN_MS)
        await call(assistant, "move_task", task_id=task["id"], status="done")
        await expect(card(column(bob_page, "done"), "Draft the FAQ")).to_be_visible(timeout=LIVE_WITHIN_MS)

    bob_feed = bob_page.get_by_test_id("activity")
    await expect(bob_feed).to_contain_text("Alice (via ‘Claude’) created ‘Draft the FAQ’ in To do")
    await expect(bob_feed).to_contain_text("Alice (via ‘Claude’) moved ‘Draft the FAQ’ to Done")
    alice_feed = alice_page.get_by_test_id("activity")
    await expect(alice_feed).to_contain_text("You (via ‘Claude’) moved ‘Draft the FAQ’ to Done")
    await expect(card(column(alice_page, "done"), "Draft the FAQ")).to_be_visible()
    assert await bob_page.evaluate("window.noReload") is True

    # A change made with a signed-in session names no token.
    await rest.patch_task(bob, await rest.get_task(bob, task["id"]), title="Draft the FAQ (v2)")
    await expect(alice_feed).to_contain_text("Bob updated ‘Draft the FAQ (v2)’")
    await expect(alice_feed).not_to_contain_text("Bob (via")

    # The feed loaded over REST after a reload says the same.
    await bob_page.reload()
    await expect(bob_page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    await expect(bob_feed).to_contain_text("Alice (via ‘Claude’) created ‘Draft the FAQ’ in To do")
    await expect(bob_feed).to_contain_text("Alice (via ‘Claude’) moved ‘Draft the FAQ’ to Done")
