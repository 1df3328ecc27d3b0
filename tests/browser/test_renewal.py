"""The dashboard's live socket outlives its access token: told ``auth.expiring``, it
refreshes and renews in-band, so it is never closed with 4401 and never reconnects.
Access tokens live 10 s here (the shortest the setting allows)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from playwright.async_api import WebSocket, expect

from tests.browser.server import dashboard_server
from tests.browser.support import PASSWORD, People, Rest, card, open_board

pytestmark = pytest.mark.browser

TOKEN_SECONDS = 10


async def test_a_live_board_renews_its_socket_in_band_and_stays_live_past_the_token(chromium, tmp_path) -> None:
    with dashboard_server(tmp_path, ACCESS_TOKEN_TTL=str(TOKEN_SECONDS)) as server:
        rest = Rest(server.url)
        crowd = People(chromium, server.url)
        try:
            alice = await rest.register("Alice")
            bob = await rest.register("Bob")
            board = await rest.board(alice, "Launch")
            await rest.add_member(alice, board["id"], bob, "editor")
            page = await crowd.page("bob")
            received: list[dict] = []
            sockets: list[WebSocket] = []

            def watch(socket: WebSocket) -> None:
                sockets.append(socket)
                socket.on(
                    "framereceived",
                    lambda frame: received.extend(json.loads(line) for line in str(frame).splitlines() if line.strip()),
                )

            page.on("websocket", watch)
            await open_board(page, bob, board["id"])
            for _ in range(2 * TOKEN_SECONDS * 10):  # two renewals: the second token ran out too
                if sum(message["type"] == "auth.renewed" for message in received) >= 2:
                    break
                await page.wait_for_timeout(100)
            kinds = [message["type"] for message in received]
            assert kinds.count("auth.renewed") >= 2, kinds
            assert kinds.count("ready") == 1 and len(sockets) == 1 and not sockets[0].is_closed()

            login = await rest.call("POST", "/auth/login", json={"email": alice.email, "password": PASSWORD})
            alice = dataclasses.replace(alice, token=login["access_token"])
            await rest.task(alice, board["id"], "Still live")
            await expect(card(page, "Still live")).to_be_visible()
            await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
        finally:
            await crowd.close()
            await rest.close()
        crowd.assert_no_errors()
