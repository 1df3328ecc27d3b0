"""The board view at desktop and phone width, saved to docs/screenshots/ by the test run
(the README shows them), and checked to fit a phone without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.server import REPO_ROOT
from tests.browser.support import DESKTOP, PHONE, card, column, open_board

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


async def seed_launch_board(rest) -> tuple[dict, dict]:
    alice = await rest.register("Alice Moreau")
    bob = await rest.register("Bob Okafor")
    carol = await rest.register("Carol Jensen")
    board = await rest.board(alice, "Website launch", description="Everything for the 2.0 launch")
    for person in (bob, carol):
        await rest.add_member(alice, board["id"], person, "editor")
    bid = board["id"]
    await rest.task(
        alice,
        bid,
        "Write launch announcement",
        labels=["marketing"],
        assignees=[carol.id],
        due_at="2030-03-14T00:00:00Z",
    )
    await rest.task(alice, bid, "Set up status page", labels=["ops"], priority="high")
    await rest.task(carol, bid, "Audit colour contrast", labels=["a11y", "design"], priority="low")
    await rest.task(carol, bid, "Collect beta feedback")
    await rest.task(
        bob,
        bid,
        "Migrate billing to the v2 API",
        labels=["backend"],
        priority="urgent",
        assignees=[bob.id],
        due_at="2030-03-02T00:00:00Z",
        status="in_progress",
    )
    await rest.task(
        carol, bid, "Design the pricing page", labels=["design"], assignees=[alice.id, carol.id], status="in_progress"
    )
    ship = await rest.task(alice, bid, "Ship it", labels=["release"], assignees=[alice.id])
    await rest.call("POST", f"/tasks/{ship['id']}/move", bob, json={"status": "done"})
    await rest.task(bob, bid, "Set up CI pipeline", labels=["ops"], status="done", assignees=[bob.id])
    return board, {"alice": alice, "bob": bob}


async def test_board_screenshots_at_desktop_and_phone_width(people, rest) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    board, who = await seed_launch_board(rest)
    bob_page = await people.page("bob")
    await open_board(bob_page, who["bob"], board["id"])

    desktop = await people.page("alice-desktop", viewport=DESKTOP)
    await open_board(desktop, who["alice"], board["id"])
    await expect(desktop.get_by_test_id("presence").get_by_role("img")).to_have_count(2)
    await expect(card(column(desktop, "done"), "Ship it")).to_be_visible()
    await expect(desktop.get_by_test_id("activity")).to_contain_text("Bob Okafor moved ‘Ship it’ to Done")
    # Carol assigned Alice to a task, and Bob moved a task Alice wrote (its author watches it):
    # a stable badge in the picture, not a race with the socket.
    await expect(desktop.get_by_test_id("notifications-badge")).to_have_text("2")
    await desktop.screenshot(path=str(SCREENSHOTS / "board-desktop.png"))

    phone = await people.page("alice-phone", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    await open_board(phone, who["alice"], board["id"])
    await expect(phone.get_by_test_id("presence").get_by_role("img")).to_have_count(2)
    await expect(phone.get_by_test_id("notifications-badge")).to_have_text("2")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await phone.screenshot(path=str(SCREENSHOTS / "board-phone.png"))

    # The task dialog fits the phone, and its controls are reachable.
    await phone.get_by_role("button", name="Open task: Write launch announcement").click()
    dialog = phone.get_by_test_id("task-dialog")
    box = await dialog.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    await expect(dialog.get_by_role("button", name="Save")).to_be_visible()
