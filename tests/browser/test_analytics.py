"""The analytics page in Chromium: the sample history (tests/support/history.py), written
at controlled moments into the server's database before it starts, rendered as accessible
SVG charts whose data tables hold the exact figures; saved to docs/screenshots/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from app.factory import create_app
from app.settings import load_settings
from tests.browser.server import REPO_ROOT, SECRET_KEY, ServerProcess, dashboard_server
from tests.browser.support import DESKTOP, PASSWORD, Account, People, Rest, sign_in
from tests.support import apiclient
from tests.support.apiclient import Api
from tests.support.clock import ControlledClock
from tests.support.history import TITLES, History, write_flow_history

pytestmark = pytest.mark.browser

RANGE = "from=2026-01-05&to=2026-01-18"


async def register(api: Api, name: str) -> apiclient.Account:
    """With the password the browser helpers sign in with."""
    email = f"{name.split()[0].lower()}@example.test"
    status, body = await api.call(
        "POST", "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name}
    )
    assert status == 201, body
    return apiclient.Account(body["user"]["id"], email, name, body["access_token"], body["refresh_token"])


async def seed(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[apiclient.Account, History]:
    settings = load_settings().model_copy(
        update=dict(
            data_dir=data_dir,
            database_url=f"sqlite:///{data_dir / 't.db'}",
            redis_url="",
            secret_key=SECRET_KEY,
            argon2_time_cost=1,
            argon2_memory_kib=1024,
        )
    )
    app = create_app(settings)
    async with app.test_app():
        api = Api(app.test_client())
        alice, bob = [await register(api, name) for name in ("Alice Moreau", "Bob Okafor")]
        with monkeypatch.context() as patch:
            history = await write_flow_history(api, ControlledClock(patch, "2026-01-05T08:00:00Z"), alice, bob)
    return alice, history


@pytest.fixture
async def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[ServerProcess, Account, str]]:
    alice, history = await seed(tmp_path, monkeypatch)
    with dashboard_server(tmp_path) as server:
        yield server, Account(alice.id, alice.name, alice.email, alice.access_token), history.board


async def table(page: Page, testid: str) -> list[list[str]]:
    figure = page.get_by_test_id(testid)
    await figure.get_by_text("Data table").click()
    rows = figure.locator("tbody tr")
    return [
        [cell.strip() for cell in await rows.nth(i).locator("th, td").all_inner_texts()]
        for i in range(await rows.count())
    ]


async def test_the_analytics_page_charts_the_board_with_its_data_tables(chromium: Browser, seeded) -> None:
    server, alice, board = seeded
    crowd = People(chromium, server.url)
    try:
        page = await crowd.page("alice", viewport={**DESKTOP, "height": 1500})
        await sign_in(page, alice, f"/boards/{board}")
        await page.get_by_test_id("analytics-link").click()
        await expect(page.get_by_role("heading", name="Analytics · Website relaunch")).to_be_visible()
        await page.get_by_label("From", exact=True).fill("2026-01-05")
        await page.get_by_label("To", exact=True).fill("2026-01-18")
        await page.get_by_role("button", name="Show").click()
        await expect(page).to_have_url(f"{server.url}/boards/{board}/analytics?{RANGE}")
        await expect(page.get_by_test_id("overdue")).to_contain_text(TITLES["D"])

        # Each chart is an image with a title and a description, and a table behind it.
        charts = page.locator("figure.chart-figure svg[role=img]")
        await expect(charts).to_have_count(6)
        for i in range(6):
            chart = charts.nth(i)
            labelled = (await chart.get_attribute("aria-labelledby") or "").split()
            assert len(labelled) == 2
            assert await chart.locator(":scope > title").text_content()
            assert await chart.locator(":scope > desc").text_content()
        assert await page.evaluate("document.querySelectorAll('script[src^=http], link[href^=http]').length") == 0

        assert await table(page, "chart-throughput") == [["01-05", "3"], ["01-12", "2"]]
        assert await table(page, "chart-lead") == [["01-05", "72", "96"], ["01-12", "143.5", "215"]]
        assert await table(page, "chart-cycle") == [["01-05", "24", "72"], ["01-12", "12", "24"]]
        assert await table(page, "chart-wip-column") == [["To do", "1"], ["In progress", "2"]]
        assert await table(page, "chart-wip-assignee") == [
            ["Alice Moreau", "2"],
            ["Bob Okafor", "1"],
            ["Unassigned", "1"],
        ]
        flow = await table(page, "chart-flow")
        assert flow[0] == ["01-05", "0", "1", "4"] and flow[-1] == ["01-18", "5", "2", "1"]  # Done, In progress, To do
        await page.get_by_test_id("chart-flow").get_by_text("Data table").click()  # closed again for the picture
        for testid in ("chart-throughput", "chart-lead", "chart-cycle", "chart-wip-column", "chart-wip-assignee"):
            await page.get_by_test_id(testid).get_by_text("Data table").click()
        await page.screenshot(path=REPO_ROOT / "docs" / "screenshots" / "analytics.png", full_page=True)

        # A change on the board reaches the page, which reads the figures again.
        seq = int(await page.get_by_test_id("analytics").locator(".analytics-body").get_attribute("data-seq") or 0)
        rest = Rest(server.url)
        await rest.task(alice, board, "Brand-new task")
        await rest.close()
        await expect(page.get_by_test_id("analytics").locator(".analytics-body")).to_have_attribute(
            "data-seq", str(seq + 1)
        )
    finally:
        await crowd.close()
    crowd.assert_no_errors()
