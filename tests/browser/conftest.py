"""Dashboard fixtures: one real server process and one Chromium for the session; every test
gets fresh browser contexts (separate cookie jars: separate people), each page watched by a
console guard. Any console error or page error fails the test at teardown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.browser.server import ServerProcess, dashboard_server
from tests.browser.support import CHROMIUM, LAUNCH_ARGS, People, Rest, watched_people


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


@pytest.fixture
async def people(chromium: Browser, dashboard: ServerProcess) -> AsyncIterator[People]:
    async with watched_people(chromium, dashboard.url) as crowd:
        yield crowd
