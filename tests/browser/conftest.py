"""Dashboard fixtures: one real server process and one Chromium for the session; every test
gets fresh browser contexts (separate cookie jars: separate people), each page watched by a
console guard. Any console error or page error fails the test at teardown."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.browser.server import ServerProcess, dashboard_server
from tests.browser.support import CHROMIUM, DESKTOP, LAUNCH_ARGS, ConsoleGuard, Rest

ACTION_TIMEOUT_MS = 5000


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with dashboard_server(tmp_path_factory.mktemp("dashboard")) as server:
        yield server


@pytest.fixture(scope="session")
async def chromium(dashboard: ServerProcess) -> AsyncIterator[Browser]:
    # Depends on the server so that it closes first: its idle keep-alive connections would
    # otherwise hold the server's graceful shutdown for the whole grace period.
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def rest(dashboard: ServerProcess) -> AsyncIterator[Rest]:
    client = Rest(dashboard.url)
    yield client
    await client.close()


class People:
    """Opens one browser context per person; remembers them for teardown and the guard."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []
        self.guards: list[ConsoleGuard] = []

    async def page(self, label: str, viewport: dict = DESKTOP, allowed: tuple[str, ...] = (), **options) -> Page:
        context = await self.browser.new_context(base_url=self.base_url, viewport=viewport, **options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        self.contexts.append(context)
        page = await context.new_page()
        guard = ConsoleGuard(label, allowed)
        guard.watch(page)
        self.guards.append(guard)
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest.fixture
async def people(chromium: Browser, dashboard: ServerProcess) -> AsyncIterator[People]:
    crowd = People(chromium, dashboard.url)
    yield crowd
    await crowd.close()
    problems = [problem for guard in crowd.guards for problem in guard.problems]
    assert not problems, "the dashboard logged errors:\n" + "\n".join(problems)
