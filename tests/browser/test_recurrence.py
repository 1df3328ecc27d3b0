"""The repeat control in the task dialog: Ada makes a task repeat weekly; when Bob, in his
own browser, drags nothing but sets it to Done through the API, the next occurrence
appears on both boards live, and the activity feed says so."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.support import card, column, open_board

pytestmark = pytest.mark.browser


async def test_a_task_made_to_repeat_in_the_dialog_comes_round_again_when_done(people, rest) -> None:
    ada = await rest.register("Ada Lovelace")
    board = await rest.board(ada, "Home")
    task = await rest.task(ada, board["id"], "Water the plants", due_at="2099-03-02T00:00:00Z")  # a Monday
    page = await people.page("ada")
    await open_board(page, ada, board["id"])
    await card(page, "Water the plants").click()
    dialog = page.get_by_test_id("task-dialog")
    repeat = dialog.get_by_test_id("repeat")
    await expect(repeat.get_by_test_id("repeat-summary")).to_have_text("Does not repeat")

    await repeat.get_by_label("Repeat").select_option("weekly")
    await repeat.get_by_role("checkbox", name="Mon").check()
    await repeat.get_by_role("checkbox", name="Thu").check()
    await repeat.get_by_role("button", name="Set repeat").click()
    await expect(repeat.get_by_test_id("repeat-summary")).to_have_text("Repeats every week on Mon, Thu")
    rule = (await rest.call("GET", f"/tasks/{task['id']}/recurrence", ada))["rule"]
    assert (rule["kind"], rule["weekdays"]) == ("weekly", ["mon", "thu"])
    await dialog.get_by_role("button", name="Close").click()

    await rest.patch_task(ada, task, status="done")
    todo = column(page, "todo")
    await expect(card(todo, "Water the plants")).to_be_visible()  # the next one, live
    await expect(page.get_by_test_id("activity")).to_contain_text(
        re.compile("‘Water the plants’ came round again, due Mar 5")
    )
    await card(todo, "Water the plants").click()
    await expect(repeat.get_by_test_id("repeat-summary")).to_have_text("Repeats every week on Mon, Thu")
    people.assert_no_errors()
