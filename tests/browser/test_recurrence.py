"""The repeat control in the task dialog, with two people: Ada makes a task repeat weekly
and marks it done by dragging it to Done on her board; Bob, in his own browser, sees the
next occurrence appear live, and his activity feed says it came round again. Saves
docs/screenshots/recurrence.png (the repeat control)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.server import REPO_ROOT
from tests.browser.support import card, column, open_board

pytestmark = pytest.mark.browser

SCREENSHOT = REPO_ROOT / "docs" / "screenshots" / "recurrence.png"


async def test_a_task_made_to_repeat_in_the_dialog_comes_round_again_when_done(people, rest) -> None:
    ada, bob = await rest.register("Ada Lovelace"), await rest.register("Bob Marsh")
    board = await rest.board(ada, "Home")
    await rest.add_member(ada, board["id"], bob, "editor")
    task = await rest.task(ada, board["id"], "Water the plants", due_at="2099-03-02T00:00:00Z")  # a Monday
    ada_page, bob_page = await people.page("ada"), await people.page("bob")
    await open_board(ada_page, ada, board["id"])
    await open_board(bob_page, bob, board["id"])
    await card(ada_page, "Water the plants").click()
    dialog = ada_page.get_by_test_id("task-dialog")
    repeat = dialog.get_by_test_id("repeat")
    await expect(repeat.get_by_test_id("repeat-summary")).to_have_text("Does not repeat")

    await repeat.get_by_label("Repeat").select_option("weekly")
    await repeat.get_by_role("checkbox", name="Mon").check()
    await repeat.get_by_role("checkbox", name="Thu").check()
    await repeat.get_by_role("button", name="Set repeat").click()
    await expect(repeat.get_by_test_id("repeat-summary")).to_have_text("Repeats every week on Mon, Thu")
    rule = (await rest.call("GET", f"/tasks/{task['id']}/recurrence", ada))["rule"]
    assert (rule["kind"], rule["weekdays"]) == ("weekly", ["mon", "thu"])
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await repeat.screenshot(path=str(SCREENSHOT))
    await dialog.get_by_role("button", name="Close").click()

    # Ada marks it done on her board; the next one comes round on Bob's, live.
    await card(ada_page, "Water the plants").drag_to(column(ada_page, "done").locator(".card-list"))
    for page in (bob_page, ada_page):
        await expect(card(column(page, "done"), "Water the plants")).to_be_visible()
        await expect(card(column(page, "todo"), "Water the plants")).to_be_visible()
        await expect(page.get_by_test_id("activity")).to_contain_text(
            re.compile("‘Water the plants’ came round again, due Mar 5")
        )
    tasks = {item["status"]: item for item in await rest.tasks(ada, board["id"])}
    assert tasks["done"]["id"] == task["id"] and tasks["todo"]["due_at"].startswith("2099-03-05")

    await card(column(bob_page, "todo"), "Water the plants").click()
    bob_repeat = bob_page.get_by_test_id("task-dialog").get_by_test_id("repeat")
    await expect(bob_repeat.get_by_test_id("repeat-summary")).to_have_text("Repeats every week on Mon, Thu")
    people.assert_no_errors()
