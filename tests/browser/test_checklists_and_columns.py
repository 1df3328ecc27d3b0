"""Checklists and the column editor, with two people in two browsers: one ticks, adds,
edits, reorders and removes checklist items and the other sees each change live, on the
card's progress chip too; an admin renames, adds, limits, reorders and removes columns and
renames the board, and the other person's board follows live, warned when a column holds
more tasks than its limit."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.server import REPO_ROOT
from tests.browser.support import PHONE, card, column, open_board

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


async def two_people_on_a_board(people, rest, columns=None, role="editor"):
    ada = await rest.register("Ada Lovelace")
    bob = await rest.register("Bob Okafor")
    board = await rest.board(ada, "Launch", **({"columns": columns} if columns else {}))
    await rest.add_member(ada, board["id"], bob, role)
    return ada, bob, board


async def open_task(page, title: str):
    await card(page, title).click()
    dialog = page.get_by_test_id("task-dialog")
    await expect(dialog).to_be_visible()
    return dialog


async def add_item(dialog, text: str) -> None:
    await dialog.get_by_test_id("checklist-input").fill(text)
    await dialog.get_by_role("button", name="Add", exact=True).click()


async def test_checklist_changes_show_live_for_the_other_person(people, rest) -> None:
    ada, bob, board = await two_people_on_a_board(people, rest)
    await rest.task(ada, board["id"], "Write the launch post")
    pages = {}
    for name, account in (("ada", ada), ("bob", bob)):
        pages[name] = page = await people.page(name)
        await open_board(page, account, board["id"])
    ada_page, bob_page = pages["ada"], pages["bob"]
    ada_dialog = await open_task(ada_page, "Write the launch post")
    bob_card = card(bob_page, "Write the launch post")
    await expect(bob_card.get_by_test_id("checklist-progress")).to_have_count(0)

    for text in ("Outline", "Draft", "Review"):
        await add_item(ada_dialog, text)
    await expect(ada_dialog.get_by_test_id("checklist-text")).to_have_text(["Outline", "Draft", "Review"])
    await expect(bob_card.get_by_test_id("checklist-progress")).to_have_text("☑0/3")

    # Bob opens the task; Ada ticks an item and Bob sees the box tick and the count move.
    bob_dialog = await open_task(bob_page, "Write the launch post")
    await expect(bob_dialog.get_by_test_id("checklist-progress-text")).to_have_text("0/3")
    await ada_dialog.get_by_role("checkbox", name="Outline").check()
    await expect(bob_dialog.get_by_role("checkbox", name="Outline")).to_be_checked()
    await expect(bob_dialog.get_by_test_id("checklist-progress-text")).to_have_text("1/3")
    # Bob ticks one back: both ways, and no "someone changed this task" warning for a tick.
    await bob_dialog.get_by_role("checkbox", name="Draft").check()
    await expect(ada_dialog.get_by_role("checkbox", name="Draft")).to_be_checked()
    await expect(ada_dialog.get_by_role("status")).to_be_hidden()

    # Ada edits an item's text, moves one up, and removes one.
    await ada_dialog.get_by_role("button", name="Review", exact=True).click()
    editor = ada_dialog.get_by_role("textbox", name="Edit the item")
    await expect(editor).to_be_focused()
    await editor.fill("Review with Bob")
    await editor.press("Enter")
    await expect(bob_dialog.get_by_test_id("checklist-text")).to_have_text(["Outline", "Draft", "Review with Bob"])
    await ada_dialog.get_by_role("button", name="Move Review with Bob up").click()
    await expect(bob_dialog.get_by_test_id("checklist-text")).to_have_text(["Outline", "Review with Bob", "Draft"])
    remove = ada_dialog.get_by_role("button", name="Remove Outline")
    await remove.click()
    await ada_dialog.get_by_role("button", name="Confirm: remove Outline").click()
    await expect(bob_dialog.get_by_test_id("checklist-text")).to_have_text(["Review with Bob", "Draft"])
    await expect(bob_dialog.get_by_test_id("checklist-progress-text")).to_have_text("1/2")

    # Bob's edit of the title after all this saves without a conflict round.
    await bob_dialog.get_by_label("Title").fill("Write the launch post (v2)")
    await bob_dialog.get_by_role("button", name="Save").click()
    await expect(bob_dialog).to_be_hidden()
    await expect(card(ada_page, "Write the launch post (v2)")).to_be_visible()
    await ada_dialog.get_by_role("button", name="Close").click()
    await expect(
        card(ada_page, "Write the launch post (v2)").get_by_role("img", name="Checklist: 1 of 2 done")
    ).to_be_visible()

    # The activity feed says what happened, in words.
    feed = ada_page.get_by_test_id("activity")
    await expect(feed).to_contain_text("Bob Okafor ticked ‘Draft’ on ‘Write the launch post’")
    await expect(feed).to_contain_text("You removed ‘Outline’ from the checklist of ‘Write the launch post’")
    await expect(feed).to_contain_text("You reordered the checklist of ‘Write the launch post’")
    task = (await rest.tasks(ada, board["id"]))[0]
    assert [(item["text"], item["done"]) for item in task["checklist"]] == [("Review with Bob", False), ("Draft", True)]
    people.assert_no_errors()


async def test_a_viewer_sees_the_checklist_but_cannot_change_it(people, rest) -> None:
    ada, vic, board = await two_people_on_a_board(people, rest, role="viewer")
    task = await rest.task(ada, board["id"], "Book the venue")
    await rest.call("POST", f"/tasks/{task['id']}/checklist", ada, json={"text": "Call them"})
    page = await people.page("vic")
    await open_board(page, vic, board["id"])
    dialog = await open_task(page, "Book the venue")
    await expect(dialog.get_by_role("checkbox", name="Call them")).to_be_disabled()
    await expect(dialog.get_by_test_id("checklist-input")).to_be_hidden()
    await expect(dialog.get_by_role("button", name="Remove Call them")).to_have_count(0)
    people.assert_no_errors()


async def test_the_column_editor_changes_the_board_live_for_the_other_person(people, rest) -> None:
    ada, bob, board = await two_people_on_a_board(people, rest)
    for title in ("Ship it", "Test it", "Fix it"):
        await rest.task(ada, board["id"], title, status="in_progress")
    pages = {}
    for name, account in (("ada", ada), ("bob", bob)):
        # Ada's attempt to remove a column that holds tasks is answered 409, on purpose.
        pages[name] = page = await people.page(name, allowed=(r"status of 409",))
        await open_board(page, account, board["id"])
    ada_page, bob_page = pages["ada"], pages["bob"]
    # Only admins and owners get the settings.
    await expect(bob_page.get_by_test_id("board-settings-button")).to_be_hidden()
    await ada_page.get_by_test_id("board-settings-button").click()
    editor = ada_page.get_by_test_id("board-settings")
    await expect(editor).to_be_visible()

    # Rename a column to free text: Bob's column title follows, the key (and the tasks) stay.
    name = editor.get_by_role("textbox", name="Name of To do")
    await name.fill("Backlog 📥")
    await name.press("Enter")
    await expect(column(bob_page, "todo").locator(".column-title")).to_have_text("Backlog 📥")

    # Add a column with a free-text name: it appears for Bob at once.
    await editor.get_by_test_id("new-column-name").fill("Code Review 👀")
    await editor.get_by_role("button", name="Add column").click()
    await expect(column(bob_page, "code_review").locator(".column-title")).to_have_text("Code Review 👀")

    # A limit of 2 on In progress, which holds 3: both see the limit and the warning.
    limit = editor.get_by_role("spinbutton", name="Limit of In progress")
    await limit.fill("2")
    await limit.press("Enter")
    for page in (ada_page, bob_page):
        await expect(column(page, "in_progress").locator(".column-count")).to_have_text("3 / 2")
        await expect(column(page, "in_progress").get_by_test_id("wip-warning")).to_have_text(
            "Over the limit: 3 tasks, limit 2"
        )
    # Warned, not refused: Bob can still add a fourth, and is told it is over.
    await bob_page.get_by_role("button", name="Add a task to In progress").click()
    bob_dialog = bob_page.get_by_test_id("task-dialog")
    await bob_dialog.get_by_label("Title").fill("Document it")
    await bob_dialog.get_by_role("button", name="Save").click()
    await expect(bob_page.locator(".toast-warning")).to_have_text(
        re.compile("In progress is over its limit: 4 tasks, limit 2.")
    )
    await expect(column(ada_page, "in_progress").get_by_test_id("wip-warning")).to_contain_text("4 tasks")

    # Reorder: move Code Review left, before Done.
    await editor.get_by_role("button", name="Move Code Review 👀 left").click()
    titles = bob_page.locator(".column:not([hidden]) .column-title")
    await expect(titles).to_have_text(["Backlog 📥", "In progress", "Code Review 👀", "Done"])

    # Removing a column that holds tasks is refused with a reason; an empty one goes.
    remove = editor.get_by_role("button", name="Remove In progress")
    await remove.click()
    await editor.get_by_role("button", name="Confirm: remove In progress").click()
    await expect(editor.get_by_role("alert")).to_contain_text("Move the tasks out of 'in_progress'")
    await editor.get_by_role("button", name="Remove Done").click()
    await editor.get_by_role("button", name="Confirm: remove Done").click()
    await expect(titles).to_have_text(["Backlog 📥", "In progress", "Code Review 👀"])

    # Rename the board: Bob's header follows.
    await editor.get_by_test_id("board-name-input").fill("Launch 2027")
    await editor.get_by_role("button", name="Rename").click()
    await expect(bob_page.get_by_test_id("board-name")).to_have_text("Launch 2027")

    # Bob's task dialog and filters offer the new names.
    await card(bob_page, "Ship it").click()
    options = bob_page.get_by_test_id("task-dialog").get_by_label("Column").locator("option")
    await expect(options).to_have_text(["Backlog 📥", "In progress", "Code Review 👀"])
    # A rename while Bob's dialog is open shows in its choices at once.
    name = editor.get_by_role("textbox", name="Name of In progress")
    await name.fill("Doing")
    await name.press("Enter")
    await expect(options).to_have_text(["Backlog 📥", "Doing", "Code Review 👀"])
    feed = bob_page.get_by_test_id("activity")
    await expect(feed).to_contain_text("Ada Lovelace renamed the column ‘To do’ to ‘Backlog 📥’")
    await expect(feed).to_contain_text("Ada Lovelace added the column ‘Code Review 👀’")
    await expect(feed).to_contain_text("Ada Lovelace limited ‘In progress’ to 2 tasks")
    await expect(feed).to_contain_text("Ada Lovelace removed the column ‘Done’")
    await expect(feed).to_contain_text("Ada Lovelace renamed the board to ‘Launch 2027’")
    people.assert_no_errors()


async def test_an_owner_deletes_the_board_from_its_settings(people, rest) -> None:
    ada, bob, board = await two_people_on_a_board(people, rest)
    ada_page, bob_page = await people.page("ada"), await people.page("bob")
    await open_board(ada_page, ada, board["id"])
    await open_board(bob_page, bob, board["id"])
    await ada_page.get_by_test_id("board-settings-button").click()
    delete = ada_page.get_by_test_id("delete-board")
    await delete.click()
    await expect(delete).to_have_accessible_name("Confirm: delete this board")
    await delete.click()
    await expect(ada_page).to_have_url(re.compile(r"/$"))
    await expect(ada_page.get_by_test_id("board-tile").filter(has_text="Launch")).to_have_count(0)
    await expect(bob_page.get_by_test_id("board-not-found")).to_contain_text("This board was deleted")
    response = await rest.client.get(f"/boards/{board['id']}", headers=ada.headers)
    assert response.status_code == 404
    people.assert_no_errors()


async def test_the_settings_and_the_checklist_fit_a_phone(people, rest) -> None:
    ada, _, board = await two_people_on_a_board(people, rest, columns=["To Do", "In progress", "Code Review", "Done"])
    task = await rest.task(ada, board["id"], "Write the launch post")
    await rest.call("POST", f"/tasks/{task['id']}/checklist", ada, json={"text": "A rather long checklist item " * 4})
    phone = await people.page("ada", viewport=PHONE, is_mobile=True, has_touch=True)
    await open_board(phone, ada, board["id"])
    await phone.get_by_test_id("board-settings-button").click()
    settings = phone.get_by_test_id("board-settings")
    await expect(settings.get_by_role("button", name="Remove Code Review")).to_be_visible()
    assert await settings.evaluate("node => node.scrollWidth <= node.clientWidth")
    await settings.get_by_role("button", name="Close").click()
    dialog = await open_task(phone, "Write the launch post")
    await expect(dialog.get_by_role("button", name=re.compile("^Remove A rather long"))).to_be_visible()
    assert await dialog.evaluate("node => node.scrollWidth <= node.clientWidth")
    people.assert_no_errors()


async def test_checklist_and_column_editor_screenshots(people, rest) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ada, bob, board = await two_people_on_a_board(people, rest, columns=["To Do", "In progress", "Code Review", "Done"])
    task = await rest.task(ada, board["id"], "Write the launch post", status="in_progress", labels=["marketing"])
    for text in ("Outline the story", "First draft", "Screenshots of the new editor", "Review with Bob", "Publish"):
        await rest.call("POST", f"/tasks/{task['id']}/checklist", ada, json={"text": text})
    current = await rest.get_task(ada, task["id"])
    for item in current["checklist"][:3]:
        await rest.call("PATCH", f"/tasks/{task['id']}/checklist/{item['id']}", bob, json={"done": True})
    for title in ("Fix the signup email", "Pricing page copy"):
        await rest.task(ada, board["id"], title, status="code_review")
    await rest.call("PATCH", f"/boards/{board['id']}/columns/code_review", ada, json={"wip_limit": 1})
    page = await people.page("ada")
    await open_board(page, ada, board["id"])
    await expect(card(page, "Write the launch post").get_by_test_id("checklist-progress")).to_have_text("☑3/5")
    dialog = await open_task(page, "Write the launch post")
    await expect(dialog.get_by_test_id("checklist-item")).to_have_count(5)
    await page.screenshot(path=str(SCREENSHOTS / "checklist.png"))
    await dialog.get_by_role("button", name="Close").click()
    await page.get_by_test_id("board-settings-button").click()
    await expect(page.get_by_test_id("column-editor").get_by_role("listitem")).to_have_count(4)
    await page.screenshot(path=str(SCREENSHOTS / "column-editor.png"))
    people.assert_no_errors()
