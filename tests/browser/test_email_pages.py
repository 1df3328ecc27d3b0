"""Email from the dashboard's side, in Chromium against a server that mails a real SMTP
server: a forgotten password reset end to end from the sign-in page; the preferences
page saved as a person would; watch/unwatch on the board and the task; a reminder in the
bell; a new email from the account page, waiting for the link emailed to it. Saves
docs/screenshots/preferences.png, and an email as Chromium renders it,
docs/screenshots/email.png."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, expect

from tests.browser.server import REPO_ROOT, ServerProcess, dashboard_server
from tests.browser.support import PASSWORD, People, Rest, sign_in, watched_people
from tests.support.smtp import SmtpSink, smtp_sink

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with smtp_sink() as server:
        yield server


@pytest.fixture(scope="module")
def mail_dashboard(tmp_path_factory: pytest.TempPathFactory, sink: SmtpSink) -> Iterator[ServerProcess]:
    settings = {
        "SMTP_URL": sink.url(),
        "MAIL_FROM": "Taskwire <notify@taskwire.example>",
        "MAIL_POLL_INTERVAL": "0.1",
        "SCHEDULER_INTERVAL": "0.2",
    }
    with dashboard_server(tmp_path_factory.mktemp("mail-dashboard"), **settings) as server:
        yield server


@pytest.fixture
async def rest(mail_dashboard: ServerProcess) -> AsyncIterator[Rest]:
    client = Rest(mail_dashboard.url)
    yield client
    await client.close()


@pytest.fixture
async def people(chromium: Browser, mail_dashboard: ServerProcess) -> AsyncIterator[People]:
    async with watched_people(chromium, mail_dashboard.url) as crowd:
        yield crowd


def link_path(text: str, path: str) -> str:
    """The path and query of the first link to ``path`` in an email's text (its host is
    TASKWIRE_PUBLIC_URL's, not this test server's)."""
    start = text.index(path + "?")
    url = urlsplit("http://x" + text[start:].split()[0])
    return f"{url.path}?{url.query}"


async def test_a_forgotten_password_is_reset_from_the_sign_in_page(people: People, rest: Rest, sink: SmtpSink) -> None:
    bob = await rest.register("Bob Okafor")
    # Signing in with the old password is refused on purpose: Chromium logs the 401.
    page = await people.page("bob", allowed=(r"status of 401",))
    await page.goto("/signin")
    await page.get_by_role("link", name="Forgot your password?").click()
    await page.get_by_label("Email").fill(bob.email)
    await page.get_by_role("button", name="Email me a link").click()
    await expect(page.get_by_test_id("reset-sent")).to_contain_text("a link to reset its password is on its way")

    await sink.wait_for(lambda: len(sink.to(bob.email)) == 1)
    [mail] = sink.to(bob.email)
    assert mail.message["Subject"] == "Reset your Taskwire password"
    await page.goto(link_path(mail.part("plain"), "/reset-password"))
    await page.get_by_role("textbox", name="New password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Set new password").click()
    await expect(page).to_have_url(f"{people.base_url}/signin")
    await expect(page.get_by_text("Your password is changed. Sign in with it.")).to_be_visible()

    await page.get_by_label("Email").fill(bob.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("The email or password is wrong.")
    await page.get_by_label("Password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_test_id("sign-out")).to_be_visible()
    # The session Bob had before the reset has ended.
    response = await rest.client.get("/users/me", headers=bob.headers)
    assert response.status_code == 401


async def test_preferences_are_saved_from_their_page(people: People, rest: Rest) -> None:
    ada = await rest.register("Ada Lovelace")
    page = await people.page("ada", viewport={"width": 1000, "height": 860})
    await sign_in(page, ada)
    await page.get_by_test_id("preferences-link").click()
    await expect(page.get_by_role("heading", name="Notification preferences")).to_be_visible()
    await page.get_by_label("You are assigned to a task: Email at once").uncheck()
    await expect(page.get_by_test_id("email-disabled")).to_have_count(0)  # the form is there: this server mails
    await page.get_by_label("Changes to what you watch: Email at once").check()
    await page.get_by_label("Time zone").select_option("Europe/Paris")
    await page.get_by_label("Hold emails during quiet hours").check()
    await page.get_by_label("From").fill("21:30")
    await page.get_by_label("Until").fill("07:15")
    await page.get_by_label("Remind me before a due date").select_option(label="3 hours")
    await page.get_by_test_id("save-preferences").click()
    await expect(page.get_by_text("Preferences saved.")).to_be_visible()
    saved = await rest.call("GET", "/preferences", ada)
    assert saved["channels"]["assigned"] == ["app"]
    assert saved["channels"]["changed"] == ["app", "email", "digest"]
    assert saved["channels"]["watched"] == ["app", "digest"]
    assert (saved["time_zone"], saved["quiet_start"], saved["quiet_end"]) == ("Europe/Paris", "21:30", "07:15")
    assert saved["reminder_lead_minutes"] == 180
    await page.reload()
    await expect(page.get_by_label("Time zone")).to_have_value("Europe/Paris")
    await expect(page.get_by_label("You are assigned to a task: Email at once")).not_to_be_checked()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "preferences.png"), full_page=True)


async def test_watching_the_board_and_a_task_and_a_reminder_in_the_bell(
    people: People, rest: Rest, sink: SmtpSink, tmp_path: Path
) -> None:
    ada, bob = await rest.register("Ada Lovelace"), await rest.register("Bob Okafor")
    board = await rest.board(ada, "Website launch")
    await rest.add_member(ada, board["id"], bob)
    due = (datetime.now(UTC) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    task = await rest.task(ada, board["id"], "Write launch announcement", assignees=[bob.id], due_at=due)

    page = await people.page("bob")
    await sign_in(page, bob, f"/boards/{board['id']}")
    watch_board = page.get_by_test_id("watch-board")
    await expect(watch_board).to_have_text("Watch")
    await watch_board.click()
    await expect(watch_board).to_have_attribute("aria-pressed", "true")
    assert await rest.call("GET", f"/boards/{board['id']}/watch", bob) == {"watching": True}

    await page.get_by_role("button", name="Open task: Write launch announcement").click()
    watch_task = page.get_by_test_id("watch-task")
    await expect(watch_task).to_have_text("Watching")  # the assignee watches by default
    await watch_task.click()
    await expect(watch_task).to_have_text("Watch")
    assert await rest.call("GET", f"/tasks/{task['id']}/watch", bob) == {"watching": False}
    await page.keyboard.press("Escape")

    # Due in three hours, within Bob's day of lead time: the reminder reaches the bell.
    await page.get_by_test_id("notifications-bell").click()
    reminder = page.get_by_test_id("notification").filter(has_text="is due")
    await expect(reminder).to_contain_text("‘Write launch announcement’ on Website launch is due")
    await sink.wait_for(lambda: any(r.message["X-Taskwire-Kind"] == "due_soon" for r in sink.to(bob.email)))

    # Changes reach a watcher's bell live: a task added to the board he watches and its
    # new title and priority; not the task he stopped watching.
    await rest.call("PATCH", f"/tasks/{task['id']}", ada, json={"title": "Write the announcement", "version": 1})
    venue = await rest.task(ada, board["id"], "Book the venue")
    await expect(page.get_by_test_id("notification").filter(has_text="added ‘Book the venue’")).to_contain_text(
        "Ada Lovelace added ‘Book the venue’ to Website launch"
    )
    changes = {"title": "Book the hall", "priority": "high", "version": venue["version"]}
    await rest.call("PATCH", f"/tasks/{venue['id']}", ada, json=changes)
    changed = page.get_by_test_id("notification").filter(has_text="changed the")
    await expect(changed).to_contain_text(
        "Ada Lovelace changed the title and priority of ‘Book the hall’ on Website launch"
    )
    await expect(changed).to_have_count(1)

    # The assignment email, as a mail program shows its HTML part.
    [assigned] = [r for r in sink.to(bob.email) if r.message["X-Taskwire-Kind"] == "assigned"]
    email_page = await people.page("mail reader", viewport={"width": 720, "height": 640})
    await email_page.set_content(assigned.part("html"))
    await expect(email_page.get_by_role("link", name="Open the task")).to_be_visible()
    await expect(email_page.get_by_role("heading")).to_have_text(
        "Ada Lovelace assigned you to “Write launch announcement”"
    )
    await email_page.screenshot(path=str(SCREENSHOTS / "email.png"), full_page=True)


async def test_a_new_email_waits_on_the_account_page_until_its_link_is_followed(
    people: People, rest: Rest, sink: SmtpSink
) -> None:
    bob = await rest.register("Bob Okafor")
    page = await people.page("bob")
    await sign_in(page, bob, "/account")
    state = page.get_by_test_id("email-state")
    await expect(state).to_contain_text(bob.email)
    form = page.get_by_test_id("change-email")
    await form.get_by_label("New email").fill("bob.moved@example.test")
    await form.get_by_label("Current password").fill(PASSWORD)
    await form.get_by_role("button", name="Change email").click()
    await expect(page.get_by_test_id("pending-email")).to_contain_text("moving to bob.moved@example.test")
    await expect(state).to_contain_text(bob.email)

    await sink.wait_for(lambda: sink.to("bob.moved@example.test") and sink.to(bob.email))
    [notice] = sink.to(bob.email)
    assert "bob.moved@example.test" in notice.part("plain")
    await page.reload()  # still waiting, as the server says
    await expect(page.get_by_test_id("pending-email")).to_contain_text("bob.moved@example.test")

    [mail] = sink.to("bob.moved@example.test")
    await page.goto(link_path(mail.part("plain"), "/verify-email"))
    await expect(page.get_by_test_id("verify-status")).to_contain_text("bob.moved@example.test is confirmed")
    await page.goto("/account")
    await expect(page.get_by_test_id("email-state")).to_contain_text("bob.moved@example.test · confirmed")
    await expect(page.get_by_test_id("pending-email")).to_have_count(0)
