"""Single sign-on end to end in Chromium: the sign-in page offers the provider (the
screenshot in docs/screenshots/), the provider's own login and consent pages, and back in
the dashboard signed in; a refused sign-in comes back to the sign-in page with the reason."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.server import REPO_ROOT, ServerProcess, dashboard_server
from tests.browser.support import DESKTOP, People
from tests.oidc.provider import OpenIDProvider, install

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def sso_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, OpenIDProvider]]:
    workdir = tmp_path_factory.mktemp("sso-dashboard")
    provider = OpenIDProvider(install(), workdir, redirect_uris=[])
    providers = json.dumps([provider.settings(name="Test IdP")])
    with dashboard_server(workdir, OIDC_PROVIDERS=providers) as server:
        provider.redirect_uris = [f"{server.url}/api/v1/auth/sso/testidp/callback"]
        provider.start()
        try:
            yield server, provider
        finally:
            provider.stop()


@pytest.fixture
async def people(chromium: Browser, sso_dashboard) -> AsyncIterator[People]:
    crowd = People(chromium, sso_dashboard[0].url)
    yield crowd
    await crowd.close()
    crowd.assert_no_errors()


async def provider_ready_page(people: People, label: str) -> Page:
    """A page whose console guard stays strict: the provider's own pages ask for a web font
    from the internet (unreachable here) and a favicon the provider does not have."""
    page = await people.page(label, viewport=DESKTOP)
    await page.route(re.compile(r"^https://fonts\."), lambda route: route.fulfill(content_type="text/css", body=""))
    await page.route(re.compile(r"/favicon\.ico$"), lambda route: route.fulfill(status=204))
    return page


async def sign_in_at_provider(page: Page, login: str) -> None:
    await page.locator("input[name=login]").fill(login)
    await page.locator("input[name=password]").fill("any password")
    await page.get_by_role("button", name="Sign-in").click()
    await page.get_by_role("button", name="Continue").click()


async def test_signing_in_with_the_provider_in_chromium(people: People) -> None:
    page = await provider_ready_page(people, "ada")
    await page.goto("/signin")
    button = page.get_by_role("link", name="Sign in with Test IdP")
    await expect(button).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "sso-sign-in.png"))

    await button.click()
    await sign_in_at_provider(page, "ada")
    await expect(page.get_by_test_id("sign-out")).to_be_visible()
    await expect(page.get_by_test_id("account-link")).to_have_text("Ada Lovelace")
    await expect(page.get_by_test_id("board-tile")).to_have_count(1)  # the new account's personal board
    assert "signed_in" not in page.url
    # The session outlives a reload, like a password sign-in's.
    await page.reload()
    await expect(page.get_by_test_id("account-link")).to_have_text("Ada Lovelace")


async def test_an_unverified_email_comes_back_to_the_sign_in_page_with_the_reason(people: People) -> None:
    page = await provider_ready_page(people, "mallory")
    await page.goto("/signin")
    await page.get_by_role("link", name="Sign in with Test IdP").click()
    await sign_in_at_provider(page, "mallory")
    await expect(page.get_by_role("alert")).to_contain_text("has not verified your email address")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()


async def test_an_account_without_a_password_sets_up_two_factor_sign_in_with_its_recent_sign_in(people: People) -> None:
    page = await provider_ready_page(people, "grace")
    await page.goto("/signin")
    await page.get_by_role("link", name="Sign in with Test IdP").click()
    await sign_in_at_provider(page, "grace")
    await expect(page.get_by_test_id("sign-out")).to_be_visible()
    await page.get_by_test_id("account-link").click()
    section = page.get_by_test_id("two-factor")
    await expect(section.get_by_test_id("reauth")).to_contain_text("a sign-in of the last 10 minutes")
    await expect(section.get_by_label("Your password")).to_have_count(0)
    await section.get_by_role("button", name="Set up two-factor sign-in").click()
    await expect(section.get_by_test_id("enrol-qr")).to_be_visible()
