"""The notifications bell: what someone else does to you (adds you to a board, assigns you a
task) reaches your open dashboard live, without a reload; the panel lists it in words, leads
to the task, and marks it read. Missed while offline, it is refetched on reconnect. Without
SMTP, the preferences page says that notifications only reach you in the app."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from playwright.async_api import Page, WebSocket, expect

from tests.browser.support import sign_in

pytestmark = pytest.mark.browser

LIVE_WITHIN_MS = 3000


class SocketLog:
    """What the dashboard's WebSocket receives (frames split on newlines), and its closes."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.messages: list[dict] = []
        self.closed = 0
        page.on("websocket", self._watch)

    def _watch(self, socket: WebSocket) -> None:
        socket.on(
            "framereceived",
            lambda frame: self.messages.extend(json.loads(line) for line in str(frame).splitlines() if line.strip()),
        )
        socket.on("close", lambda _socket: setattr(self, "closed", self.closed + 1))

    def of_type(self, kind: str) -> list[dict]:
        return [message for message in self.messages if message.get("type") == kind]

    async def wait(self, what: str, probe: Callable[[], bool]) -> None:
        for _ in range(200):
            if probe():
                return
            await self.page.wait_for_timeout(20)
        raise AssertionError(f"the socket never saw {what}: {self.messages!r}")

    async def subscribed(self, times: int = 1) -> None:
        await self.wait(
            f"notifications.subscribed x{times}", lambda: len(self.of_type("notifications.subscribed")) >= times
        )


async def test_bob_sees_being_added_and_assigned_live_opens_the_task_and_marks_all_read(people, rest) -> None:
    alice = await rest.register("Alice")
    bob = await rest.register("Bob")
    bob_page = await people.page("bob")
    socket = SocketLog(bob_page)
    notification_reads: list[str] = []
    bob_page.on(
        "request",
        lambda request: (
            notification_reads.append(request.url)
            if request.method == "GET" and "/api/v1/notifications" in request.url
            else None
        ),
    )
    await sign_in(bob_page, bob)
    await bob_page.evaluate("window.noReload = true")
    bell = bob_page.get_by_test_id("notifications-bell")
    badge = bob_page.get_by_test_id("notifications-badge")
    await socket.subscribed()
    await expect(badge).to_be_hidden()

    # Alice adds Bob to her board and assigns him a task: his badge says 2, live.
    board = await rest.board(alice, "Launch")
    await rest.add_member(alice, board["id"], bob, "editor")
    task = await rest.task(alice, board["id"], "Ship it", assignees=[bob.id])
    await expect(badge).to_have_text("2", timeout=LIVE_WITHIN_MS)
    await expect(bell).to_have_accessible_name("Notifications, 2 unread")
    assert [message["notification"]["type"] for message in socket.of_type("notification")] == [
        "member.added",
        "task.assigned",
    ]
    assert len(notification_reads) == 1, "the live ones came over the socket, not a refetch"

    # The panel lists both, newest first, unread.
    await bell.click()
    panel = bob_page.get_by_test_id("notifications-panel")
    items = panel.get_by_test_id("notification")
    await expect(items).to_have_count(2)
    await expect(items.nth(0)).to_contain_text("Alice assigned you to ‘Ship it’ on Launch, just now")
    await expect(items.nth(1)).to_contain_text("Alice added you to Launch as an editor, just now")
    for index in range(2):
        await expect(items.nth(index)).to_have_class("notice notice-unread")

    # The assignment leads to the task on its board, and is read now.
    await items.nth(0).get_by_role("link").click()
    await expect(bob_page.get_by_test_id("board-name")).to_have_text("Launch")
    await expect(bob_page.get_by_test_id("task-dialog").get_by_label("Title")).to_have_value(task["title"])
    assert bob_page.url.endswith(f"/boards/{board['id']}")
    await expect(badge).to_have_text("1")
    await expect(panel).to_be_hidden()
    await bob_page.keyboard.press("Escape")  # the task dialog
    await expect(bob_page.get_by_test_id("task-dialog")).to_be_hidden()

    # With the keyboard: open the panel, mark all read, Escape closes it back to the bell.
    await bell.focus()
    await bob_page.keyboard.press("Enter")
    await expect(items.nth(0)).not_to_have_class("notice notice-unread")
    await panel.get_by_role("button", name="Mark all read").click()
    await expect(badge).to_be_hidden()
    await expect(items.nth(1)).to_have_class("notice")
    await expect(bell).to_have_accessible_name("Notifications")

    # One more arrives while the panel is open: at the top, highlighted, counted.
    await rest.task(alice, board["id"], "Write release notes", assignees=[bob.id])
    await expect(items).to_have_count(3, timeout=LIVE_WITHIN_MS)
    await expect(items.nth(0)).to_contain_text("Alice assigned you to ‘Write release notes’ on Launch")
    await expect(items.nth(0)).to_have_class("notice notice-unread notice-flash")
    await expect(badge).to_have_text("1")
    await bell.focus()
    await bob_page.keyboard.press("Escape")
    await expect(panel).to_be_hidden()
    await expect(bell).to_be_focused()
    assert await bob_page.evaluate("window.noReload") is True
    read = await rest.call("GET", "/notifications", bob, params={"unread": "true"})
    assert read["unread_count"] == 1


async def test_notifications_missed_while_offline_are_refetched_on_reconnect(people, rest) -> None:
    alice = await rest.register("Alice")
    bob = await rest.register("Bob")
    board = await rest.board(alice, "Launch")
    # Going offline fails whatever read is still in flight (the bell's first one, on a slow
    # run), which Chromium logs: provoked by the test, not a fault of the dashboard.
    bob_page = await people.page("bob", allowed=(r"net::ERR_INTERNET_DISCONNECTED",))
    socket = SocketLog(bob_page)
    await sign_in(bob_page, bob)
    await socket.subscribed()

    await bob_page.context.set_offline(True)
    await socket.wait("a close", lambda: socket.closed == 1)
    await rest.add_member(alice, board["id"], bob, "viewer")
    await bob_page.context.set_offline(False)
    # Reconnected: subscribed again, and the one it missed refetched over REST, counted once.
    await socket.subscribed(times=2)
    await expect(bob_page.get_by_test_id("notifications-badge")).to_have_text("1", timeout=LIVE_WITHIN_MS)
    assert not socket.of_type("notification"), "missed while offline: it can only come from the refetch"
    await bob_page.get_by_test_id("notifications-bell").click()
    items = bob_page.get_by_test_id("notifications-panel").get_by_test_id("notification")
    await expect(items).to_have_count(1)
    await expect(items.nth(0)).to_contain_text("Alice added you to Launch as a viewer")

    # The member.added one leads to the board.
    await items.nth(0).get_by_role("link").click()
    await expect(bob_page.get_by_test_id("board-name")).to_have_text("Launch")
    await expect(bob_page.get_by_test_id("notifications-badge")).to_be_hidden()


async def test_load_more_brings_older_pages_and_keeps_keyboard_focus(people, rest) -> None:
    alice = await rest.register("Alice")
    bob = await rest.register("Bob")
    board = await rest.board(alice, "Launch")
    await rest.add_member(alice, board["id"], bob, "editor")
    for number in range(1, 22):
        await rest.task(alice, board["id"], f"Task {number}", assignees=[bob.id])
    bob_page = await people.page("bob")
    await sign_in(bob_page, bob)
    await expect(bob_page.get_by_test_id("notifications-badge")).to_have_text("22")

    await bob_page.get_by_test_id("notifications-bell").click()
    panel = bob_page.get_by_test_id("notifications-panel")
    items = panel.get_by_test_id("notification")
    await expect(items).to_have_count(20)  # a page
    await expect(items.nth(0)).to_contain_text("‘Task 21’")
    more = panel.get_by_role("button", name="Load more")
    await more.focus()
    await bob_page.keyboard.press("Enter")
    await expect(items).to_have_count(22)
    await expect(items.nth(21)).to_contain_text("Alice added you to Launch")
    await expect(more).to_be_hidden()
    await expect(items.nth(20).get_by_role("link")).to_be_focused()


async def test_without_smtp_the_preferences_page_says_no_email_is_sent(people, rest) -> None:
    # The session's dashboard has no TASKWIRE_SMTP_URL (tests/browser/test_email_pages.py's has).
    ada = await rest.register("Ada")
    page = await people.page("ada")
    await sign_in(page, ada)
    await page.get_by_test_id("preferences-link").click()
    await expect(page.get_by_role("heading", name="Notification preferences")).to_be_visible()
    await expect(page.get_by_test_id("email-disabled")).to_have_text(
        "This server sends no email (no SMTP server is configured), so notifications only reach you in the app."
    )
    await expect(page.get_by_label("You are assigned to a task: Email at once")).to_be_disabled()
    await expect(page.get_by_label("You are assigned to a task: In the app")).to_be_enabled()
