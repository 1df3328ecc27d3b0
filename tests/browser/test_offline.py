"""Offline editing in Chromium (docs/offline.md): Alice goes offline, changes two boards,
reloads the page with no network (the service worker serves the app, IndexedDB the boards
and the queue), comes back online; every change reaches the server exactly once and Bob's
browser live. A change that conflicts with one made meanwhile opens the merge dialog."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.server import REPO_ROOT
from tests.browser.support import Account, Rest, card, column, eventually, open_board

pytestmark = pytest.mark.browser


async def controlled(page: Page) -> None:
    await eventually(lambda: page.evaluate("navigator.serviceWorker.controller !== null"), True, timeout=10)


async def edit_title(page: Page, title: str, new_title: str) -> None:
    await card(page, title).click()
    dialog = page.get_by_test_id("task-dialog")
    await dialog.get_by_label("Title").fill(new_title)
    await dialog.get_by_role("button", name="Save").click()


async def comments(rest: Rest, account: Account, task_id: str) -> list[str]:
    body = await rest.call("GET", f"/tasks/{task_id}/comments", account)
    return [comment["body"] for comment in body["items"]]


async def test_changes_made_offline_on_two_boards_reach_the_server_once_and_others_live(people, rest: Rest) -> None:
    alice = await rest.register("Alice")
    bob = await rest.register("Bob")
    launch = await rest.board(alice, "Launch")
    ops = await rest.board(alice, "Ops")
    await rest.add_member(alice, launch["id"], bob, "editor")
    ship = await rest.task(alice, launch["id"], "Ship it")
    rotate = await rest.task(alice, ops["id"], "Rotate keys")

    page = await people.page("alice")
    bob_page = await people.page("bob")
    await open_board(bob_page, bob, launch["id"])
    await open_board(page, alice, launch["id"])  # both boards opened once: kept for offline
    await page.get_by_role("link", name="Boards").click()
    await page.get_by_role("link", name="Ops").click()
    await card(page, "Rotate keys").click()  # its comments read once: kept too
    await expect(page.get_by_test_id("task-dialog").get_by_test_id("comments")).to_contain_text("No comments yet.")
    await page.keyboard.press("Escape")
    await controlled(page)
    status = page.get_by_test_id("sync-status")

    await page.context.set_offline(True)
    await expect(status).to_have_text("Offline")
    await edit_title(page, "Rotate keys", "Rotate keys (2026)")
    await expect(card(page, "Rotate keys (2026)")).to_be_visible()  # applied at once
    await card(page, "Rotate keys (2026)").click()
    dialog = page.get_by_test_id("task-dialog")
    await dialog.get_by_label("Add a comment").fill("Done on staging")
    await dialog.get_by_role("button", name="Comment", exact=True).click()
    await expect(dialog.get_by_test_id("comment")).to_contain_text("Done on staging")
    await page.keyboard.press("Escape")
    await expect(status).to_have_text("Offline · 2 changes waiting")

    # A reload with no network: the worker serves the app, IndexedDB the board and the queue.
    await page.reload()
    await expect(card(page, "Rotate keys (2026)")).to_be_visible()
    await expect(status).to_have_text("Offline · 2 changes waiting")
    await page.get_by_role("link", name="Boards").click()
    await page.get_by_role("link", name="Launch").click()
    await page.get_by_test_id("new-task").click()
    await page.get_by_test_id("task-dialog").get_by_label("Title").fill("Written offline")
    await page.get_by_test_id("task-dialog").get_by_role("button", name="Save").click()
    await expect(card(column(page, "todo"), "Written offline")).to_be_visible()
    await card(page, "Ship it").drag_to(column(page, "done").locator(".card-list"))
    await expect(card(column(page, "done"), "Ship it")).to_be_visible()
    await expect(status).to_have_text("Offline · 4 changes waiting")
    await page.screenshot(path=REPO_ROOT / "docs" / "screenshots" / "offline.png")
    await expect(card(bob_page, "Written offline")).to_have_count(0)

    await page.context.set_offline(False)
    await expect(status).to_be_hidden(timeout=10_000)
    # Bob sees every change of his board live; Alice's board shows each task once.
    await expect(card(column(bob_page, "todo"), "Written offline")).to_be_visible()
    await expect(card(column(bob_page, "done"), "Ship it")).to_be_visible()
    await expect(card(page, "Written offline")).to_have_count(1)
    # The server has each change exactly once.
    launch_tasks = await rest.tasks(alice, launch["id"])
    assert sorted((task["title"], task["status"]) for task in launch_tasks) == [
        ("Ship it", "done"),
        ("Written offline", "todo"),
    ]
    assert next(task for task in launch_tasks if task["id"] == ship["id"])["version"] == 2
    [rotated] = await rest.tasks(alice, ops["id"])
    assert (rotated["title"], rotated["version"]) == ("Rotate keys (2026)", 2)
    assert await comments(rest, alice, rotate["id"]) == ["Done on staging"]

    # Signing out leaves nothing of Alice on the device.
    assert "taskwire-offline" in await page.evaluate("indexedDB.databases().then((all) => all.map((db) => db.name))")
    await page.get_by_test_id("sign-out").click()
    await expect(page.get_by_label("Email")).to_be_visible()
    assert "taskwire-offline" not in await page.evaluate(
        "indexedDB.databases().then((all) => all.map((db) => db.name))"
    )
    assert await page.evaluate("localStorage.getItem('taskwire.user')") is None


async def test_a_conflicting_offline_edit_opens_the_merge_dialog(people, rest: Rest) -> None:
    alice = await rest.register("Alice")
    bob = await rest.register("Bob")
    board = await rest.board(alice, "Launch")
    await rest.add_member(alice, board["id"], bob, "editor")
    task = await rest.task(alice, board["id"], "Write the post")
    page = await people.page("alice", allowed=(r"status of 409",))
    await open_board(page, alice, board["id"])

    await page.context.set_offline(True)
    await edit_title(page, "Write the post", "Write the launch post")
    await rest.patch_task(bob, task, title="Write the blog post")  # meanwhile, online
    await page.context.set_offline(False)

    conflict = page.get_by_test_id("task-dialog").get_by_test_id("conflict")
    await expect(conflict).to_be_visible(timeout=10_000)
    await expect(conflict).to_contain_text("Write the blog post")
    await expect(conflict).to_contain_text("Write the launch post")
    await conflict.get_by_role("button", name="Keep mine").click()

    async def saved() -> tuple[str, int]:
        now = await rest.get_task(alice, task["id"])
        return now["title"], now["version"]

    await eventually(saved, ("Write the launch post", 3), timeout=5)  # Bob's edit, then mine: once each


async def test_a_change_whose_answer_was_lost_is_sent_again_and_done_once(people, rest: Rest) -> None:
    alice = await rest.register("Alice")
    board = await rest.board(alice, "Launch")
    page = await people.page("alice", allowed=("ERR_CONNECTION_RESET",))
    await open_board(page, alice, board["id"])
    lost: list[str] = []

    async def lose_the_first_answer(route) -> None:
        if route.request.method == "POST" and not lost:
            await route.fetch()  # the server creates the task ...
            lost.append(route.request.headers["idempotency-key"])
            await route.abort("connectionreset")  # ... and its answer never arrives
        else:
            await route.continue_()

    await page.route("**/api/v1/boards/*/tasks", lose_the_first_answer)
    await page.get_by_test_id("new-task").click()
    await page.get_by_test_id("task-dialog").get_by_label("Title").fill("Once only")
    await page.get_by_test_id("task-dialog").get_by_role("button", name="Save").click()
    await expect(card(page, "Once only")).to_have_count(1)
    await expect(page.get_by_test_id("sync-status")).to_be_hidden(timeout=10_000)

    async def titles() -> list[str]:
        return [task["title"] for task in await rest.tasks(alice, board["id"])]

    assert len(lost) == 1
    await eventually(titles, ["Once only"])  # sent twice with one Idempotency-Key: made once
    await expect(card(page, "Once only")).to_have_count(1)


async def test_a_description_edited_offline_is_plain_text_saved_with_the_task_and_merged_live(
    people, rest: Rest
) -> None:
    alice = await rest.register("Alice")
    bob = await rest.register("Bob")
    board = await rest.board(alice, "Launch")
    await rest.add_member(alice, board["id"], bob, "editor")
    task = await rest.task(alice, board["id"], "Write the post", description="Intro.")
    bob_page = await people.page("bob")
    await open_board(bob_page, bob, board["id"])
    await card(bob_page, "Write the post").click()
    bob_editor = bob_page.get_by_test_id("description-editor")
    await expect(bob_editor).to_be_editable()  # Bob has the live document open
    page = await people.page("alice")
    await open_board(page, alice, board["id"])
    status = page.get_by_test_id("sync-status")

    await page.context.set_offline(True)
    await expect(status).to_have_text("Offline")
    await card(page, "Write the post").click()
    dialog = page.get_by_test_id("task-dialog")
    # No channel to open the live document on: plain text, saved with the task.
    editor = dialog.get_by_test_id("description-editor")
    await expect(editor).to_be_editable()
    await expect(dialog.get_by_test_id("description-editors")).to_contain_text("saved with the task")
    await editor.fill("Intro. Body. Outro.")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    await expect(status).to_have_text("Offline · 1 change waiting")

    await page.context.set_offline(False)
    await expect(status).to_be_hidden(timeout=10_000)

    async def saved() -> tuple[str, int]:
        now = await rest.get_task(alice, task["id"])
        return now["description"], now["version"]

    await eventually(saved, ("Intro. Body. Outro.", 2), timeout=10)
    # The PATCH went into the live document: Bob's open editor shows it.
    await expect(bob_editor).to_have_value("Intro. Body. Outro.")
    await card(page, "Write the post").click()
    await expect(editor).to_have_value("Intro. Body. Outro.")
    await expect(dialog.get_by_test_id("description-editors")).not_to_contain_text("saved with the task")


async def test_a_move_whose_replay_finds_it_already_made_is_done_not_a_conflict(people, rest: Rest) -> None:
    alice = await rest.register("Alice")
    board = await rest.board(alice, "Launch")
    task = await rest.task(alice, board["id"], "Ship it")
    page = await people.page("alice", allowed=("ERR_CONNECTION_RESET", r"status of 409"))
    await open_board(page, alice, board["id"])
    attempts: list[str] = []

    async def lose_the_answer_then_refuse_the_replay(route) -> None:
        attempts.append(route.request.headers["idempotency-key"])
        if len(attempts) == 1:
            await route.fetch()  # the server moves the task ...
            await route.abort("connectionreset")  # ... and its answer never arrives
        else:
            # The replay is refused with the task as the first attempt left it.
            current = await rest.get_task(alice, task["id"])
            error = {"code": "version_conflict", "message": "The task was changed by someone else."}
            await route.fulfill(status=409, json={"error": error, "current": current})

    await page.route("**/api/v1/tasks/*/move", lose_the_answer_then_refuse_the_replay)
    patches: list[str] = []
    page.on("request", lambda request: patches.append(request.url) if request.method == "PATCH" else None)

    async def sent() -> int:
        return len(attempts)

    await card(page, "Ship it").drag_to(column(page, "done").locator(".card-list"))
    await eventually(sent, 2, timeout=10)
    await expect(page.get_by_test_id("sync-status")).to_be_hidden(timeout=10_000)
    assert attempts[0] == attempts[1]  # the same change, sent again
    # Its column is the one it was moved to: done, so no merge dialog opens nor saves.
    await expect(page.get_by_test_id("task-dialog")).to_be_hidden()
    assert patches == []
    await expect(card(column(page, "done"), "Ship it")).to_be_visible()
    assert (await rest.get_task(alice, task["id"]))["status"] == "done"
