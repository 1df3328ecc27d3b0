"""Webhooks against a real receiver: the real app (both stores, see tests/support/
app_fixtures.py) with its real delivery worker, timings shrunk, and 127.0.0.1 admitted as
a destination; a real HTTP server on loopback records what arrives."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from app.settings import Settings, load_settings
from tests.integrations.receiver import Receiver
from tests.support.apiclient import Account, Api
from tests.support.app_fixtures import SECRET

MAX_FAILURES = 4


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return load_settings().model_copy(
        update=dict(
            data_dir=tmp_path,
            database_url=database_url,
            redis_url="",
            secret_key=SECRET,
            webhook_allow_hosts=("127.0.0.1",),
            webhook_retry_base_seconds=0.02,
            webhook_retry_cap_seconds=0.1,
            webhook_max_failures=MAX_FAILURES,
            webhook_poll_seconds=0.2,
            webhook_lease_ttl_seconds=3.0,
            webhook_timeout_seconds=2.0,
        )
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def create_webhook(api: Api, account: Account, board_id: str, url: str, **fields: Any) -> dict:
    status, body = await api.call("POST", f"/api/v1/boards/{board_id}/webhooks", account, json={"url": url, **fields})
    assert status == 201, body
    return body


async def webhook_state(api: Api, account: Account, board_id: str, webhook_id: str) -> dict:
    status, body = await api.call("GET", f"/api/v1/boards/{board_id}/webhooks/{webhook_id}", account)
    assert status == 200, body
    return body


async def deliveries(
    api: Api, account: Account, board_id: str, webhook_id: str, at_least: int = 0, timeout: float = 10.0
) -> list[dict]:
    """The whole delivery log, oldest first, once it holds at least `at_least` entries: the
    worker writes an entry after the receiver has answered, so a test that saw the request
    arrive must still wait for its record."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        items = await _delivery_log(api, account, board_id, webhook_id)
        if len(items) >= at_least:
            return items
        assert asyncio.get_running_loop().time() < deadline, f"{len(items)} deliveries logged, wanted {at_least}"
        await asyncio.sleep(0.02)


async def _delivery_log(api: Api, account: Account, board_id: str, webhook_id: str) -> list[dict]:
    items, cursor = [], None
    while True:
        query = "?limit=200" + (f"&cursor={cursor}" if cursor else "")
        status, page = await api.call(
            "GET", f"/api/v1/boards/{board_id}/webhooks/{webhook_id}/deliveries{query}", account
        )
        assert status == 200, page
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            return list(reversed(items))


async def eventually(condition, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
