"""Two-factor sign-in and the instance administrator in the dashboard, in Chromium: enrol
by QR code (the screenshot in docs/screenshots/), sign in with a recovery code, and an
administrator disabling an account whose open board is then signed out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Browser, expect

from tests.browser.server import REPO_ROOT, ServerProcess, dashboard_server
from tests.browser.support import DESKTOP, PASSWORD, Account, People, Rest, open_board, sign_in, watched_people

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
REFUSED = "status of 401"  # the sign-in asking for the code, and a disabled account's calls


async def test_enrolling_by_qr_code_and_signing_in_with_a_recovery_code(people: People, rest: Rest) -> None:
    alice = await rest.register("Alice Moreau")
    page = await people.page("alice", viewport=DESKTOP, allowed=(REFUSED,))
    await sign_in(page, alice)
    await page.get_by_test_id("account-link").click()
    section = page.get_by_test_id("two-factor")
    await expect(section.get_by_test_id("two-factor-state")).to_have_text("Off")
    await section.get_by_label("Your password").fill(PASSWORD)
    await section.get_by_role("button", name="Set up two-factor sign-in").click()
    await expect(section.get_by_test_id("enrol-qr")).to_be_visible()
    assert await section.get_by_test_id("enrol-qr").evaluate("img => img.naturalWidth > 0")
    secret = await section.get_by_test_id("enrol-secret").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Down to the end of the two-factor section: what follows depends on who else signed up.
    box = await section.bounding_box()
    clip = {"x": 0, "y": 0, "width": DESKTOP["width"], "height": box["y"] + box["height"] + 24}
    await page.screenshot(path=str(SCREENSHOTS / "two-factor-enrolment.png"), clip=clip)

    await section.get_by_test_id("enrol-code").fill(pyotp.TOTP(secret).now())
    await section.get_by_role("button", name="Turn on").click()
    codes = section.get_by_test_id("recovery-codes").get_by_role("listitem")
    await expect(codes).to_have_count(10)
    recovery = await codes.nth(0).inner_text()
    await section.get_by_role("button", name="I have saved them").click()
    await expect(section.get_by_test_id("two-factor-state")).to_have_text("On · 10 recovery codes left")

    await page.get_by_test_id("sign-out").click()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await page.get_by_label("Email").fill(alice.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    code = page.get_by_test_id("two-factor-code")
    await expect(code).to_be_visible()
    await code.fill(recovery)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_test_id("sign-out")).to_be_visible()
    await page.get_by_test_id("account-link").click()
    await expect(page.get_by_test_id("two-factor-state")).to_have_text("On · 9 recovery codes left")


ADMIN_NAME = "Root Admin"


@pytest.fixture(scope="module")
def admin_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with dashboard_server(tmp_path_factory.mktemp("admin-dashboard"), ADMIN_EMAILS="root@example.test") as server:
        yield server


@pytest.fixture
async def admin_people(chromium: Browser, admin_dashboard: ServerProcess) -> AsyncIterator[People]:
    async with watched_people(chromium, admin_dashboard.url) as crowd:
        yield crowd


async def test_the_administrator_disables_an_account_and_its_open_board_signs_out(
    admin_people: People, admin_dashboard: ServerProcess
) -> None:
    rest = Rest(admin_dashboard.url)
    try:
        body = await rest.call(
            "POST", "/auth/register", json={"email": "root@example.test", "password": PASSWORD, "name": ADMIN_NAME}
        )
        bob = await rest.register("Bob Okafor")
        board = await rest.board(bob, "Roadmap")
    finally:
        await rest.close()
    root = Account(body["user"]["id"], ADMIN_NAME, "root@example.test", body["access_token"])
    bob_page = await admin_people.page("bob", allowed=(REFUSED, "WebSocket"))
    await open_board(bob_page, bob, board["id"])

    admin = await admin_people.page("root")
    await sign_in(admin, root, "/account")
    section = admin.get_by_test_id("admin")
    await expect(section.get_by_test_id("figures")).to_contain_text("2")
    row = section.get_by_test_id("account-row").filter(has_text="Bob Okafor")
    await row.get_by_role("button", name="Disable").click()
    await expect(row).to_contain_text("Disabled")
    # Bob's socket is closed with the session, and the dashboard falls back to signing in.
    await expect(bob_page.get_by_role("button", name="Sign in")).to_be_visible(timeout=10_000)

    await row.get_by_role("button", name="Enable").click()
    await expect(row).to_contain_text("Active")
    registration = section.get_by_test_id("registration-open")
    await expect(registration).to_be_checked()
    # The reload must come after the server has the change, not merely the checkbox.
    async with admin.expect_response(lambda r: r.url.endswith("/admin/instance") and r.request.method == "PATCH"):
        await registration.uncheck()
    await expect(registration).not_to_be_checked()
    await admin.reload()
    await expect(admin.get_by_test_id("registration-open")).not_to_be_checked()  # kept by the server


async def test_downloading_your_data_and_deleting_the_account_with_a_hand_over(people: People, rest: Rest) -> None:
    zelda = await rest.register("Zelda Quixote")
    bob = await rest.register("Bob Okafor")
    board = await rest.board(zelda, "Garden plans")
    await rest.add_member(zelda, board["id"], bob, "editor")
    # 409: the server asks about the board; 401: the live socket's last refresh, account gone.
    page = await people.page("zelda", viewport=DESKTOP, allowed=("status of 409", "status of 401"))
    await sign_in(page, zelda, "/account")

    async with page.expect_download() as download_info:
        await page.get_by_test_id("export").click()
    download = await download_info.value
    exported = json.loads(Path(await download.path()).read_text())
    assert exported["user"]["email"] == zelda.email
    assert {b["name"] for b in exported["boards"]} >= {"Garden plans"}

    form = page.get_by_test_id("delete-account")
    await form.get_by_label("Current password").fill(PASSWORD)
    await form.get_by_role("button", name="Delete my account").click()
    choice = form.get_by_label("“Garden plans” (you alone own it)")
    await expect(choice).to_have_value(bob.id)  # handing over to Bob is offered first
    await form.get_by_role("button", name="Delete my account").click()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    members = await rest.call("GET", f"/boards/{board['id']}/members", bob)
    assert [(m["name"], m["role"]) for m in members["items"]] == [("Bob Okafor", "owner")]
