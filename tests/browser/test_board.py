"""One person on a board: tasks in the dialog, filters in the URL, moving cards with the
keyboard, and boards they are not on."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.support import card, column, eventually, open_board, sign_in

pytestmark = pytest.mark.browser


async def test_a_task_is_created_edited_and_deleted_in_the_dialog(people, rest) -> None:
    ada = await rest.register("Ada")
    board = await rest.board(ada, "Launch")
    page = await people.page("ada")
    await open_board(page, ada, board["id"])

    await page.get_by_role("button", name="Add a task to In progress").click()
    dialog = page.get_by_test_id("task-dialog")
    await dialog.get_by_label("Title").fill("Ship it")
    await expect(dialog.get_by_label("Column")).to_have_value("in_progress")
    await dialog.get_by_label("Labels").fill("release, web")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    await expect(card(column(page, "in_progress"), "Ship it")).to_be_visible()

    await page.get_by_role("button", name="Open task: Ship it").click()
    await dialog.get_by_label("Title").fill("Ship it today")
    await dialog.get_by_label("Description").fill("Tag, build, announce.")
    await dialog.get_by_label("Priority").select_option("urgent")
    await dialog.get_by_label("Due date").fill("2030-01-15")
    await dialog.get_by_label("Ada (you)").check()
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    shipped = card(page, "Ship it today")
    await expect(shipped).to_contain_text("Urgent")
    await expect(shipped).to_contain_text("Jan 15")
    await expect(shipped.get_by_role("img", name="Ada")).to_be_visible()

    # The description is co-edited live and written to the task once the dialog closes.
    async def stored_description() -> str:
        return (await rest.tasks(ada, board["id"]))[0]["description"]

    await eventually(stored_description, "Tag, build, announce.")
    [stored] = await rest.tasks(ada, board["id"])
    assert stored["assignees"] == [ada.id]
    assert stored["due_at"].startswith("2030-01-15") and stored["labels"] == ["release", "web"]
    await expect(page.get_by_test_id("activity")).to_contain_text("You updated ‘Ship it today’")

    await page.get_by_role("button", name="Open task: Ship it today").click()
    await dialog.get_by_role("button", name="Delete", exact=True).click()
    await dialog.get_by_role("button", name="Delete task").click()
    await expect(page.get_by_test_id("card")).to_have_count(0)
    assert await rest.tasks(ada, board["id"]) == []


async def test_search_and_filters_live_in_the_url_and_survive_a_reload(people, rest) -> None:
    fay = await rest.register("Fay")
    board = await rest.board(fay, "Site")
    await rest.task(fay, board["id"], "Fix login bug", labels=["bug"], assignees=[fay.id])
    await rest.task(fay, board["id"], "Write docs", labels=["docs"], status="in_progress")
    await rest.task(fay, board["id"], "Fix footer bug", labels=["bug"], status="done")
    page = await people.page("fay")
    await open_board(page, fay, board["id"])
    await expect(page.get_by_test_id("card")).to_have_count(3)

    await page.get_by_test_id("filter-label").select_option("bug")
    await expect(page.get_by_test_id("card")).to_have_count(2)
    await expect(page).to_have_url(re.compile(r"\?label=bug$"))
    await page.get_by_test_id("search").fill("footer")
    await expect(page.get_by_test_id("card")).to_have_count(1)
    await expect(page).to_have_url(re.compile(r"\?q=footer&label=bug$"))

    await page.reload()
    await expect(page.get_by_test_id("search")).to_have_value("footer")
    await expect(page.get_by_test_id("filter-label")).to_have_value("bug")
    await expect(page.get_by_test_id("card")).to_have_count(1)
    await expect(card(page, "Fix footer bug")).to_be_visible()

    await page.get_by_role("button", name="Clear filters").click()
    await page.get_by_test_id("filter-mine").check()
    await expect(page).to_have_url(re.compile(r"\?mine=1$"))
    await expect(page.get_by_test_id("card")).to_have_count(1)
    await expect(card(page, "Fix login bug")).to_be_visible()

    await page.goto(f"/boards/{board['id']}?status=in_progress")
    await expect(page.get_by_test_id("filter-status")).to_have_value("in_progress")
    await expect(column(page, "todo")).to_be_hidden()
    await expect(page.get_by_test_id("card")).to_have_count(1)


async def test_the_keyboard_picks_up_moves_and_drops_a_card(people, rest) -> None:
    kai = await rest.register("Kai")
    board = await rest.board(kai, "Keys")
    first = await rest.task(kai, board["id"], "First")
    await rest.task(kai, board["id"], "Second")
    doing = await rest.task(kai, board["id"], "Doing", status="in_progress")
    page = await people.page("kai")
    await open_board(page, kai, board["id"])

    grip = page.get_by_role("button", name="Move task: First")
    await grip.focus()
    await page.keyboard.press("Space")
    await expect(card(page, "First")).to_have_class(re.compile("card-grabbed"))
    await page.keyboard.press("ArrowDown")  # below Second
    await page.keyboard.press("ArrowRight")  # to In progress, same position: below Doing
    await page.keyboard.press("Enter")
    await expect(card(column(page, "in_progress"), "First")).to_be_visible()
    await expect(grip).to_be_focused()

    async def order(status: str) -> list[str]:
        tasks = [t for t in await rest.tasks(kai, board["id"]) if t["status"] == status]
        return [t["title"] for t in sorted(tasks, key=lambda t: t["position"])]

    await eventually(lambda: order("in_progress"), ["Doing", "First"])
    assert (await rest.get_task(kai, first["id"]))["version"] == 2

    await grip.focus()
    await page.keyboard.press("Enter")
    await page.keyboard.press("ArrowUp")  # above Doing
    await page.keyboard.press("Escape")  # ...cancelled: nothing moves
    await expect(column(page, "in_progress").get_by_test_id("card").first).to_contain_text("Doing")
    assert await order("in_progress") == ["Doing", "First"]
    assert (await rest.get_task(kai, doing["id"]))["version"] == 1


async def test_a_non_member_opening_a_board_link_sees_not_found(people, rest) -> None:
    owner = await rest.register("Olga")
    board = await rest.board(owner, "Secret plans")
    await rest.task(owner, board["id"], "Hidden task")
    stranger = await rest.register("Stan")
    page = await people.page("stan")
    await sign_in(page, stranger, f"/boards/{board['id']}")
    await expect(page.get_by_test_id("board-not-found")).to_be_visible()
    await expect(page.get_by_role("heading", name="Board not found")).to_be_visible()
    await expect(page.get_by_text("Secret plans")).to_have_count(0)
    await expect(page.get_by_text("Hidden task")).to_have_count(0)
    await page.get_by_role("link", name="Back to your boards").click()
    await expect(page.get_by_role("heading", name="Your boards")).to_be_visible()
