"""The installable dashboard in Chromium: the manifest and icons, a service worker that
serves the app shell and its modules with no network, and a new release that installs in
the background, takes over on the next load and says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.server import ServerProcess, dashboard_server
from tests.browser.support import People, Rest, eventually, sign_in
from tests.support.services import free_port

pytestmark = pytest.mark.browser


async def controlled(page: Page) -> None:
    """Until the service worker controls the page (wait_for_function would eval, which the CSP forbids)."""
    await eventually(lambda: page.evaluate("navigator.serviceWorker.controller !== null"), True, timeout=10)


async def cache_names(page: Page) -> list[str]:
    names: list[str] = await page.evaluate("caches.keys()")
    return names


async def test_the_manifest_names_the_app_and_its_icons(people, dashboard: ServerProcess) -> None:
    page = await people.page("visitor")
    await page.goto("/")
    assert await page.locator("link[rel=manifest]").get_attribute("href") == "/manifest.webmanifest"
    response = await page.request.get("/manifest.webmanifest")
    assert response.headers["content-type"] == "application/manifest+json"
    manifest = await response.json()
    assert (manifest["name"], manifest["start_url"], manifest["display"]) == ("Taskwire", "/", "standalone")
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        fetched = await page.request.get(icon["src"])
        assert fetched.status == 200 and fetched.headers["content-type"].startswith(icon["type"]), icon


async def test_the_dashboard_opens_with_no_network(people, rest: Rest) -> None:
    alice = await rest.register("Alice")
    page = await people.page("alice")
    await sign_in(page, alice)
    await controlled(page)
    [cache] = await cache_names(page)
    cached = await page.evaluate(f"caches.open({cache!r}).then((c) => c.keys()).then((r) => r.map((q) => q.url))")
    paths = {url.split("/", 3)[3] for url in cached}
    assert {"", "static/app/main.js", "static/app/board/view.js", "static/app.css"} <= paths
    assert not [path for path in paths if path.startswith("api/")]  # data is never cached here

    await page.context.set_offline(True)
    await page.reload()
    # The shell and every module came from the worker: the app runs and says where it is.
    await expect(page.get_by_role("link", name="Taskwire")).to_be_visible()
    await expect(page.locator("#main")).not_to_contain_text("Loading")
    await page.context.set_offline(False)


async def test_a_new_release_takes_over_on_the_next_load_and_says_so(chromium: Browser, tmp_path: Path) -> None:
    port = free_port()
    with dashboard_server(tmp_path, port=port, RELEASE="2026.1") as server:
        rest = Rest(server.url)
        alice = await rest.register("Alice")
        await rest.close()
        crowd = People(chromium, server.url)
        # Between the two servers the open page finds nobody at the address.
        page = await crowd.page("alice", allowed=("ERR_CONNECTION_REFUSED",))
        await sign_in(page, alice)
        await controlled(page)
        await expect(page.locator("html")).to_have_attribute("data-version", "2026.1")
        [old_cache] = await cache_names(page)

    # The operator deploys a new release on the same address while the page stays open.
    with dashboard_server(tmp_path, port=port, RELEASE="2026.2"):
        try:
            # This load is still served by 2026.1 (unless the new worker was quicker): the new
            # worker installs and takes over the cache, and the open page says it is ready.
            await page.reload()
            await expect(page.get_by_test_id("sign-out")).to_be_visible()
            await expect(page.locator("html[data-version]")).to_have_count(1)
            if await page.locator("html").get_attribute("data-version") == "2026.1":
                await expect(page.locator("html")).to_have_attribute("data-update", "ready")
                await expect(page.get_by_text("A new version of Taskwire is ready")).to_be_visible()
                await page.reload()  # the next load runs 2026.2 and says so
            await expect(page.locator("html")).to_have_attribute("data-version", "2026.2")
            await expect(page.get_by_text("Taskwire was updated to version 2026.2.")).to_be_visible()
            await expect(page.get_by_test_id("sign-out")).to_be_visible()
            [new_cache] = await cache_names(page)
            assert new_cache != old_cache  # the old version's files are gone
        finally:
            await crowd.close()
    crowd.assert_no_errors()
