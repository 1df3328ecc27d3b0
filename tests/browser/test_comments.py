"""Comments and history in the task dialog, with two people in two browsers: a comment
appears live for the other both ways, only your own can be edited or deleted, @mentions
are picked from the board's members with the keyboard, the card counts the comments, the
activity feed says what happened, and the dialog shows the task's own history."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.server import REPO_ROOT
from tests.browser.support import card, open_board

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


async def two_people_on_a_task(people, rest, title: str = "Write the launch post"):
    ada = await rest.register("Ada Lovelace")
    bob = await rest.register("Bob Okafor")
    board = await rest.board(ada, "Launch")
    await rest.add_member(ada, board["id"], bob, "editor")
    task = await rest.task(ada, board["id"], title, description="Draft, review, publish.")
    pages = {}
    for name, account in (("ada", ada), ("bob", bob)):
        page = await people.page(name)
        await open_board(page, account, board["id"])
        await card(page, title).click()  # anywhere on the card, not only its title
        pages[name] = page
    return ada, bob, board, task, pages


async def say(page, text: str) -> None:
    dialog = page.get_by_test_id("task-dialog")
    await dialog.get_by_label("Add a comment").fill(text)
    await dialog.get_by_role("button", name="Comment", exact=True).click()


async def test_comments_arrive_live_both_ways_and_only_your_own_can_be_edited_or_deleted(people, rest) -> None:
    _, _, _, _, pages = await two_people_on_a_task(people, rest)
    ada, bob = pages["ada"], pages["bob"]
    ada_thread = ada.get_by_test_id("task-dialog").get_by_test_id("comments")
    bob_thread = bob.get_by_test_id("task-dialog").get_by_test_id("comments")
    await expect(bob_thread).to_contain_text("No comments yet.")

    await say(ada, "First draft is in the doc.")
    await expect(bob_thread.get_by_test_id("comment")).to_have_text(
        [re.compile("Ada Lovelace.*First draft is in the doc.")]
    )
    await say(bob, "Reading it now.")
    await expect(ada_thread.get_by_test_id("comment")).to_have_count(2)
    await expect(ada_thread.get_by_test_id("comment").nth(1)).to_contain_text("Bob Okafor")
    await expect(ada_thread.get_by_test_id("comment").nth(1)).to_contain_text("Reading it now.")  # newest last

    # Only your own: Bob has Edit and Delete on his comment, none on Ada's.
    ada_comment_for_bob = bob_thread.get_by_test_id("comment").nth(0)
    await expect(ada_comment_for_bob.get_by_role("button")).to_have_count(0)
    await expect(
        bob_thread.get_by_test_id("comment").nth(1).get_by_role("button", name="Edit your comment")
    ).to_be_visible()

    # Ada edits hers: Bob sees the new text, marked edited.
    await ada_thread.get_by_role("button", name="Edit your comment").click()
    editor = ada_thread.get_by_role("combobox", name="Edit your comment")
    await expect(editor).to_be_focused()
    await editor.fill("Second draft is in the doc.")
    await editor.press("Control+Enter")
    await expect(ada_for_bob := bob_thread.get_by_test_id("comment").nth(0)).to_contain_text(
        "Second draft is in the doc."
    )
    await expect(ada_for_bob).to_contain_text("(edited)")

    # Both cards count the comments, live.
    for page in (ada, bob):
        await page.get_by_test_id("task-dialog").get_by_role("button", name="Close").click()
        await expect(card(page, "Write the launch post").get_by_test_id("comment-count")).to_have_text("2")
    await expect(card(bob, "Write the launch post").get_by_role("img", name="2 comments")).to_be_visible()
    await expect(card(bob, "Write the launch post").get_by_role("img", name="Has a description")).to_be_visible()
    await expect(bob.get_by_test_id("activity")).to_contain_text("Ada Lovelace commented on ‘Write the launch post’")
    await expect(bob.get_by_test_id("activity")).to_contain_text(
        "Ada Lovelace edited a comment on ‘Write the launch post’"
    )

    # Bob deletes his (a second press confirms): gone for Ada, and her card counts 1.
    await card(bob, "Write the launch post").click()
    delete = bob_thread.get_by_role("button", name="Delete your comment", exact=True)
    await delete.click()
    await bob_thread.get_by_role("button", name="Confirm: delete your comment").click()
    await expect(bob_thread.get_by_test_id("comment")).to_have_count(1)
    await expect(card(ada, "Write the launch post").get_by_test_id("comment-count")).to_have_text("1")
    await expect(ada.get_by_test_id("activity")).to_contain_text(
        "Bob Okafor deleted a comment on ‘Write the launch post’"
    )


async def test_a_mention_is_picked_from_the_members_with_the_keyboard(people, rest) -> None:
    _, _, board, task, pages = await two_people_on_a_task(people, rest)
    ada, bob = pages["ada"], pages["bob"]
    box = ada.get_by_test_id("task-dialog").get_by_role("combobox", name="Add a comment")
    await box.click()
    await box.press_sequentially("Over to @bo")
    options = ada.get_by_test_id("mention-list").get_by_role("option")
    await expect(box).to_have_attribute("aria-expanded", "true")
    await expect(options).to_have_count(1)
    await expect(options.first).to_contain_text("Bob Okafor")
    await box.press("Enter")
    await expect(box).to_have_value("Over to @Bob Okafor ")
    await expect(box).to_have_attribute("aria-expanded", "false")
    await box.press_sequentially("for review")
    # Escape closes an open list without closing the dialog.
    await box.press_sequentially(" cc @")
    await expect(options).to_have_count(2)
    await box.press("Escape")
    await expect(ada.get_by_test_id("mention-list")).to_be_hidden()
    await expect(ada.get_by_test_id("task-dialog")).to_be_visible()
    await box.press("Backspace")
    await box.press("Backspace")
    await box.press("Backspace")
    await box.press("Backspace")
    await box.press("Control+Enter")

    bob_thread = bob.get_by_test_id("task-dialog").get_by_test_id("comments")
    await expect(bob_thread.locator(".mention")).to_have_text("@Bob Okafor")
    await expect(bob.get_by_test_id("notifications-badge")).to_have_text("2")  # added to the board, mentioned
    await expect(bob.get_by_test_id("activity")).to_contain_text(
        "Ada Lovelace mentioned you on ‘Write the launch post’"
    )


async def test_the_dialog_shows_the_tasks_own_history_live(people, rest) -> None:
    ada_account, _, board, task, pages = await two_people_on_a_task(people, rest, "Book the venue")
    ada, bob = pages["ada"], pages["bob"]
    await rest.task(ada_account, board["id"], "Another task")  # not in this task's history
    await rest.call("POST", f"/tasks/{task['id']}/move", ada_account, json={"status": "in_progress"})
    dialog = bob.get_by_test_id("task-dialog")
    await dialog.get_by_text("History").click()
    history = dialog.get_by_test_id("history")
    await expect(history.get_by_role("listitem")).to_have_text(
        [
            re.compile("Ada Lovelace created ‘Book the venue’ in To do"),
            re.compile("Ada Lovelace moved ‘Book the venue’ to In progress"),
        ]
    )
    await say(ada, "Venue called back.")
    await expect(history.get_by_role("listitem")).to_have_count(3)
    await expect(history.get_by_role("listitem").nth(2)).to_contain_text("Ada Lovelace commented on ‘Book the venue’")


async def test_comment_thread_screenshot(people, rest) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _, _, _, _, pages = await two_people_on_a_task(people, rest)
    ada, bob = pages["ada"], pages["bob"]
    await say(ada, "First draft is in the doc. @Bob Okafor can you review the intro?")
    await say(bob, "On it, comments by noon.")
    dialog = ada.get_by_test_id("task-dialog")
    await expect(dialog.get_by_test_id("comment")).to_have_count(2)
    await dialog.get_by_role("combobox", name="Add a comment").press_sequentially("Thanks @")
    await expect(ada.get_by_test_id("mention-list").get_by_role("option")).to_have_count(2)
    await dialog.get_by_test_id("comments").scroll_into_view_if_needed()
    await ada.screenshot(path=str(SCREENSHOTS / "task-comments.png"))
