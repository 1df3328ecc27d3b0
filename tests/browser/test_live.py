"""Two people on one board, each in their own browser: changes arrive live, without a
reload, and a browser that was offline catches up when it is back (reconnect + since)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.server import dashboard_server
from tests.browser.support import People, Rest, card, column, open_board

pytestmark = pytest.mark.browser

LIVE_WITHIN_MS = 1000


async def test_two_people_see_each_others_changes_live_and_catch_up_after_offline(people, rest) -> None:
    alice = await rest.register("Alice")
    bob = await rest.register("Bob")
    board = await rest.board(alice, "Launch")
    await rest.add_member(alice, board["id"], bob, "editor")
    alice_page = await people.page("alice")
    bob_page = await people.page("bob")
    await open_board(alice_page, alice, board["id"])
    await open_board(bob_page, bob, board["id"])
    # Proof that nothing below reloads Bob's page: this survives only without a reload.
    await bob_page.evaluate("window.noReload = true")
    await expect(alice_page.get_by_test_id("presence").get_by_role("img")).to_have_count(2)
    await expect(bob_page.get_by_test_id("presence").get_by_role("img", name="Alice")).to_be_visible()

    # Alice creates a task: Bob sees it within a second.
    await alice_page.get_by_test_id("new-task").click()
    await alice_page.get_by_test_id("task-dialog").get_by_label("Title").fill("Ship it")
    await alice_page.get_by_test_id("task-dialog").get_by_role("button", name="Save").click()
    await expect(card(column(bob_page, "todo"), "Ship it")).to_be_visible(timeout=LIVE_WITHIN_MS)
    await expect(card(bob_page, "Ship it")).to_have_class("card card-flash")

    # Bob drags it to Done: it moves for Alice, and her feed says so.
    await card(bob_page, "Ship it").drag_to(column(bob_page, "done").locator(".card-list"))
    await expect(card(column(alice_page, "done"), "Ship it")).to_be_visible(timeout=LIVE_WITHIN_MS)
    await expect(alice_page.get_by_test_id("activity")).to_contain_text("Bob moved ‘Ship it’ to Done")
    [task] = await rest.tasks(alice, board["id"])
    assert task["status"] == "done" and task["version"] == 2

    # Bob goes offline; Alice keeps working.
    await bob_page.context.set_offline(True)
    await expect(bob_page.get_by_test_id("connection")).to_have_attribute("data-state", "offline")
    await alice_page.get_by_role("button", name="Add a task to In progress").click()
    await alice_page.get_by_test_id("task-dialog").get_by_label("Title").fill("Write release notes")
    await alice_page.get_by_test_id("task-dialog").get_by_role("button", name="Save").click()
    await expect(card(alice_page, "Write release notes")).to_be_visible()
    await rest.patch_task(alice, task, title="Ship it (v1.0)")
    await expect(card(alice_page, "Ship it (v1.0)")).to_be_visible(timeout=LIVE_WITHIN_MS)
    await expect(card(bob_page, "Write release notes")).to_have_count(0)

    # Back online: Bob reconnects, resumes from the last seq he saw and catches up.
    await bob_page.context.set_offline(False)
    await expect(bob_page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    await expect(card(column(bob_page, "in_progress"), "Write release notes")).to_be_visible()
    await expect(card(column(bob_page, "done"), "Ship it (v1.0)")).to_be_visible()
    await expect(bob_page.get_by_test_id("activity")).to_contain_text("Alice created ‘Write release notes’")
    assert await bob_page.evaluate("window.noReload") is True


async def test_a_gap_too_old_to_replay_is_refetched_after_reset(chromium, tmp_path) -> None:
    # A server that replays at most 2 missed events: more than that and it answers `reset`.
    with dashboard_server(tmp_path, REPLAY_LIMIT="2") as server:
        rest = Rest(server.url)
        crowd = People(chromium, server.url)
        try:
            alice = await rest.register("Alice")
            bob = await rest.register("Bob")
            board = await rest.board(alice, "Launch")
            await rest.add_member(alice, board["id"], bob, "editor")
            doomed = await rest.task(alice, board["id"], "Doomed")
            bob_page = await crowd.page("bob")
            await open_board(bob_page, bob, board["id"])
            await expect(card(bob_page, "Doomed")).to_be_visible()

            await bob_page.context.set_offline(True)
            await expect(bob_page.get_by_test_id("connection")).to_have_attribute("data-state", "offline")
            for title in ("One", "Two", "Three"):
                await rest.task(alice, board["id"], title, status="in_progress")
            await rest.call("DELETE", f"/tasks/{doomed['id']}", alice)

            refetches = []
            bob_page.on(
                "request",
                lambda request: (
                    refetches.append(request.url) if request.url.endswith(f"/api/v1/boards/{board['id']}") else None
                ),
            )
            await bob_page.context.set_offline(False)
            await expect(column(bob_page, "in_progress").get_by_test_id("card")).to_have_count(3)
            await expect(card(bob_page, "Doomed")).to_have_count(0)
            await expect(bob_page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
            assert refetches, "a reset must refetch the board over REST"
        finally:
            await crowd.close()
            await rest.close()
        crowd.assert_no_errors()
