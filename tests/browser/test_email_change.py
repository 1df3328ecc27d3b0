"""A new email from the account page, in Chromium against a server that mails a real SMTP
server: the page shows the address waiting for its link, the old address is told, and
following the link from the email moves the account."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, expect

from tests.browser.server import ServerProcess, dashboard_server
from tests.browser.support import PASSWORD, People, Rest, sign_in
from tests.browser.test_email_pages import link_path
from tests.support.smtp import SmtpSink, smtp_sink

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with smtp_sink() as server:
        yield server


@pytest.fixture(scope="module")
def mail_dashboard(tmp_path_factory: pytest.TempPathFactory, sink: SmtpSink) -> Iterator[ServerProcess]:
    settings = {"SMTP_URL": sink.url(), "MAIL_FROM": "Taskwire <notify@taskwire.example>", "MAIL_POLL_INTERVAL": "0.1"}
    with dashboard_server(tmp_path_factory.mktemp("email-change"), **settings) as server:
        yield server


@pytest.fixture
async def rest(mail_dashboard: ServerProcess) -> AsyncIterator[Rest]:
    client = Rest(mail_dashboard.url)
    yield client
    await client.close()


@pytest.fixture
async def people(chromium: Browser, mail_dashboard: ServerProcess) -> AsyncIterator[People]:
    crowd = People(chromium, mail_dashboard.url)
    yield crowd
    await crowd.close()
    crowd.assert_no_errors()


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
