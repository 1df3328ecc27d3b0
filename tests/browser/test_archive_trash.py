"""Archive, trash and undo in the dashboard, with two people: a deleted card goes to the
trash and comes back with Undo (the toast, or Ctrl+Z) for both; an archived card leaves
both boards and the other person brings it back from the Archive tab; an undo that
conflicts gets the usual conflict table; undo reaches only my last change, and a move undone
after someone else moved the card leaves it where they put it. Saves docs/screenshots/trash.png."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.server import REPO_ROOT
from tests.browser.support import card, column, eventually, open_board

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
EXPECTED_CONFLICT = (r"^Failed to load resource: the server responded with a status of 409 ",)


async def test_delete_undo_archive_and_restore_with_two_people(people, rest) -> None:
    cora, dan = await rest.register("Cora Lind"), await rest.register("Dan Reyes")
    board = await rest.board(cora, "Release")
    await rest.add_member(cora, board["id"], dan, "editor")
    alpha = await rest.task(cora, board["id"], "Alpha")
    await rest.task(cora, board["id"], "Beta")
    mine, theirs = await people.page("cora"), await people.page("dan")
    await open_board(mine, cora, board["id"])
    await open_board(theirs, dan, board["id"])
    dialog = mine.get_by_test_id("task-dialog")

    # Delete: gone for both, in the trash; Undo brings it back for both, one version on.
    await mine.get_by_role("button", name="Open task: Alpha").click()
    await dialog.get_by_role("button", name="Delete", exact=True).click()
    await dialog.get_by_role("button", name="Delete task").click()
    await expect(card(mine, "Alpha")).to_have_count(0)
    await expect(card(theirs, "Alpha")).to_have_count(0)
    await theirs.get_by_test_id("tab-archive").click()
    trash = theirs.get_by_test_id("trash")
    await expect(trash.get_by_test_id("archive-item")).to_contain_text("Deleted by Cora Lind")
    toast = mine.get_by_test_id("undo-toast")
    await expect(toast).to_contain_text("Moved ‘Alpha’ to the trash")
    await toast.get_by_role("button", name="Undo").click()
    await expect(card(mine, "Alpha")).to_be_visible()
    await expect(card(theirs, "Alpha")).to_be_visible()
    await expect(trash).to_contain_text("The trash is empty.")
    assert (await rest.get_task(cora, alpha["id"]))["version"] == 2

    # Archive: off both boards, listed in Dan's Archive tab live; Dan brings it back.
    await mine.get_by_role("button", name="Open task: Beta").click()
    await dialog.get_by_test_id("archive-task").click()
    await expect(card(mine, "Beta")).to_have_count(0)
    await expect(card(theirs, "Beta")).to_have_count(0)
    archived = theirs.get_by_test_id("archived-tasks")
    await expect(archived.get_by_test_id("archive-item")).to_contain_text("Beta")
    await archived.get_by_role("button", name="Unarchive Beta").click()
    await expect(card(theirs, "Beta")).to_be_visible()
    await expect(card(mine, "Beta")).to_be_visible()
    await expect(theirs.get_by_test_id("activity")).to_contain_text("You brought back ‘Beta’ from the archive")
    await expect(theirs.get_by_test_id("activity")).to_contain_text("Cora Lind archived ‘Beta’")

    # An edit undone with Ctrl+Z (outside any field), as a new versioned change.
    await mine.get_by_role("button", name="Open task: Alpha").click()
    await dialog.get_by_label("Title").fill("Alpha, renamed")
    await dialog.get_by_role("button", name="Save").click()
    await expect(card(theirs, "Alpha, renamed")).to_be_visible()
    await mine.locator("body").press("Control+z")
    await expect(card(mine, "Alpha")).to_be_visible()
    await expect(card(theirs, "Alpha")).to_be_visible()
    stored = await rest.get_task(cora, alpha["id"])
    assert (stored["title"], stored["version"]) == ("Alpha", 4)

    # The trash as the screenshot shows it: Cora (the owner) may also delete for good.
    await rest.task(cora, board["id"], "Plan the launch party", labels=["fun"])
    await rest.task(cora, board["id"], "Update the changelog", status="in_progress")
    for title in ("Alpha", "Beta"):
        await theirs.get_by_role("button", name=f"Open task: {title}").click()
        await theirs.get_by_test_id("task-dialog").get_by_role("button", name="Delete", exact=True).click()
        await theirs.get_by_test_id("task-dialog").get_by_role("button", name="Delete task").click()
        await expect(card(theirs, title)).to_have_count(0)
    await expect(trash.get_by_test_id("archive-item")).to_have_count(2)
    await expect(trash).to_contain_text("Deleted by you")
    await mine.get_by_test_id("tab-archive").click()
    mine_trash = mine.get_by_test_id("trash")
    await expect(mine_trash).to_contain_text("Deleted by Dan Reyes")
    await expect(mine_trash).to_contain_text("emptied in 30 days")
    await expect(mine_trash.get_by_role("button", name="Delete Alpha for good")).to_be_visible()
    assert await mine.evaluate("document.documentElement.scrollWidth") <= 1280  # three tabs fit
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await mine.screenshot(path=str(SCREENSHOTS / "trash.png"))
    await mine_trash.get_by_role("button", name="Delete Alpha for good").click()
    await mine_trash.get_by_role("button", name="Confirm: delete Alpha for good").click()
    await expect(trash.get_by_test_id("archive-item")).to_have_count(1)  # live for Dan too
    await trash.get_by_role("button", name="Restore Beta").click()
    await expect(card(mine, "Beta")).to_be_visible()

    async def titles() -> list[str]:
        return sorted(task["title"] for task in await rest.tasks(cora, board["id"]))

    await eventually(titles, ["Beta", "Plan the launch party", "Update the changelog"])


async def test_an_undo_that_conflicts_shows_the_conflict_table(people, rest) -> None:
    cora, dan = await rest.register("Cora"), await rest.register("Dan")
    board = await rest.board(cora, "Docs")
    await rest.add_member(cora, board["id"], dan, "editor")
    task = await rest.task(cora, board["id"], "Intro")
    page = await people.page("cora", allowed=EXPECTED_CONFLICT)
    await open_board(page, cora, board["id"])
    dialog = page.get_by_test_id("task-dialog")
    await page.get_by_role("button", name="Open task: Intro").click()
    await dialog.get_by_label("Title").fill("Intro by Cora")
    await dialog.get_by_role("button", name="Save").click()
    await expect(card(page, "Intro by Cora")).to_be_visible()
    await rest.patch_task(dan, await rest.get_task(dan, task["id"]), title="Intro by Dan")
    await expect(card(page, "Intro by Dan")).to_be_visible()

    await page.get_by_test_id("undo-toast").get_by_role("button", name="Undo").click()
    conflict = dialog.get_by_test_id("conflict")
    await expect(conflict).to_contain_text("saved this task first")
    await expect(conflict.get_by_role("row", name="Title")).to_contain_text("Intro by Dan")
    await expect(conflict.get_by_role("row", name="Title")).to_contain_text("Intro")
    assert (await rest.get_task(cora, task["id"]))["title"] == "Intro by Dan"  # nothing overwritten
    await conflict.get_by_role("button", name="Keep mine").click()
    await expect(dialog).to_be_hidden()
    assert (await rest.get_task(cora, task["id"]))["title"] == "Intro"


async def keyboard_move(page, title: str, key: str) -> None:
    """Pick the card up with the keyboard, move it one column (`key`: ArrowRight...), drop it."""
    await page.get_by_role("button", name=f"Move task: {title}").focus()
    await page.keyboard.press("Space")
    await page.keyboard.press(key)
    await page.keyboard.press("Enter")


async def test_undo_reaches_only_my_last_change_and_never_past_someone_elses(people, rest) -> None:
    cora, dan = await rest.register("Cora Lind"), await rest.register("Dan Reyes")
    board = await rest.board(cora, "Launch")
    await rest.add_member(cora, board["id"], dan, "editor")
    alpha = await rest.task(cora, board["id"], "Alpha")
    beta = await rest.task(cora, board["id"], "Beta")
    await rest.call("POST", f"/tasks/{alpha['id']}/checklist", cora, json={"text": "Draft"})
    mine, theirs = await people.page("cora"), await people.page("dan")
    await open_board(mine, cora, board["id"])
    await open_board(theirs, dan, board["id"])
    dialog, toast = mine.get_by_test_id("task-dialog"), mine.get_by_test_id("undo-toast")

    async def stored(task: dict) -> tuple[str, list[bool]]:
        current = await rest.get_task(cora, task["id"])
        return current["status"], [item["done"] for item in current["checklist"]]

    # A move, then a tick: Ctrl+Z undoes the tick, and again does nothing (never the move).
    await keyboard_move(mine, "Alpha", "ArrowRight")
    await expect(toast).to_contain_text("Moved ‘Alpha’")
    await mine.get_by_role("button", name="Open task: Alpha").click()
    await dialog.get_by_test_id("checklist-tick").check()
    await expect(toast).to_contain_text("Ticked ‘Draft’")
    await dialog.get_by_role("button", name="Close").click()
    await expect(card(mine, "Alpha").get_by_test_id("checklist-progress")).to_have_text("☑1/1")
    await mine.locator("body").press("Control+z")
    await expect(card(theirs, "Alpha").get_by_test_id("checklist-progress")).to_have_text("☑0/1")
    await expect(toast).to_have_count(0)
    await mine.locator("body").press("Control+z")
    await eventually(lambda: stored(alpha), ("in_progress", [False]))
    await expect(card(column(mine, "in_progress"), "Alpha")).to_be_visible()

    # A change of mine without an undo (here from another tab) clears the move before it.
    await keyboard_move(mine, "Beta", "ArrowRight")
    await expect(toast).to_contain_text("Moved ‘Beta’")
    await expect(card(column(theirs, "in_progress"), "Beta")).to_be_visible()
    await rest.patch_task(cora, await rest.get_task(cora, alpha["id"]), title="Alpha, renamed")
    await expect(toast).to_have_count(0)
    await mine.locator("body").press("Control+z")
    await expect(card(theirs, "Alpha, renamed")).to_be_visible()
    assert (await stored(beta))[0] == "in_progress"

    # Dan moves the card Cora just moved: her undo leaves it where he put it, and says why.
    await keyboard_move(mine, "Beta", "ArrowRight")
    await expect(toast).to_contain_text("Moved ‘Beta’")
    await expect(card(column(theirs, "done"), "Beta")).to_be_visible()
    await keyboard_move(theirs, "Beta", "ArrowLeft")
    await expect(card(column(mine, "in_progress"), "Beta")).to_be_visible()
    await mine.locator("body").press("Control+z")
    await expect(mine.locator(".toast-error")).to_contain_text(
        "Dan Reyes changed ‘Beta’ after you moved it, so it was not undone."
    )
    assert (await stored(beta))[0] == "in_progress"
    await expect(card(column(theirs, "in_progress"), "Beta")).to_be_visible()


async def test_checklist_changes_are_undone_by_their_inverse(people, rest) -> None:
    kai = await rest.register("Kai")
    board = await rest.board(kai, "Lists")
    task = await rest.task(kai, board["id"], "Plan")
    for text in ("Outline", "Draft"):
        await rest.call("POST", f"/tasks/{task['id']}/checklist", kai, json={"text": text})
    page = await people.page("kai")
    await open_board(page, kai, board["id"])
    dialog, toast = page.get_by_test_id("task-dialog"), page.get_by_test_id("undo-toast")

    async def checklist() -> list[tuple[str, bool]]:
        return [(item["text"], item["done"]) for item in (await rest.get_task(kai, task["id"]))["checklist"]]

    async def undo_after(label: str) -> None:
        await expect(toast).to_contain_text(label)
        await dialog.get_by_role("button", name="Close").click()
        await page.locator("body").press("Control+z")
        await expect(toast).to_have_count(0)
        await page.get_by_role("button", name="Open task: Plan").click()

    await page.get_by_role("button", name="Open task: Plan").click()
    await dialog.get_by_test_id("checklist-input").fill("Review")
    await dialog.get_by_test_id("checklist-input").press("Enter")
    await undo_after("Added ‘Review’ to the checklist")
    await eventually(checklist, [("Outline", False), ("Draft", False)])

    await dialog.get_by_test_id("checklist-tick").first.check()
    await expect(toast).to_contain_text("Ticked ‘Outline’")
    await dialog.get_by_role("button", name="Remove Outline").click()
    await dialog.get_by_role("button", name="Confirm: remove Outline").click()
    await undo_after("Removed ‘Outline’ from the checklist")
    await eventually(checklist, [("Outline", True), ("Draft", False)])

    await dialog.get_by_role("button", name="Move Draft up").click()
    await undo_after("Moved ‘Draft’ in the checklist")
    await eventually(checklist, [("Outline", True), ("Draft", False)])
