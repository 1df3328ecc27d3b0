"""Deleting a board in the dashboard, with two people: the board goes to the owner's trash
(an Undo toast, and a Trash section on the boards page), leaves the other member's boards
list live, and comes back live for them when the owner undoes or restores it; "Delete for
good" empties it from the trash."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.support import open_board

pytestmark = pytest.mark.browser


def tile(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("board-tile").filter(has_text=name)


async def delete_from_settings(page: Page) -> None:
    await page.get_by_test_id("board-settings-button").click()
    delete = page.get_by_test_id("delete-board")
    await expect(page.get_by_test_id("board-settings")).to_contain_text("Moves the board to the trash")
    await delete.click()
    await delete.click()  # confirm
    await expect(page).to_have_url(re.compile(r"/$"))


async def test_a_deleted_board_leaves_and_comes_back_live_and_can_be_deleted_for_good(people, rest) -> None:
    cora, dan = await rest.register("Cora Lind"), await rest.register("Dan Reyes")
    board = await rest.board(cora, "Release")
    await rest.add_member(cora, board["id"], dan, "editor")
    await rest.task(cora, board["id"], "Write the notes")
    mine, theirs = await people.page("cora"), await people.page("dan")
    await open_board(mine, cora, board["id"])
    # Dan on his boards page, his socket live (he came from a board page).
    await open_board(theirs, dan, board["id"])
    await theirs.get_by_role("link", name="Boards").click()
    await expect(tile(theirs, "Release")).to_be_visible()

    # Deleted: into Cora's trash with an Undo toast; gone from Dan's list at once.
    await delete_from_settings(mine)
    toast = mine.get_by_test_id("undo-toast")
    await expect(toast).to_contain_text("Moved ‘Release’ to the trash")
    await expect(tile(theirs, "Release")).to_have_count(0)
    await expect(tile(mine, "Release")).to_have_count(0)
    trash = mine.get_by_test_id("board-trash")
    await expect(trash.get_by_test_id("trashed-board")).to_contain_text("Release")
    await expect(trash).to_contain_text("emptied in 30 days")
    await expect(theirs.get_by_test_id("board-trash")).to_be_hidden()  # only owners have a trash

    # Undo: back for both, live.
    await toast.get_by_role("button", name="Undo").click()
    await expect(tile(mine, "Release")).to_be_visible()
    await expect(tile(theirs, "Release")).to_be_visible()
    await expect(trash).to_be_hidden()

    # Deleted again, restored from the Trash section: back for Dan, whole.
    await tile(mine, "Release").locator("a").click()
    await expect(mine.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    await delete_from_settings(mine)
    await expect(tile(theirs, "Release")).to_have_count(0)
    await trash.get_by_role("button", name="Restore Release").click()
    await expect(tile(theirs, "Release")).to_be_visible()
    await expect(tile(mine, "Release")).to_be_visible()
    await tile(theirs, "Release").locator("a").click()
    await expect(theirs.get_by_role("button", name="Open task: Write the notes")).to_be_visible()
    await expect(theirs.get_by_test_id("activity")).to_contain_text("Cora Lind restored the board from the trash")

    # Deleted for good (after a confirm): out of the trash, gone for Dan's open board too.
    await tile(mine, "Release").locator("a").click()
    await expect(mine.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    await delete_from_settings(mine)
    await expect(theirs.get_by_test_id("board-not-found")).to_contain_text("This board was deleted")
    forever = trash.get_by_role("button", name="Delete Release for good")
    await forever.click()
    await trash.get_by_role("button", name="Confirm: delete Release for good").click()
    await expect(trash).to_be_hidden()
    assert (await rest.call("GET", "/boards/trash", cora))["items"] == []
    response = await rest.client.get(f"/boards/{board['id']}", headers=cora.headers)
    assert response.status_code == 404
    people.assert_no_errors()
