"""Helpers for the dashboard tests: a REST client for setting up data quickly, signing in
through the UI, and the console guard that fails a test on any console or page error."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Locator,
    Page,
    expect,
)

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@dataclass
class Account:
    id: str
    name: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Rest:
    """The v1 REST API, for arranging what a test needs faster than through the UI."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.AsyncClient(base_url=f"{base_url}/api/v1", timeout=10)

    async def close(self) -> None:
        await self.client.aclose()

    async def call(self, method: str, path: str, account: Account | None = None, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, headers=account.headers if account else None, **kwargs)
        assert response.status_code < 400, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    async def register(self, name: str) -> Account:
        email = f"{name.lower().replace(' ', '.')}.{next(_numbers)}.{id(self) % 100000}@example.test"
        body = await self.call("POST", "/auth/register", json={"email": email, "password": PASSWORD, "name": name})
        return Account(body["user"]["id"], name, email, body["access_token"])

    async def board(self, owner: Account, name: str, **extra: Any) -> dict:
        return await self.call("POST", "/boards", owner, json={"name": name, **extra})

    async def add_member(self, owner: Account, board_id: str, member: Account, role: str = "editor") -> None:
        await self.call("POST", f"/boards/{board_id}/members", owner, json={"email": member.email, "role": role})

    async def task(self, account: Account, board_id: str, title: str, **fields: Any) -> dict:
        return await self.call("POST", f"/boards/{board_id}/tasks", account, json={"title": title, **fields})

    async def tasks(self, account: Account, board_id: str) -> list[dict]:
        return (await self.call("GET", f"/boards/{board_id}/tasks", account, params={"limit": 200}))["items"]

    async def get_task(self, account: Account, task_id: str) -> dict:
        return await self.call("GET", f"/tasks/{task_id}", account)

    async def patch_task(self, account: Account, task: dict, **changes: Any) -> dict:
        return await self.call("PATCH", f"/tasks/{task['id']}", account, json={"version": task["version"], **changes})


@dataclass
class ConsoleGuard:
    """Collects console errors and uncaught page errors; `allowed` are regexes for errors a
    test provokes on purpose (e.g. the browser's own log line for an expected 409)."""

    label: str
    allowed: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if any(re.search(pattern, message.text) for pattern in self.allowed):
            return
        location = message.location or {}
        self.problems.append(f"[{self.label}] console error: {message.text} ({location.get('url', '')})")

    def _on_page_error(self, error: Error) -> None:
        self.problems.append(f"[{self.label}] page error: {error}")


async def sign_in(page: Page, account: Account, path: str = "/") -> None:
    """Sign in through the form shown at `path`, landing on that view."""
    await page.goto(path)
    await page.get_by_label("Email").fill(account.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_test_id("sign-out")).to_be_visible()


async def open_board(page: Page, account: Account, board_id: str) -> None:
    await sign_in(page, account, f"/boards/{board_id}")
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")


def card(scope: Page | Locator, title: str) -> Locator:
    """The card of the task titled `title` within a page or a column."""
    page = scope if isinstance(scope, Page) else scope.page
    return scope.get_by_test_id("card").filter(has=page.get_by_role("button", name=f"Open task: {title}", exact=True))


async def eventually(probe: Callable[[], Awaitable[Any]], expected: Any, timeout: float = 5.0) -> None:
    """Poll `probe` (e.g. a REST read) until it returns `expected`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await probe()) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"still {value!r}, expected {expected!r}"
        await asyncio.sleep(0.05)


def column(page: Page, status: str) -> Locator:
    return page.get_by_test_id(f"column-{status}")


CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ACTION_TIMEOUT_MS = 5000


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

    def assert_no_errors(self) -> None:
        problems = [problem for guard in self.guards for problem in guard.problems]
        assert not problems, "the dashboard logged errors:\n" + "\n".join(problems)


@asynccontextmanager
async def watched_people(browser: Browser, base_url: str) -> AsyncIterator[People]:
    """People on the server at ``base_url``; any console or page error they met fails the
    test once they are gone."""
    crowd = People(browser, base_url)
    try:
        yield crowd
    finally:
        await crowd.close()
    crowd.assert_no_errors()
