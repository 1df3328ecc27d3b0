"""Stream tickets: a browser's EventSource cannot send an Authorization header, so it opens
a board's event stream with a single-use ticket from an authenticated POST. Real server on
a socket; the ticket must work once, for its board only, briefly, and never be logged."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from app.services import stream_tickets
from tests.realtime.conftest import LiveApp
from tests.realtime.sse_client import SseStream
from tests.support.apiclient import Account


async def _ticket(live: LiveApp, account: Account, board: str) -> str:
    status, body = await live.api.call("POST", f"/api/v1/boards/{board}/events/stream-ticket", account)
    assert status == 201, body
    assert body["expires_in"] == 30
    ticket: str = body["ticket"]
    return ticket


async def _open(live: LiveApp, board: str, ticket: str, **options) -> SseStream:
    return await SseStream.open(f"http://127.0.0.1:{live.port}", board, None, ticket=ticket, **options)


async def _refusal(stream: SseStream) -> tuple[int, str]:
    body = await stream.response.aread()
    await stream.close()
    return stream.response.status_code, json.loads(body)["error"]["code"]


async def test_a_ticket_opens_the_stream_once(live: LiveApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="taskwire")
    alice = await live.api.register()
    board = alice.personal_board
    ticket = await _ticket(live, alice, board)
    stream = await _open(live, board, ticket)
    assert stream.response.status_code == 200
    await stream.until("subscribed")
    await live.api.task(alice, board, "over a ticket")
    (event,) = await stream.events(1)
    assert event.data["data"]["title"] == "over a ticket"

    # EventSource reconnects with the same URL: a spent ticket opens nothing.
    again = await _open(live, board, ticket, last_event_id=event.id)
    assert await _refusal(again) == (401, "invalid_ticket")
    await stream.close()
    # The request log names the path only: the ticket is in no log line.
    logged = [record.getMessage() + repr(record.__dict__) for record in caplog.records]
    assert any("/events/stream" in line for line in logged)
    assert not [line for line in logged if ticket in line]


async def test_a_ticket_is_for_its_board_and_its_reader_only(live: LiveApp) -> None:
    alice = await live.api.register()
    mallory = await live.api.register()
    other = (await live.api.board(alice))["id"]
    ticket = await _ticket(live, alice, alice.personal_board)
    assert await _refusal(await _open(live, other, ticket)) == (401, "invalid_ticket")
    # ... and a ticket tried on the wrong board is spent all the same
    assert await _refusal(await _open(live, alice.personal_board, ticket)) == (401, "invalid_ticket")

    status, body = await live.api.call("POST", f"/api/v1/boards/{alice.personal_board}/events/stream-ticket", mallory)
    assert (status, body["error"]["code"]) == (404, "board_not_found")
    status, body = await live.api.call("POST", f"/api/v1/boards/{alice.personal_board}/events/stream-ticket")
    assert status == 401


async def test_made_up_expired_and_revoked_tickets_open_nothing(live: LiveApp, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = await live.api.register()
    board = alice.personal_board
    assert await _refusal(await _open(live, board, "x" * 43)) == (401, "invalid_ticket")
    assert await _refusal(await _open(live, board, "short")) == (401, "invalid_ticket")
    assert await _refusal(await _open(live, board, "x" * 5000)) == (401, "invalid_ticket")

    monkeypatch.setattr(stream_tickets, "TICKET_TTL_SECONDS", 0.05)
    stale = await _ticket(live, alice, board)
    await asyncio.sleep(0.2)
    assert await _refusal(await _open(live, board, stale)) == (401, "invalid_ticket")
    monkeypatch.undo()

    # Signing out between the POST and the GET: the credential behind the ticket is checked again.
    ticket = await _ticket(live, alice, board)
    status, _ = await live.api.call("POST", "/api/v1/auth/logout", alice, json={"refresh_token": alice.refresh_token})
    assert status == 204
    status, code = await _refusal(await _open(live, board, ticket))
    assert status == 401 and code != "invalid_ticket"
