"""The API documentation page in a real browser: it renders the spec and asks for nothing
the server does not have (a page without an icon link makes Chromium ask for /favicon.ico)."""

from __future__ import annotations

import pytest
from playwright.async_api import Response, expect

pytestmark = pytest.mark.browser


async def test_the_docs_page_renders_and_every_request_it_makes_succeeds(people) -> None:
    page = await people.page("reader")
    failed: list[str] = []

    def check(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("response", check)
    await page.goto("/docs")
    await expect(page.locator(".opblock").first).to_be_visible()
    await page.wait_for_load_state("networkidle")
    assert failed == []
    icon = await page.evaluate("document.querySelector('link[rel=icon]').href")
    assert (await page.request.get(icon)).ok
