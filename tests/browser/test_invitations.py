"""Invitations in the dashboard, with two people: the owner invites an email that has no
account and copies the link (listed for admins, live); the newcomer opens it, signs up
with the email prefilled and lands on the board as a commenter, who can comment but not
edit; the owner sees them join live. Also: an archived board leaves the boards list and
comes back. Saves docs/screenshots/invitations.png."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.server import REPO_ROOT
from tests.browser.support import PASSWORD, open_board

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
# Adding an unknown email is first tried as a member (404 user_not_found), then invited.
EXPECTED_NOT_FOUND = (r"^Failed to load resource: the server responded with a status of 404 ",)


async def test_a_newcomer_joins_through_an_invitation_link_as_a_commenter(people, rest) -> None:
    olive = await rest.register("Olive Hart")
    board = await rest.board(olive, "Garden club")
    await rest.task(olive, board["id"], "Order seeds")
    owner = await people.page("olive", allowed=EXPECTED_NOT_FOUND)
    await open_board(owner, olive, board["id"])
    await owner.get_by_test_id("tab-members").click()
    await owner.get_by_test_id("invite-email").fill("newcomer@example.test")
    await owner.get_by_test_id("invite-role").select_option("commenter")
    await owner.get_by_role("button", name="Invite").click()
    link_box = owner.get_by_test_id("invite-link")
    await expect(link_box).to_contain_text("newcomer@example.test has no account yet")
    link = await owner.get_by_test_id("invite-link-input").input_value()
    assert "/invite#" in link
    invitations = owner.get_by_test_id("invitations")
    await expect(invitations.get_by_test_id("invitation")).to_contain_text("a commenter · expires next week")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await owner.screenshot(path=str(SCREENSHOTS / "invitations.png"))

    newcomer = await people.page("newcomer")
    await newcomer.goto(link)
    page = newcomer.get_by_test_id("invite-page")
    await expect(page).to_contain_text("Olive Hart invited newcomer@example.test to join Garden club as a commenter.")
    await expect(newcomer.get_by_label("Email")).to_have_value("newcomer@example.test")
    await newcomer.get_by_label("Name").fill("Nia Newcomer")
    await newcomer.get_by_label("Password").fill(PASSWORD)
    await newcomer.get_by_role("button", name="Create account").click()
    await expect(newcomer.get_by_test_id("board-name")).to_have_text("Garden club")
    assert newcomer.url.endswith(f"/boards/{board['id']}")

    # Olive sees Nia join and the invitation go, live.
    await expect(owner.get_by_test_id("members")).to_contain_text("Nia Newcomer")
    await expect(invitations).to_contain_text("None.")
    await owner.get_by_test_id("tab-activity").click()
    await expect(owner.get_by_test_id("activity")).to_contain_text("Nia Newcomer joined as a commenter by invitation")

    # A commenter reads and comments, and edits nothing.
    await expect(newcomer.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    await expect(newcomer.get_by_test_id("new-task")).to_be_hidden()
    await newcomer.get_by_role("button", name="Open task: Order seeds").click()
    dialog = newcomer.get_by_test_id("task-dialog")
    await expect(dialog.get_by_label("Title")).to_be_disabled()
    await expect(dialog.get_by_role("button", name="Save")).to_be_hidden()
    await expect(dialog.get_by_test_id("archive-task")).to_be_hidden()
    await dialog.get_by_test_id("comment-input").fill("Tomatoes please")
    await dialog.get_by_role("button", name="Comment", exact=True).click()
    await expect(dialog.get_by_test_id("comments")).to_contain_text("Tomatoes please")

    # The link is spent.
    stranger = await people.page("stranger")
    await stranger.goto(link)
    await expect(stranger.get_by_test_id("invite-page")).to_contain_text("This invitation is accepted")


async def test_an_archived_board_leaves_the_boards_list_and_comes_back(people, rest) -> None:
    ada = await rest.register("Ada")
    board = await rest.board(ada, "Old project")
    page = await people.page("ada")
    await open_board(page, ada, board["id"])
    await page.get_by_test_id("archive-board").click()
    await expect(page.get_by_test_id("board-archived")).to_be_visible()
    await page.get_by_role("link", name="Boards").click()
    await expect(page.get_by_test_id("board-tile")).to_have_count(1)  # only "My tasks"
    await expect(page.get_by_test_id("board-tile")).not_to_contain_text("Old project")
    await page.goto(f"/boards/{board['id']}")  # still reachable by its link
    await page.get_by_test_id("board-archived").get_by_role("button", name="Unarchive").click()
    await expect(page.get_by_test_id("board-archived")).to_be_hidden()
    await page.get_by_role("link", name="Boards").click()
    await expect(page.get_by_test_id("board-tile")).to_have_count(2)
