"""Working on one board with others: version conflicts in the task dialog, and the members
panel (invite, change role, remove) with its effect on the other person, live."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.support import card, eventually, open_board

pytestmark = pytest.mark.browser

# Chromium logs the expected 409 response itself as a console error; nothing else may appear.
EXPECTED_CONFLICT = (r"^Failed to load resource: the server responded with a status of 409 ",)


async def test_a_conflicting_save_shows_their_version_and_can_keep_mine_or_use_theirs(people, rest) -> None:
    cora = await rest.register("Cora")
    dan = await rest.register("Dan")
    board = await rest.board(cora, "Docs")
    await rest.add_member(cora, board["id"], dan, "editor")
    task = await rest.task(cora, board["id"], "Draft intro")
    page = await people.page("cora", allowed=EXPECTED_CONFLICT)
    await open_board(page, cora, board["id"])
    dialog = page.get_by_test_id("task-dialog")

    await page.get_by_role("button", name="Open task: Draft intro").click()
    await dialog.get_by_label("Title").fill("Draft the intro (Cora)")
    task = await rest.patch_task(dan, task, title="Intro draft (Dan)", priority="high")
    await expect(dialog.get_by_role("status")).to_contain_text("Dan just changed this task")  # named, not "someone"
    await dialog.get_by_role("button", name="Save").click()
    conflict = dialog.get_by_test_id("conflict")
    await expect(conflict).to_contain_text("Dan saved this task first")
    # The header's words are never broken inside ("Fiel/d"): each is one line high.
    heights = await conflict.locator("thead th").evaluate_all("cells => cells.map((c) => c.clientHeight)")
    line = await conflict.locator("thead th").first.evaluate("c => parseFloat(getComputedStyle(c).lineHeight) + 12.5")
    assert all(height <= line for height in heights), heights
    await expect(conflict.get_by_role("row", name="Title")).to_contain_text("Intro draft (Dan)")
    await expect(conflict.get_by_role("row", name="Title")).to_contain_text("Draft the intro (Cora)")
    await expect(conflict.get_by_role("row")).to_have_count(2)  # the header and Title: only what both changed
    await expect(conflict).to_contain_text("Their other changes stay either way: Priority.")
    await conflict.get_by_role("button", name="Keep mine").click()
    await expect(dialog).to_be_hidden()
    await expect(card(page, "Draft the intro (Cora)")).to_be_visible()
    stored = await rest.get_task(cora, task["id"])
    assert stored["title"] == "Draft the intro (Cora)" and stored["version"] == 3
    assert stored["priority"] == "high"  # Dan's change to a field Cora left alone survives

    await page.get_by_role("button", name="Open task: Draft the intro (Cora)").click()
    await dialog.get_by_label("Title").fill("Cora again")
    await rest.patch_task(dan, stored, title="Dan again")
    await dialog.get_by_role("button", name="Save").click()
    await conflict.get_by_role("button", name="Use theirs").click()
    await expect(dialog.get_by_label("Title")).to_have_value("Dan again")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(card(page, "Dan again")).to_be_visible()
    assert (await rest.get_task(cora, task["id"]))["title"] == "Dan again"


async def test_members_are_invited_promoted_and_removed_as_the_role_allows(people, rest) -> None:
    olive = await rest.register("Olive")
    vic = await rest.register("Vic")
    board = await rest.board(olive, "Team")
    owner_page = await people.page("olive")
    await open_board(owner_page, olive, board["id"])
    await owner_page.get_by_test_id("tab-members").click()
    await owner_page.get_by_test_id("invite-email").fill(vic.email)
    await owner_page.get_by_test_id("invite-role").select_option("viewer")
    await owner_page.get_by_role("button", name="Invite").click()
    members = owner_page.get_by_test_id("members")
    await expect(members.get_by_role("listitem")).to_have_count(2)
    await expect(owner_page.get_by_label("Role for Vic")).to_have_value("viewer")

    # A viewer sees the board read-only: no new-task button, no move handles, no invite form.
    vic_page = await people.page("vic")
    await open_board(vic_page, vic, board["id"])
    await expect(vic_page.get_by_test_id("new-task")).to_be_hidden()
    await vic_page.get_by_test_id("tab-members").click()
    await expect(vic_page.get_by_test_id("invite-email")).to_have_count(0)
    await expect(vic_page.get_by_test_id("member-role")).to_have_count(0)

    # Promoted to editor: Vic's controls appear live.
    await owner_page.get_by_label("Role for Vic").select_option("editor")
    await expect(vic_page.get_by_test_id("new-task")).to_be_visible()

    # Removed: Vic's page stops showing the board at once.
    await owner_page.get_by_role("button", name="Remove Vic", exact=True).click()
    # The button now asks for a second press, and its accessible name says so too.
    confirm = owner_page.get_by_role("button", name="Confirm: remove Vic", exact=True)
    await expect(confirm).to_have_text("Confirm")
    await confirm.click()
    await expect(members.get_by_role("listitem")).to_have_count(1)
    await expect(vic_page.get_by_test_id("board-not-found")).to_be_visible()
    await expect(vic_page.get_by_role("heading", name="You no longer have access to this board")).to_be_visible()


async def test_edits_to_different_fields_of_a_task_merge_without_asking(people, rest) -> None:
    eve = await rest.register("Eve")
    fin = await rest.register("Fin")
    board = await rest.board(eve, "Merge")
    await rest.add_member(eve, board["id"], fin, "editor")
    task = await rest.task(eve, board["id"], "Plan the offsite")
    page = await people.page("eve", allowed=EXPECTED_CONFLICT)
    await open_board(page, eve, board["id"])
    dialog = page.get_by_test_id("task-dialog")
    await page.get_by_role("button", name="Open task: Plan the offsite").click()
    await dialog.get_by_label("Description").fill("Book the venue first.")
    await rest.patch_task(fin, task, labels=["team"])
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()

    async def stored_description() -> str:
        return (await rest.get_task(eve, task["id"]))["description"]

    # The description is co-edited live (no conflict possible) and written once the dialog closes.
    await eventually(stored_description, "Book the venue first.")
    stored = await rest.get_task(eve, task["id"])
    assert stored["labels"] == ["team"]
    await expect(card(page, "Plan the offsite")).to_contain_text("team")


async def test_a_board_deleted_by_its_owner_disappears_for_everyone_viewing_it(people, rest) -> None:
    gus = await rest.register("Gus")
    hal = await rest.register("Hal")
    board = await rest.board(gus, "Short-lived")
    await rest.add_member(gus, board["id"], hal, "editor")
    page = await people.page("hal")
    await open_board(page, hal, board["id"])
    await rest.call("DELETE", f"/boards/{board['id']}", gus)
    await expect(page.get_by_role("heading", name="This board was deleted")).to_be_visible()
