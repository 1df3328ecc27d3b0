"""The dashboard as a new user meets it: what they would notice at once, each checked in
Chromium (issue 15, item 8): the side panel folds so many columns fit 1280 px, keyboard
shortcuts, one search rule with the API, column counts during a keyboard move, no stray
list bullet while dragging, avatars and long labels that keep their size, dark mode, a
boards list that is live, and a long column read in pages."""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.async_api import expect

from tests.browser.server import REPO_ROOT
from tests.browser.support import card, column, open_board, sign_in

pytestmark = pytest.mark.browser

FOUR_COLUMNS = ["backlog", "todo", "in_progress", "done"]


async def test_folding_the_side_panel_fits_four_columns_in_1280_px_and_is_remembered(people, rest) -> None:
    ada = await rest.register("Ada")
    board = await rest.board(ada, "Wide", columns=FOUR_COLUMNS)
    page = await people.page("ada")
    await open_board(page, ada, board["id"])

    def last_column_in_view():
        return page.evaluate("""() => {
            const last = document.querySelector('[data-testid=column-done]').getBoundingClientRect();
            const scroller = document.querySelector('.columns-scroller').getBoundingClientRect();
            return last.right <= scroller.right && scroller.right <= window.innerWidth;
        }""")

    assert not await last_column_in_view()  # cut off by the panel
    toggle = page.get_by_role("button", name="Hide activity and members")
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await toggle.click()
    await expect(page.get_by_test_id("activity")).to_be_hidden()
    assert await last_column_in_view()
    await page.reload()
    unfold = page.get_by_role("button", name="Show activity and members")
    await expect(unfold).to_have_attribute("aria-expanded", "false")
    await unfold.click()
    await expect(page.get_by_test_id("activity")).to_be_visible()


async def test_a_click_anywhere_on_a_card_opens_it_but_its_handle_does_not(people, rest) -> None:
    ada = await rest.register("Ada")
    board = await rest.board(ada, "Clicks")
    await rest.task(ada, board["id"], "Label me", labels=["somewhere"])
    page = await people.page("ada")
    await open_board(page, ada, board["id"])
    dialog = page.get_by_test_id("task-dialog")
    await card(page, "Label me").get_by_text("somewhere").click()  # the label chip, not the title
    await expect(dialog.get_by_label("Title")).to_have_value("Label me")
    await dialog.get_by_role("button", name="Cancel").click()
    await page.get_by_role("button", name="Move task: Label me").click()
    await expect(dialog).to_be_hidden()


async def test_keyboard_shortcuts_search_new_task_and_the_list(people, rest) -> None:
    ada = await rest.register("Ada")
    board = await rest.board(ada, "Keys")
    page = await people.page("ada")
    await open_board(page, ada, board["id"])

    await page.keyboard.press("/")
    await expect(page.get_by_test_id("search")).to_be_focused()
    await page.keyboard.type("n/")  # typed into the search box, not taken as shortcuts
    await expect(page.get_by_test_id("search")).to_have_value("n/")
    await page.get_by_test_id("search").fill("")
    await page.get_by_test_id("board-name").click()

    await page.keyboard.press("n")
    dialog = page.get_by_test_id("task-dialog")
    await expect(dialog.get_by_role("heading", name="New task")).to_be_visible()
    await expect(dialog.get_by_label("Title")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()

    await page.keyboard.press("?")
    shortcuts = page.get_by_test_id("shortcuts")
    await expect(shortcuts.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
    await expect(shortcuts).to_contain_text("New task")
    await page.keyboard.press("Escape")
    await expect(shortcuts).to_be_hidden()


async def test_the_dashboards_search_and_the_apis_find_the_same_tasks(people, rest) -> None:
    ada = await rest.register("Ada")
    board = await rest.board(ada, "Words")
    for title in ("Ship the announcement", "Relationship notes", "Shipping labels", "Café menu"):
        await rest.task(ada, board["id"], title)
    page = await people.page("ada")
    await open_board(page, ada, board["id"])

    for query in ("ship", "ship the ann", "cafe", "labels ship", "hip"):
        await page.get_by_test_id("search").fill(query)
        api = await rest.call("GET", f"/boards/{board['id']}/tasks", ada, params={"q": query})
        wanted = sorted(task["title"] for task in api["items"])
        shown = page.get_by_test_id("card")
        await expect(shown).to_have_count(len(wanted))
        assert sorted(await page.locator("[data-testid=card] .card-title").all_text_contents()) == wanted, query
    # Word prefixes, not substrings: "hip" is inside "Relationship" and "Shipping" but starts no word.
    assert wanted == []


async def test_a_keyboard_move_updates_the_column_counts_and_a_drag_shows_no_bullet(people, rest) -> None:
    kai = await rest.register("Kai")
    board = await rest.board(kai, "Counts")
    await rest.task(kai, board["id"], "First")
    await rest.task(kai, board["id"], "Second")
    page = await people.page("kai")
    await open_board(page, kai, board["id"])
    todo, doing = column(page, "todo"), column(page, "in_progress")
    await expect(todo.get_by_label("2 tasks")).to_be_visible()

    await page.get_by_role("button", name="Move task: First").focus()
    await page.keyboard.press("Space")
    await page.keyboard.press("ArrowRight")
    await expect(todo.get_by_label("1 task", exact=True)).to_be_visible()  # before the drop
    await expect(doing.get_by_label("1 task", exact=True)).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(todo.get_by_label("2 tasks")).to_be_visible()

    box = await card(page, "Second").bounding_box()
    await page.mouse.move(box["x"] + 30, box["y"] + 10)
    await page.mouse.down()
    await page.mouse.move(box["x"] + 300, box["y"] + 40, steps=5)
    ghost = page.locator(".drag-ghost")
    await expect(ghost).to_be_visible()
    # The ghost is a list item outside any list: no marker may be drawn beside it.
    assert await ghost.evaluate("node => getComputedStyle(node).listStyleType") == "none"
    await page.mouse.up()


async def test_avatars_do_not_cover_each_other_and_a_long_label_does_not_widen_the_filters(people, rest) -> None:
    owner = await rest.register("Mia Wong")
    others = [await rest.register(name) for name in ("Wes Moore", "Mo Wu")]
    board = await rest.board(owner, "Faces")
    for person in others:
        await rest.add_member(owner, board["id"], person, "editor")
    label = "a-very-long-label-that-someone-typed-in-a-hurry-x"
    await rest.task(owner, board["id"], "Pair on it", assignees=[owner.id] + [p.id for p in others], labels=[label])
    page = await people.page("mia")
    await open_board(page, owner, board["id"])
    avatars = card(page, "Pair on it").locator(".avatar")
    await expect(avatars).to_have_count(3)
    boxes = [await avatars.nth(i).bounding_box() for i in range(3)]
    for left, right in itertools.pairwise(boxes):
        assert left["x"] + left["width"] <= right["x"] + 0.5 or right["x"] + right["width"] <= left["x"] + 0.5

    bar = page.locator(".filter-bar")
    before = await bar.evaluate("node => [node.scrollWidth, node.getBoundingClientRect().height]")
    await page.get_by_test_id("filter-label").select_option(label)
    after = await bar.evaluate("node => [node.scrollWidth, node.getBoundingClientRect().height]")
    assert after == before
    assert (await page.get_by_test_id("filter-label").bounding_box())["width"] <= 12 * 14 + 1


async def test_dark_mode_follows_the_system_until_the_toggle_picks_one(people, rest) -> None:
    ada = await rest.register("Ada")
    board = await rest.board(ada, "Night shift")
    await rest.task(ada, board["id"], "Check the alerts", labels=["ops"], priority="high", description="Pager first.")
    await rest.task(ada, board["id"], "Rotate the keys", status="in_progress", assignees=[ada.id])
    page = await people.page("ada", color_scheme="dark")
    await open_board(page, ada, board["id"])
    await expect(card(page, "Rotate the keys")).to_be_visible()
    await page.screenshot(path=str(REPO_ROOT / "docs" / "screenshots" / "board-dark.png"))

    def background():
        return page.evaluate("getComputedStyle(document.documentElement).backgroundColor")

    assert await background() == "rgb(18, 20, 25)"
    toggle = page.get_by_role("button", name="Dark mode")
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-pressed", "false")
    assert await background() == "rgb(245, 246, 248)"
    await page.reload()
    await expect(page.get_by_role("button", name="Dark mode")).to_have_attribute("aria-pressed", "false")
    assert await background() == "rgb(245, 246, 248)"


async def test_being_added_to_a_board_shows_it_in_the_boards_list_without_navigating(people, rest) -> None:
    ada = await rest.register("Ada")
    bob = await rest.register("Bob")
    board = await rest.board(ada, "Surprise")
    page = await people.page("bob")
    await sign_in(page, bob)
    await expect(page.get_by_test_id("board-tile")).to_have_count(1)  # his personal board
    await rest.add_member(ada, board["id"], bob, "editor")
    await expect(page.get_by_test_id("board-tile").filter(has_text="Surprise")).to_be_visible()
    await expect(page.get_by_test_id("board-tile")).to_have_count(2)


async def test_a_long_column_is_read_in_pages(people, rest) -> None:
    ada = await rest.register("Ada")
    board = await rest.board(ada, "Long")
    for number in range(57):
        await rest.task(ada, board["id"], f"Task {number:02d}")
    page = await people.page("ada")
    await open_board(page, ada, board["id"])
    todo = column(page, "todo")
    await expect(todo.get_by_test_id("card")).to_have_count(50)
    await expect(todo.locator(".column-count")).to_have_text("50+")
    more = todo.get_by_role("button", name="Show more (7 not loaded)")
    await more.click()
    await expect(todo.get_by_test_id("card")).to_have_count(57)
    await expect(todo.locator(".column-count")).to_have_text("57")
    await expect(more).to_be_hidden()
    await expect(todo.get_by_test_id("card").last).to_contain_text("Task 56")
    await expect(page.get_by_text(re.compile("not loaded"))).to_have_count(0)
