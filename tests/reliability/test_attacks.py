"""Hostile clients over REST, on both stores: forged and misused tokens, one tenant reaching
for another's data, query-operator injection, malformed and oversized bodies.

What a user would notice if any of these failed: someone else reading or changing their
board, or the service answering 5xx to a request it should simply refuse.
"""

from __future__ import annotations

import pytest

from tests.support.apiclient import Api


# -- malformed input: refused with 4xx, never a crash ------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/boards"])
async def test_a_body_that_is_not_utf8_is_refused_as_invalid_json(api: Api, path: str) -> None:
    account = await api.register()
    response = await api.client.post(path, data=b'{"name": "\xca\xfe"}', headers={
        **account.headers, "Content-Type": "application/json"})
    body = await response.get_json()
    assert response.status_code == 400 and body["error"]["code"] == "invalid_json"


async def test_an_event_cursor_beyond_64_bits_is_refused_not_a_crash(api: Api) -> None:
    account = await api.register()
    status, body = await api.call("GET", f"/api/v1/boards/{account.personal_board}/events?after={2**64}", account)
    assert status == 422 and body["error"]["code"] == "validation_error"
    status, body = await api.call("GET", f"/api/v1/boards/{account.personal_board}/events?after={2**63 - 1}", account)
    assert status == 200 and body["items"] == []
