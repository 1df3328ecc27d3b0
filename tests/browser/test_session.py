"""Signing up, in and out; the refresh token stays in an HttpOnly cookie and a reload
restores the session through it; the access token is refreshed before it expires."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.support import PASSWORD, sign_in

pytestmark = pytest.mark.browser


async def test_sign_up_reload_sign_out_and_sign_in_again(people) -> None:
    page = await people.page("newcomer")
    response = await page.goto("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    await expect(page.get_by_role("heading", name="Sign in to Taskwire")).to_be_visible()

    await page.get_by_role("link", name="Create an account").click()
    await expect(page).to_have_url(re.compile(r"/signup$"))
    await page.get_by_label("Name").fill("Nora Newcomer")
    await page.get_by_label("Email").fill("nora@example.test")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="Your boards")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.get_by_role("link", name=re.compile("My tasks"))).to_be_visible()

    cookie = next(c for c in await page.context.cookies() if c["name"] == "taskwire_refresh")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/api/v1/auth"
    assert await page.evaluate("document.cookie") == ""  # script never sees the refresh token

    async with page.expect_response("**/api/v1/auth/refresh") as refreshed:
        await page.reload()
    assert (await refreshed.value).status == 200
    await expect(page.get_by_role("heading", name="Your boards")).to_be_visible()

    await page.get_by_test_id("sign-out").click()
    await expect(page.get_by_role("heading", name="Sign in to Taskwire")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/signin$"))
    assert not [c for c in await page.context.cookies() if c["name"] == "taskwire_refresh"]
    await page.reload()  # signed out stays signed out, without a failing refresh call
    await expect(page.get_by_role("heading", name="Sign in to Taskwire")).to_be_visible()

    await page.get_by_label("Email").fill("nora@example.test")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Your boards")).to_be_visible()


async def test_the_access_token_is_refreshed_shortly_before_it_expires(people, rest) -> None:
    rita = await rest.register("Rita")
    page = await people.page("rita")
    await page.clock.install()
    await sign_in(page, rita)
    # Access tokens live 15 minutes; the dashboard refreshes a minute or more early.
    async with page.expect_response("**/api/v1/auth/refresh") as refreshed:
        await page.clock.fast_forward("14:00")
    assert (await refreshed.value).status == 200
    await page.get_by_role("link", name=re.compile("My tasks")).click()
    await expect(page.get_by_test_id("board-name")).to_have_text("My tasks")


async def test_a_board_link_opened_signed_out_lands_on_the_board_after_sign_in(people, rest) -> None:
    sam = await rest.register("Sam")
    board = await rest.board(sam, "Roadmap")
    page = await people.page("sam")
    await sign_in(page, sam, f"/boards/{board['id']}")
    await expect(page.get_by_test_id("board-name")).to_have_text("Roadmap")
    await expect(page).to_have_url(re.compile(f"/boards/{board['id']}$"))
